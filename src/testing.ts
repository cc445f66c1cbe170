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
export { runVirtual, createVirtualClock, DEFAULT_AUTOJUMP_THRESHOLD_MS } from "./drivers/virtual_time.ts";
export type { VirtualClock, VirtualRunOptions } from "./drivers/virtual_time.ts";
