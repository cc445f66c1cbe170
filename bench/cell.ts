/**
 * One benchmark cell in a fresh process, on Node, Bun or Deno:
 * `cell.js '<CellSpec as JSON>'`. Prints one line, `CELL <CellOutcome as JSON>`.
 */
import { measureCell, type CellSpec } from "./measure.ts";
import { loadPeer } from "./peers/index.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as CellSpec;
const outcome = await measureCell(spec, { now: () => performance.now() }, loadPeer);
console.log(`CELL ${JSON.stringify(outcome)}`);
