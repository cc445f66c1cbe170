/**
 * One cell, on any host: load the peer, choose N, run once to warm up, then
 * time `runs` runs. Every run's result is checked, so a broken run reports
 * no time. Portable: no Node API, the clock comes from the host.
 */
import { peers, workloadInfo, type PeerId } from "./catalog.ts";
import { check, type BenchEnv, type NotAvailable, type PeerWorkloads, type WorkloadImpl } from "./peer.ts";

export interface CellSpec {
  peer: PeerId;
  workload: string;
  /** The most ops a run may do (the full N). */
  maxN: number;
  /** Use exactly `maxN` (a later process of a cell reuses the first one's N). */
  fixedN: boolean;
  /** A run should take at most this long; slower peers get a smaller N. */
  maxRunMs: number;
  /** The run time aimed at when N has to be cut. */
  targetRunMs: number;
  runs: number;
}

export type CellOutcome =
  | { status: "ok"; api: string; n: number; samples: number[] }
  | { status: "n/a"; reason: string }
  | { status: "failed"; api?: string; error: string };

/** The largest of 1, 2, 5 × 10^k that is ≤ x (and at least 10, so N is even). */
export function niceFloor(x: number): number {
  if (!(x >= 10)) return 10;
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * p;
}

/** Timing of one run in ms; throws if the result is not `n`. */
async function timeRun(run: (n: number) => Promise<number> | number, n: number, env: BenchEnv, what: string): Promise<number> {
  const start = env.now();
  const out = run(n);
  const result = typeof out === "number" ? out : await out;
  const elapsed = env.now() - start;
  check(what, result, n);
  return elapsed;
}

/** The full N unless a run at it would take longer than `maxRunMs`; then N for about `targetRunMs`. */
function pickN(perOp: number, spec: CellSpec): number {
  return perOp * spec.maxN <= spec.maxRunMs ? spec.maxN : Math.min(spec.maxN, niceFloor(spec.targetRunMs / perOp));
}

/**
 * Probes with N growing fourfold until a run takes half the target time (the
 * first runs of a process are slow, so the crossing run is repeated and the
 * faster of the two counts), then picks N.
 */
async function chooseN(run: (n: number) => Promise<number> | number, spec: CellSpec, env: BenchEnv, what: string): Promise<number> {
  for (let n = 16; n < spec.maxN; n *= 4) {
    const ms = await timeRun(run, n, env, what);
    if (ms >= spec.targetRunMs / 2) return pickN(Math.min(ms, await timeRun(run, n, env, what)) / n, spec);
  }
  return spec.maxN;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Measures one cell; `load` builds the peer's workloads (a module import, or a factory bundled with the cell). */
export async function measureCell(
  spec: CellSpec,
  env: BenchEnv,
  load: (peer: PeerId, env: BenchEnv) => Promise<PeerWorkloads> | PeerWorkloads,
): Promise<CellOutcome> {
  if (!(peers as readonly string[]).includes(spec.peer)) return { status: "failed", error: `unknown peer ${spec.peer}` };
  const info = workloadInfo(spec.workload);
  let impl: WorkloadImpl | NotAvailable | undefined;
  try {
    impl = (await load(spec.peer, env))[spec.workload];
  } catch (error) {
    // A library that needs a global the engine lacks (QuickJS has no TextEncoder) cannot run here at all.
    if (error instanceof ReferenceError) return { status: "n/a", reason: `the peer does not load on this host: ${errorText(error)}` };
    return { status: "failed", error: `loading the peer failed: ${errorText(error)}` };
  }
  if (impl === undefined) return { status: "n/a", reason: `${spec.peer} has no ${info.name}` };
  if ("unavailable" in impl) return { status: "n/a", reason: impl.unavailable };
  const what = `${spec.workload} on ${spec.peer}`;
  try {
    let n = spec.fixedN ? spec.maxN : await chooseN(impl.run, spec, env, what);
    let warm = await timeRun(impl.run, n, env, what);
    // The probe ran cold code (and some peers pay a fixed cost per run): while the warm-up at N
    // is far from the aimed run time, pick N again from it.
    for (let i = 0; i < 4 && !spec.fixedN; i++) {
      const tooShort = warm < spec.targetRunMs / 2 && n < spec.maxN;
      const tooLong = warm > spec.maxRunMs && n > 10;
      if (!tooShort && !tooLong) break;
      const next = pickN(Math.max(warm, 1e-3) / n, spec);
      if (next === n) break;
      n = next;
      warm = await timeRun(impl.run, n, env, what);
    }
    const samples: number[] = [];
    for (let i = 0; i < spec.runs; i++) samples.push(((await timeRun(impl.run, n, env, what)) * 1e6) / n);
    return { status: "ok", api: impl.api, n, samples };
  } catch (error) {
    return { status: "failed", api: impl.api, error: errorText(error) };
  }
}
