/**
 * The cell code in a browser page (bundled by esbuild with one peer, see
 * bundle.ts): `install(factory)` exposes `__weftBench`, which the runner
 * calls with a cell spec; the clock is `performance.now()`.
 */
import { measureCell, type CellOutcome, type CellSpec } from "../measure.ts";
import type { PeerFactory } from "../peer.ts";

declare global {
  interface Window {
    __weftBench?: (spec: CellSpec) => Promise<CellOutcome>;
  }
}

export function install(factory: PeerFactory): void {
  window.__weftBench = (spec) => measureCell(spec, { now: () => performance.now() }, (_, env) => factory(env));
}
