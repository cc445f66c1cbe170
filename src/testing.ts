/**
 * `weft/testing`: deterministic runs on virtual time.
 *
 * @example
 * ```ts
 * import { runVirtual } from "weftjs/testing";
 * import { sleep, now } from "weftjs";
 *
 * const t = await runVirtual(function* () { yield* sleep(60_000); return now(); });
 * console.log(t); // prints 60000, at once
 * ```
 *
 * @module
 */
export { runVirtual, createVirtualClock, DEFAULT_AUTOJUMP_THRESHOLD_MS } from "./drivers/virtual_time.ts";
export type { VirtualClock, VirtualClockOptions, VirtualRunOptions } from "./drivers/virtual_time.ts";
