/**
 * Where each peer lives: its module under bench/peers/ and the factory that
 * builds its workloads. A cell loads only its own peer (a cell process does
 * not import Effect and Effection with it); the browser and QuickJS bundles
 * are built one per peer from this table.
 */
import type { PeerId } from "../catalog.ts";
import type { BenchEnv, PeerFactory, PeerWorkloads } from "../peer.ts";

export const peerModules: Record<PeerId, { module: string; factory: string }> = {
  weft: { module: "weft", factory: "eventLoopPeer" },
  "weft-pump": { module: "weft", factory: "pumpPeer" },
  "await-microtask": { module: "await", factory: "microtaskPeer" },
  "await-immediate": { module: "await", factory: "macrotaskPeer" },
  effection: { module: "effection", factory: "effectionPeer" },
  effect: { module: "effect", factory: "effectPeer" },
  trampoline: { module: "trampoline", factory: "trampolinePeer" },
};

/** Loads a peer from the compiled modules beside this one (Node, Bun, Deno). */
export async function loadPeer(peer: PeerId, env: BenchEnv): Promise<PeerWorkloads> {
  const { module, factory } = peerModules[peer];
  const loaded = (await import(`./${module}.js`)) as Record<string, PeerFactory>;
  return loaded[factory]!(env);
}
