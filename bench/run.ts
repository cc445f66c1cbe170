/**
 * `npm run bench`: every workload × every peer × every host, one fresh
 * process (page, engine) per cell, a warm-up run then timed runs; a progress
 * line per cell on stderr; the Markdown report on stdout; the report, every
 * sample (JSON) and the chart (SVG) in bench/results/. A full run (no option
 * that narrows or shrinks it) writes `latest.*`, the files the README shows;
 * any other run writes `partial.*`, so a quick look never replaces them.
 *
 * Options: see `--help` (bench/options.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { root } from "../hosts/common.ts";
import { hostLabels, peerLabels, workloads, type HostId, type PeerId } from "./catalog.ts";
import { ChromiumHost } from "./hosts/chromium_host.ts";
import { ProcessHost } from "./hosts/process_host.ts";
import { QuickJsHost } from "./hosts/quickjs_host.ts";
import type { BenchHost } from "./hosts/bench_host.ts";
import type { CellOutcome, CellSpec } from "./measure.ts";
import { runLoadSections } from "./load_sections.ts";
import { parseOptions, usage, type BenchOptions } from "./options.ts";
import { planCell } from "./plan.ts";
import { formatMarkdown, formatNs, formatCount } from "./report_md.ts";
import { renderSvg } from "./report_svg.ts";
import type { BenchResults, CellResult, HostResult, MemoryResult } from "./results.ts";
import { summarize } from "./stats.ts";

function makeHost(id: HostId, quick: boolean): BenchHost {
  if (id === "chromium") return new ChromiumHost(quick);
  if (id === "quickjs") return new QuickJsHost();
  return new ProcessHost(id);
}

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}
if (options.render !== undefined) {
  // The report and chart again from a run's samples (after a change to the report's format).
  const file = resolve(options.render);
  const saved = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  const markdown = formatMarkdown(saved);
  writeFileSync(file.replace(/\.json$/, ".md"), markdown);
  writeFileSync(file.replace(/\.json$/, ".svg"), renderSvg(saved));
  console.log(markdown);
  process.exit(0);
}

const started = Date.now();
const loadAtStart = loadavg()[0]!;
const chosen = workloads.filter((w) => options.workloads.includes(w.name));
const total = options.hosts.length * chosen.length * options.peers.length;
let done = 0;
const progress = (line: string): void => {
  process.stderr.write(`[${String(++done).padStart(String(total).length)}/${total}] ${line}\n`);
};
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const cells: CellResult[] = [];
const hostResults: HostResult[] = [];
process.stderr.write(
  `weft benchmark: ${options.quick ? "--quick, " : ""}${options.hosts.length} hosts × ${chosen.length} workloads × ${options.peers.length} peers = ${total} cells\n`,
);

for (const hostId of chosen.length === 0 ? [] : options.hosts) {
  const host = makeHost(hostId, options.quick);
  const firstPlan = planCell(hostId, options.peers[0]!, chosen[0]!.name, options);
  const hostResult: HostResult = { id: hostId, label: hostLabels[hostId], processes: firstPlan.processes, runs: firstPlan.runs };
  hostResults.push(hostResult);
  let start;
  try {
    start = await host.start();
  } catch (error) {
    start = { unavailable: `could not start: ${(error as Error).message.split("\n")[0]}` };
  }
  if ("unavailable" in start) {
    hostResult.unavailable = start.unavailable;
    for (const w of chosen) {
      for (const peer of options.peers) {
        cells.push({ host: hostId, peer, workload: w.name, status: "host n/a", reason: start.unavailable });
        progress(`${hostId} ${peer} ${w.name}: host not available: ${start.unavailable}`);
      }
    }
    await host.close().catch(() => {});
    continue;
  }
  hostResult.version = start.version;
  process.stderr.write(`${start.version} (${elapsed()})\n`);
  try {
    for (const w of chosen) {
      // The peers' processes take turns (weft's first, then each other peer's first, then the second ones, …), so a
      // machine that slows down during a workload slows every peer of it alike and the ratios stay fair.
      const pending: Array<{
        peer: PeerId;
        spec: CellSpec;
        processes: number;
        timeoutMs: number;
        samples: number[][];
        last: CellOutcome | undefined;
        ms: number;
      }> = [];
      for (const peer of options.peers) {
        if (w.nodeOnly === true && hostId !== "node") {
          cells.push({ host: hostId, peer, workload: w.name, status: "n/a", reason: "a Node-only workload" });
          progress(`${hostId} ${peer} ${w.name}: n/a (Node only)`);
          continue;
        }
        const plan = planCell(hostId, peer, w.name, options);
        const spec: CellSpec = {
          peer,
          workload: w.name,
          maxN: plan.maxN,
          fixedN: plan.fixedN,
          maxRunMs: plan.maxRunMs,
          targetRunMs: plan.targetRunMs,
          runs: plan.runs,
        };
        pending.push({ peer, spec, processes: plan.processes, timeoutMs: plan.timeoutMs, samples: [], last: undefined, ms: 0 });
      }
      const rounds = Math.max(0, ...pending.map((c) => c.processes));
      for (let p = 0; p < rounds; p++) {
        for (const cell of pending) {
          if (p >= cell.processes || (cell.last !== undefined && cell.last.status !== "ok")) continue;
          const started = Date.now();
          const outcome = await host.runCell(cell.spec, cell.timeoutMs);
          cell.ms += Date.now() - started;
          cell.last = outcome;
          if (outcome.status !== "ok") continue;
          cell.samples.push(outcome.samples);
          // The later processes of a cell run the N the first one chose.
          cell.spec.maxN = outcome.n;
          cell.spec.fixedN = true;
        }
      }
      for (const { peer, samples, last, ms } of pending) {
        const tag = `${hostId} ${peer} ${w.name}`;
        const secs = `${(ms / 1000).toFixed(1)} s`;
        if (last?.status === "ok") {
          const s = summarize(samples.flat());
          cells.push({ host: hostId, peer, workload: w.name, status: "ok", api: last.api, n: last.n, samples, ...s });
          progress(
            `${tag} N=${formatCount(last.n)}: ${formatNs(s.median)} ns/op (${formatNs(s.min)}–${formatNs(s.max)}), ${samples.flat().length} samples, ${secs}`,
          );
        } else if (last?.status === "n/a") {
          cells.push({ host: hostId, peer, workload: w.name, status: "n/a", reason: last.reason });
          progress(`${tag}: n/a: ${last.reason}`);
        } else {
          const error = last?.status === "failed" ? last.error : "no outcome";
          cells.push({
            host: hostId,
            peer,
            workload: w.name,
            status: "failed",
            api: last?.status === "failed" ? last.api : undefined,
            reason: error,
          });
          progress(`${tag}: FAILED: ${error} (${secs})`);
        }
      }
    }
  } finally {
    await host.close().catch(() => {});
  }
}

/**
 * The memory section: weft on Node, in fresh processes with --expose-gc, when
 * the run includes Node and weft. 100k and 1M sleeping tasks (100k only with --quick).
 */
