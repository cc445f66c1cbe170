/**
 * `weft/testing`: deterministic runs on virtual time.
 *
 * @example
 * ```ts
 * import { runVirtual } from "weft/testing";
 * import { sleep, now } from "weft";
 * const t = await runVirtual(function* () { yield* sleep(60_000); return now(); }); // 60000, at once
 * ```
 *
 * @module
 */
export { runVirtual } from "./drivers/virtual_time.ts";
