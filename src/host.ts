/**
 * `weft/host`: drive weft from a host with no event loop.
 *
 * @example
 * ```ts
 * import { createHost } from "weft/host";
 * const host = createHost({ now: () => Date.now(), onWake: () => schedulePump() });
 * host.spawn(main);
 * const { blocked, nextDeadline } = host.pump();
 * ```
 *
 * @module
 */
export { createHost } from "./drivers/host_pump.ts";
export type { Host, HostOptions, PumpOptions, PumpResult } from "./drivers/host_pump.ts";
