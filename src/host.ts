/**
 * `weft/host`: drive weft from a host with no event loop.
 *
 * @example
 * ```ts
 * import { createHost } from "weftjs/host";
 *
 * let clock = 0;
 * const host = createHost({ now: () => clock });
 * const task = host.spawn(function* () { yield* sleep(10); return "pumped"; });
 * const { blocked, nextDeadline } = host.pump();
 * console.log(blocked, nextDeadline); // prints 1 10
 * clock = 10;
 * host.pump();
 * console.log(task.tryWait()); // prints pumped
 * ```
 *
 * @module
 */
export { createHost } from "./drivers/host_pump.ts";
export type { Host, HostOptions, PumpOptions, PumpResult } from "./drivers/host_pump.ts";
