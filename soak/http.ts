/**
 * Section "http": the differential test of weft's HTTP/1.1 request codec
 * against node:http (llhttp), at soak size (test/node/http_differential_test.ts
 * runs 2,000 cases; this runs 50,000 by default). Every case must agree, or
 * differ only where weft is stricter by a named RFC rule (or llhttp is, where
 * the RFC allows weft's answer).
 */
import { LlhttpOracle, describeCounts, loadWeftCodec, runDifferential } from "../test/node/http_differential_support.ts";
import { Section } from "./report.ts";

export async function soakHttp(cases: number, seed: number | undefined): Promise<boolean> {
  const section = new Section("http");
  const loaded = await loadWeftCodec();
  if ("missing" in loaded) {
    section.check(false, loaded.missing);
    return section.verdict();
  }
  const oracle = await LlhttpOracle.start();
  const t0 = performance.now();
  try {
    const counts = await runDifferential(loaded.codec, oracle, { runs: cases, seed, stopAtFirst: false });
    section.figure("cases", counts.cases, "cases");
    section.figure("agreed", counts.agreed, "cases");
    for (const [kind, n] of counts.weftStricter) section.figure(`weft_stricter.${kind}`, n, "cases");
    for (const [kind, n] of counts.llhttpStricter) section.figure(`llhttp_stricter.${kind}`, n, "cases");
    section.figure("disagreements", counts.disagreed, "cases");
    section.figure("time", performance.now() - t0, "ms");
    for (const d of counts.disagreements) section.check(false, d);
    if (counts.disagreed > 0) console.log(`http: ${describeCounts(counts)}`);
  } catch (error) {
    section.check(false, `the run broke: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await oracle.close();
  }
  return section.verdict();
}
