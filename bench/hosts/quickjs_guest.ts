/**
 * The cell code inside QuickJS (bundled by esbuild with one peer as an IIFE
 * script, see bundle.ts; `install(factory)` sets it up). The engine has no
 * event loop, no timers, no console and no performance: the embedder injects
 * `__benchHost` (its clock and a log), starts a cell with
 * `weftBench.start(specJson)`, runs the engine's pending promise jobs, and
 * reads `weftBench.result()` (empty until the cell is done).
 */
import { measureCell, type CellSpec } from "../measure.ts";
import type { PeerFactory } from "../peer.ts";

interface BenchHostApi {
  now(): number;
  log(text: string): void;
}

interface GuestGlobals {
  __benchHost: BenchHostApi;
  console?: unknown;
  weftBench?: { start(specJson: string): void; result(): string };
}

export function install(factory: PeerFactory): void {
  const g = globalThis as unknown as GuestGlobals;
  const api = g.__benchHost;
  // Libraries may log; the engine has no console, so the embedder's log stands in.
  const log = (...args: unknown[]): void => api.log(args.map(String).join(" "));
  g.console ??= { log, warn: log, error: log };
  let result = "";
  g.weftBench = {
    start(specJson) {
      result = "";
      measureCell(JSON.parse(specJson) as CellSpec, { now: () => api.now() }, (_, env) => factory(env)).then(
        (outcome) => (result = JSON.stringify(outcome)),
        (error: unknown) => (result = JSON.stringify({ status: "failed", error: String(error) })),
      );
    },
    result: () => result,
  };
}
