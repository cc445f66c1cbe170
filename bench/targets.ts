/**
 * The performance targets of the design (DESIGN.md §5) checked against one
 * run: on Node against every peer, on Bun, Deno and Chromium against plain
 * async/await. Goals, not asserts: the report says met or missed with the ratio.
 */
import { workloadInfo, type HostId, type PeerId } from "./catalog.ts";
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

/**
 * The goal against plain async/await per workload (DESIGN.md §5, re-set from
 * profiles): a generator switch and V8's young-generation GC are floors no
 * design removes, so spawn_wait (GC-bound), cond_var_signal (two switches per
 * signal) and pause_pingpong (one switch per op) have lower goals than the rest.
 */
const awaitGoals: Record<string, number> = { pause_pingpong: 1.3, spawn_wait: 1.7, cond_var_signal: 1.6 };
const AWAIT_GOAL = 2;

/** The faster of plain async/await's two yields, with which one it was. */
function bestAwait(micro: number | undefined, macro: number | undefined): { best: number | undefined; which: string } {
  const best = micro === undefined ? macro : macro === undefined ? micro : Math.min(micro, macro);
  return { best, which: best === undefined ? "" : best === micro ? " (microtask)" : " (macrotask)" };
}

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b;
}

export function nodeTargets(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const m = (peer: PeerId, workload: string): number | undefined => medianOf(results, "node", peer, workload);
  for (const { name } of results.workloads) {
    const weft = m("weft", name);
    if (weft === undefined) continue;
    if (name === "tcp_echo") {
      // Throughput is 1 ÷ time per round trip, so weft's throughput ÷ raw net's is raw's time ÷ weft's.
      rows.push(row(name, "weft throughput ÷ raw net", ratioOf(m("await-microtask", name), weft), 0.95));
      continue;
    }
    if (name === "group_overhead") {
      rows.push(absolute(name, "weft ns per group", weft, 500));
      continue;
    }
    if (name === "timeout_overhead") {
      rows.push(absolute(name, "weft ns per timeout", weft, 500));
      rows.push(row(name, "Promise.race + setTimeout (microtask) ÷ weft", ratioOf(m("await-microtask", name), weft), 2));
      continue;
    }
    if (name === "cancel_1m") {
      // ns per task × 1M tasks = ms for the million ÷ 1e6 × 1e6: the goal is 2 s for 1M, so 2000 ns per task.
      rows.push(absolute(name, "weft ns per cancelled task (× 1M = the run)", weft, 2000));
      continue;
    }
    if (name === "buffered_io_pipe" || name === "gzip_pipe") {
      // Against Node's own piped streams, the faster of the two ways of reading them.
      const raw = bestAwait(m("await-microtask", name), m("await-immediate", name)).best;
      const label = name === "gzip_pipe" ? "raw node:zlib streams" : "raw Node streams";
      rows.push(row(name, `weft throughput ÷ ${label}`, ratioOf(raw, weft), name === "gzip_pipe" ? 0.9 : 1));
      continue;
    }
    if (name === "tls_echo") {
      rows.push(row(name, "weft throughput ÷ raw node:tls", ratioOf(m("await-microtask", name), weft), 0.9));
      continue;
    }
    if (name === "http_client") {
      rows.push(row(name, "weft requests/s ÷ undici", ratioOf(m("await-microtask", name), weft), 0.9));
      continue;
    }
    if (workloadInfo(name).nodeOnly === true) continue;
    for (const peer of ["effection", "effect"] as const) {
      const label = peer === "effection" ? "Effection 4" : "Effect 4";
      rows.push(row(name, `${label} ÷ weft`, ratioOf(m(peer, name), weft), name === "timer_burst_sleep1" ? 3 : 5));
    }
    const { best, which } = bestAwait(m("await-microtask", name), m("await-immediate", name));
    rows.push(row(name, `async/await${which} ÷ weft`, ratioOf(best, weft), awaitGoals[name] ?? AWAIT_GOAL));
    rows.push(row(name, "trampoline ÷ weft", ratioOf(m("trampoline", name), weft), 1));
    rows.push(row(name, "weft event loop ÷ weft pump", ratioOf(weft, m("weft-pump", name)), 1.3, true));
  }
  return rows;
}

/**
 * The goal on Bun, Deno and Chromium (DESIGN.md §5): no workload slower than
 * plain async/await (the faster of its two yields) on the same host.
 */
export function otherHostTargets(results: BenchResults): (TargetRow & { host: HostId })[] {
  const rows: (TargetRow & { host: HostId })[] = [];
  for (const host of ["bun", "deno", "chromium"] as const) {
    for (const { name } of results.workloads) {
      if (workloadInfo(name).nodeOnly === true) continue;
      const weft = medianOf(results, host, "weft", name);
      if (weft === undefined) continue;
      const { best, which } = bestAwait(medianOf(results, host, "await-microtask", name), medianOf(results, host, "await-immediate", name));
      rows.push({ host, ...row(name, `async/await${which} ÷ weft`, ratioOf(best, weft), 1) });
    }
  }
  return rows;
}
