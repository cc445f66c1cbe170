/**
 * How big each cell is on each host: processes per cell, timed runs, N and
 * the run times a slow peer's N is scaled to. weft and the fast peers run a
 * fixed N (the N in the full run), so their ratios compare the same
 * work; the slow peers get a smaller N so one run takes about 100–300 ms.
 */
import { workloadInfo, type HostId, type PeerId } from "./catalog.ts";
import type { BenchOptions } from "./options.ts";

export interface CellPlan {
  processes: number;
  /** Run exactly `maxN` (no probing). */
  fixedN: boolean;
  runs: number;
  maxN: number;
  maxRunMs: number;
  targetRunMs: number;
  /** Per-cell time limit. */
  timeoutMs: number;
}

/** How much smaller N is on a host: QuickJS interprets, about 20–50× slower than a JIT. */
const hostDivisor: Record<HostId, number> = { node: 1, bun: 1, deno: 1, chromium: 1, quickjs: 20 };

/** Peers within a few times weft's cost on every workload: they always run the full N. */
export const fastPeers: readonly PeerId[] = ["weft", "weft-pump", "await-microtask", "trampoline"];

/**
 * Whether a cell runs in several fresh processes: a JIT does not always settle
 * on the same machine code (V8 on Node and Deno, JavaScriptCore on Bun; one
 * process in a few runs 1.5–3× slower), so one process would let that draw
 * decide the cell. Every cell on Node; on Bun and Deno the cells that a goal
 * compares (weft, plain await, the trampoline), not Effection's and Effect's,
 * which no goal on those hosts uses and which take most of their time.
 * Chromium runs its cells in one browser, QuickJS interprets.
 */
function freshProcesses(host: HostId, peer: PeerId): boolean {
  if (host === "node") return true;
  return (host === "bun" || host === "deno") && peer !== "effection" && peer !== "effect";
}

export function planCell(
  host: HostId,
  peer: PeerId,
  workload: string,
  options: Pick<BenchOptions, "quick" | "runs" | "processes">,
): CellPlan {
  const quick = options.quick;
  const processes = freshProcesses(host, peer) ? (options.processes ?? (quick ? 1 : 3)) : 1;
  const divisor = hostDivisor[host] * (quick ? 20 : 1);
  const maxN = Math.max(10, 2 * Math.round(workloadInfo(workload).ops / divisor / 2));
  return {
    processes,
    // IO runs pay a fixed cost (a process spawn, 50 connects) that a smaller N would weigh more.
    fixedN: fastPeers.includes(peer) || workloadInfo(workload).nodeOnly === true,
    runs: options.runs,
    maxN,
    maxRunMs: quick ? 60 : 300,
    targetRunMs: quick ? 20 : 120,
    timeoutMs: quick ? 60_000 : 180_000,
  };
}
