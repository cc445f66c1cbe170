/**
 * The performance targets of the design checked against one run
 * on Node. Goals, not asserts: the report says met or missed with the ratio.
 */
import { workloadInfo, type PeerId } from "./catalog.ts";
import { medianOf, type BenchResults } from "./results.ts";

export interface TargetRow {
  workload: string;
  /** What is compared, e.g. "Effection 4 ÷ weft". */
  compared: string;
  /** The goal, e.g. "≥ 5×". */
  goal: string;
  ratio: number | undefined;
  met: boolean | undefined;
}

function row(workload: string, compared: string, ratio: number | undefined, goal: number, atMost = false): TargetRow {
  return {
    workload,
    compared,
    goal: `${atMost ? "≤" : "≥"} ${goal}×`,
    ratio,
    met: ratio === undefined ? undefined : atMost ? ratio <= goal : ratio >= goal,
  };
}

export function nodeTargets(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const m = (peer: PeerId, workload: string): number | undefined => medianOf(results, "node", peer, workload);
  const over = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : a / b;
  for (const { name } of results.workloads) {
    const weft = m("weft", name);
    if (weft === undefined) continue;
    if (name === "tcp_echo") {
      // Throughput is 1 ÷ time per round trip, so weft's throughput ÷ raw net's is raw's time ÷ weft's.
      rows.push(row(name, "weft throughput ÷ raw net", over(m("await-microtask", name), weft), 0.8));
      continue;
    }
    if (name === "tls_echo") {
      rows.push(row(name, "weft throughput ÷ raw node:tls", over(m("await-microtask", name), weft), 0.9));
      continue;
    }
    // The IO workloads have no goal against the scheduler peers (tcp_echo's and tls_echo's are above).
    if (workloadInfo(name).nodeOnly === true) continue;
    for (const peer of ["effection", "effect"] as const) {
      const label = peer === "effection" ? "Effection 4" : "Effect 4";
      rows.push(row(name, `${label} ÷ weft`, over(m(peer, name), weft), name === "timer_burst_sleep1" ? 3 : 5));
    }
    // Plain async/await: the faster of its two yields.
    const micro = m("await-microtask", name);
    const macro = m("await-immediate", name);
    const best = micro === undefined ? macro : macro === undefined ? micro : Math.min(micro, macro);
    const which = best === undefined ? "" : best === micro ? " (microtask)" : " (macrotask)";
    rows.push(row(name, `async/await${which} ÷ weft`, over(best, weft), name === "pause_pingpong" ? 1 : 2));
    rows.push(row(name, "trampoline ÷ weft", over(m("trampoline", name), weft), 1));
    rows.push(row(name, "weft event loop ÷ weft pump", over(weft, m("weft-pump", name)), 1.3, true));
  }
  return rows;
}
