/**
 * How big each cell is on each host: processes per cell, timed runs, the
 * largest N and the run times N is scaled to. Slow peers (and slow hosts)
 * get a smaller N so one run stays between about 100 ms and 1 s; weft and the
 * fast peers keep the N in the full run.
 */
import { workloadInfo, type HostId } from "./catalog.ts";
import type { BenchOptions } from "./options.ts";

export interface CellPlan {
  processes: number;
  runs: number;
  maxN: number;
  maxRunMs: number;
  targetRunMs: number;
  /** Per-cell time limit. */
  timeoutMs: number;
}

/** How much smaller the largest N is on a host: QuickJS interprets, about 20–50× slower than a JIT. */
const hostDivisor: Record<HostId, number> = { node: 1, bun: 1, deno: 1, chromium: 1, quickjs: 10 };

export function planCell(host: HostId, workload: string, options: Pick<BenchOptions, "quick" | "runs" | "processes">): CellPlan {
  const quick = options.quick;
  // Several fresh processes per cell on Node: V8 does not always settle on the same machine code.
  const processes = host === "node" ? (options.processes ?? (quick ? 1 : 3)) : 1;
  const divisor = hostDivisor[host] * (quick ? 20 : 1);
  const maxN = Math.max(10, 2 * Math.round(workloadInfo(workload).ops / divisor / 2));
  return {
    processes,
    runs: options.runs,
    maxN,
    maxRunMs: quick ? 60 : 1000,
    targetRunMs: quick ? 20 : 250,
    timeoutMs: quick ? 60_000 : 180_000,
  };
}
