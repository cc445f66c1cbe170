/** The shape of `bench/results/latest.json`: everything a report is made from. */
import type { HostId, PeerId, WorkloadInfo } from "./catalog.ts";
import type { LoadSectionResult } from "./load_sections.ts";

export interface CellResult {
  host: HostId;
  peer: PeerId;
  workload: string;
  status: "ok" | "n/a" | "failed" | "host n/a";
  /** The API the peer used (ok and failed cells). */
  api?: string;
  /** Ops per run. */
  n?: number;
  /** ns/op of every timed run, grouped by process. */
  samples?: number[][];
  median?: number;
  min?: number;
  max?: number;
  /** Why the cell has no time (n/a, failed, host n/a). */
  reason?: string;
}

export interface HostResult {
  id: HostId;
  label: string;
  version?: string;
  unavailable?: string;
  processes: number;
  runs: number;
}

/** One line of the memory section: `tasks` tasks parked in sleep, then all cancelled (Node, weft). */
export interface MemoryResult {
  tasks: number;
  /** Heap (typed-array stores included) held per sleeping task, after full collections. */
  bytesPerTask: number;
  /** From the first spawn until every task was parked in its sleep. */
  spawnMs: number;
  /** From the cancellation of all of them until every `finally` had run and the group returned. */
  cancelMs: number;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  complete: boolean;
  machine: { cores: number; cpu: string; platform: string; memoryGiB: number };
  /** The 1-minute load average when the run began and when it ended: above the core count, other work shared the CPUs. */
  load: { start: number; end: number };
  durationMs: number;
  hosts: HostResult[];
  peers: { id: PeerId; label: string }[];
  workloads: WorkloadInfo[];
  cells: CellResult[];
  /** The memory section (Node, weft), or why it is missing; absent when the run did not ask for it. */
  memory?: MemoryResult[] | { unavailable: string };
  /** The load sections (Node only: http_server), absent when the run did not ask for them. */
  loads?: LoadSectionResult[];
}

export function findCell(results: BenchResults, host: HostId, peer: PeerId, workload: string): CellResult | undefined {
  return results.cells.find((c) => c.host === host && c.peer === peer && c.workload === workload);
}

/** The median of a cell that has one. */
export function medianOf(results: BenchResults, host: HostId, peer: PeerId, workload: string): number | undefined {
  const cell = findCell(results, host, peer, workload);
  return cell?.status === "ok" ? cell.median : undefined;
}

/** The peer ratios divide by: weft on the event loop, or weft on the pump where there is no event loop. */
export function referencePeer(results: BenchResults, host: HostId): PeerId | undefined {
  for (const peer of ["weft", "weft-pump"] as const) {
    if (results.cells.some((c) => c.host === host && c.peer === peer && c.status === "ok")) return peer;
  }
  return undefined;
}