async function memorySection(): Promise<BenchResults["memory"]> {
  if (chosen.length === 0 || !options.hosts.includes("node") || !options.peers.includes("weft")) return undefined;
  const probe = join(root, "dist", "bench", "memory_probe.js");
  const out: MemoryResult[] = [];
  for (const tasks of options.quick ? [100_000] : [100_000, 1_000_000]) {
    const child = spawnSync(process.execPath, ["--expose-gc", probe, String(tasks)], { encoding: "utf8", timeout: 300_000 });
    const line = child.stdout?.split("\n").find((l) => l.startsWith("MEMORY "));
    if (line === undefined) {
      const why = (child.error?.message ?? child.stderr?.trim().split("\n").pop() ?? `exit ${child.status}`) || `exit ${child.status}`;
      process.stderr.write(`memory ${formatCount(tasks)} tasks: FAILED: ${why}\n`);
      return { unavailable: `the probe of ${formatCount(tasks)} tasks failed: ${why}` };
    }
    const result = JSON.parse(line.slice("MEMORY ".length)) as MemoryResult;
    process.stderr.write(
      `memory ${formatCount(tasks)} sleeping tasks: ${result.bytesPerTask.toFixed(0)} B each, spawned in ${result.spawnMs.toFixed(0)} ms, all cancelled in ${result.cancelMs.toFixed(0)} ms\n`,
    );
    out.push(result);
  }
  return out;
}

const memory = await memorySection();
const loads =
  options.hosts.includes("node") && options.loads.length > 0
    ? await runLoadSections(options.loads, options.quick, (line) => process.stderr.write(`${line}\n`))
    : undefined;
const cpuList = cpus();
const results: BenchResults = {
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  quick: options.quick,
  complete: options.complete,
  machine: {
    cores: cpuList.length,
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  load: { start: Number(loadAtStart.toFixed(2)), end: Number(loadavg()[0]!.toFixed(2)) },
  durationMs: Date.now() - started,
  hosts: hostResults,
  peers: options.peers.map((id) => ({ id, label: peerLabels[id] })),
  workloads: chosen,
  cells,
  ...(memory === undefined ? {} : { memory }),
  ...(loads === undefined ? {} : { loads }),
};

const markdown = formatMarkdown(results);
const dir = join(root, "bench", "results");
const base = options.complete ? "latest" : "partial";
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `${base}.md`), markdown);
writeFileSync(join(dir, `${base}.json`), JSON.stringify(results, null, 1) + "\n");
writeFileSync(join(dir, `${base}.svg`), renderSvg(results));
console.log(markdown);
process.stderr.write(`\nwrote bench/results/${base}.{md,json,svg} in ${elapsed()}\n`);
const failed = cells.filter((c) => c.status === "failed").length;
if (failed > 0) process.stderr.write(`${failed} cells failed\n`);
process.exit(failed > 0 ? 1 : 0);
