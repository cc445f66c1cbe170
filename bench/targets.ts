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
  /** The ratio, or with `unit: "ns"` weft's own time per op. */
  ratio: number | undefined;
  /** "ns" when the goal is an absolute time per op rather than a ratio. */
  unit?: "ns";
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

/** A goal on weft's own time per op (ns), not a ratio. */
function absolute(workload: string, compared: string, ns: number | undefined, goalNs: number): TargetRow {
  return { workload, compared, goal: `≤ ${goalNs} ns`, ratio: ns, unit: "ns", met: ns === undefined ? undefined : ns <= goalNs };
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
    if (name === "group_overhead") {
      rows.push(absolute(name, "weft ns per group", weft, 500));
      continue;
    }
    if (name === "timeout_overhead") {
      rows.push(absolute(name, "weft ns per timeout", weft, 500));
      rows.push(row(name, "Promise.race + setTimeout (microtask) ÷ weft", over(m("await-microtask", name), weft), 2));
      continue;
    }
    if (name === "cancel_1m") {
      // ns per task × 1M tasks = ms for the million ÷ 1e6 × 1e6: the goal is 2 s for 1M, so 2000 ns per task.
      rows.push(absolute(name, "weft ns per cancelled task (× 1M = the run)", weft, 2000));
      continue;
    }
    if (name === "gzip_pipe") {
      // Against node:zlib's own piped streams, the faster of the two ways of reading them.
      const micro = m("await-microtask", name);
      const macro = m("await-immediate", name);
      const raw = micro === undefined ? macro : macro === undefined ? micro : Math.min(micro, macro);
      rows.push(row(name, "weft throughput ÷ raw node:zlib streams", over(raw, weft), 0.9));
      continue;
    }
    if (name === "tls_echo") {
      rows.push(row(name, "weft throughput ÷ raw node:tls", over(m("await-microtask", name), weft), 0.9));
      continue;
    }
    // The IO workloads have no goal against the scheduler peers (tcp_echo's, gzip_pipe's and tls_echo's are above).
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
