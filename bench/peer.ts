/**
 * What a peer module gives the benchmark: for each workload either an
 * implementation (and the API it uses, for the report) or the reason it has
 * none. A workload a peer does not mention is reported as not implemented.
 */

/** What the cell code knows about the host it runs on. */
export interface BenchEnv {
  /** The clock every sample is taken with, in milliseconds. */
  now(): number;
}

/** One workload written for one peer. */
export interface WorkloadImpl {
  /** The API the implementation uses, as the report shows it. */
  api: string;
  /**
   * Runs `n` ops and returns the count the workload checks (it must equal
   * `n`). Throws if the run is broken (wrong order, two holders, …).
   */
  run(n: number): Promise<number> | number;
}

/** A workload the peer cannot run on this host, and why. */
export interface NotAvailable {
  unavailable: string;
}

export type PeerWorkloads = Partial<Record<string, WorkloadImpl | NotAvailable>>;

/** Builds a peer's workloads for the host described by `env`. */
export type PeerFactory = (env: BenchEnv) => PeerWorkloads;

/** Throws when a workload's own check fails: a broken run reports no time. */
export function check(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}: the run is broken`);
}

/** The host's timer, or undefined on an engine with none (QuickJS). */
export function hostSetTimeout(): ((callback: () => void, ms: number) => unknown) | undefined {
  const g = globalThis as { setTimeout?: (callback: () => void, ms: number) => unknown };
  return typeof g.setTimeout === "function" ? g.setTimeout.bind(globalThis) : undefined;
}
