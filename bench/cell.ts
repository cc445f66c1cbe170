/**
 * One benchmark cell in a fresh process, on Node, Bun or Deno:
 * `cell.js '<CellSpec as JSON>'`. Prints one line, `CELL <CellOutcome as JSON>`.
 */
import { workloadInfo } from "./catalog.ts";
import { measureCell, type CellSpec } from "./measure.ts";
import { loadPeer } from "./peers/index.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as CellSpec;
// The IO workloads' module starts processes and sockets: only their cells load it.
const load = workloadInfo(spec.workload).nodeOnly === true ? (await import("./peers/node_io.ts")).loadPeerWithIo : loadPeer;
const outcome = await measureCell(spec, { now: () => performance.now() }, load);
console.log(`CELL ${JSON.stringify(outcome)}`);
