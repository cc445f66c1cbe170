/**
 * weft: structured concurrency for TypeScript on generators.
 *
 * @example
 * ```ts
 * import { run, withTaskGroup, sleep } from "weftjs";
 *
 * const result = await run(function* () {
 *   return yield* withTaskGroup<string>(function* (group) {
 *     const a = group.spawn(function* () { yield* sleep(10); return "a"; });
 *     const b = group.spawn(function* () { yield* sleep(20); return "b"; });
 *     return (yield* a.wait()) + (yield* b.wait());
 *   });
 * });
 * console.log(result); // prints ab
 * ```
 *
 * @module
 */
export type { Operation } from "./core/operation.ts";
export {
  BreakFromSpawnLoop,
  Cancelled,
  DeadlockError,
  TimeoutError,
  TimerCancelled,
  Unsupported,
  WeftUsageError,
  suppressedErrors,
} from "./core/errors.ts";
export { pause } from "./core/pause.ts";
export { sleep, now } from "./core/sleep.ts";
export { Timer } from "./core/timer.ts";
export { Interval, interval } from "./core/interval.ts";
export { Context, createContext } from "./core/context.ts";
export { action } from "./core/action.ts";
export type { Task } from "./core/task.ts";
export {
  protectFromCancel,
  withCancellationHandler,
  isBeingCancelled,
  checkCancellation,
  isCancellationError,
} from "./core/cancel.ts";
export { withTaskGroup } from "./group/task_group.ts";
export type { TaskGroup, SpawnOptions, SpawnLoopOptions } from "./group/task_group.ts";
export { withTimeout, withTimeoutOpt } from "./group/timeout.ts";
export { retry } from "./group/retry.ts";
export type { RetryMethod, RetryOptions } from "./group/retry.ts";
export { all, any } from "./group/all_any.ts";
export type { AllOptions, AnyOptions, Bodies, BodyResults } from "./group/all_any.ts";
export { allSettled } from "./group/all_settled.ts";
export type { AllSettledOptions, Settled, SettledResults } from "./group/all_settled.ts";
export { Semaphore } from "./sync/semaphore.ts";
export { Mutex } from "./sync/mutex.ts";
export { CondVar } from "./sync/cond_var.ts";
export { Queue, QueueClosed } from "./sync/queue.ts";
export type { QueueCloseOptions, QueueKind, QueueOptions } from "./sync/queue.ts";
export { Broadcast, SubscriberDropped } from "./sync/broadcast.ts";
export type { BroadcastOptions, BroadcastPolicy, Subscription } from "./sync/broadcast.ts";
export { Lazy } from "./sync/lazy.ts";
export { call, until } from "./interop/call.ts";
export { each } from "./interop/each.ts";
export type { ItemSource } from "./interop/each.ts";
export { on, once, EventOverflow } from "./interop/events.ts";
export type { EventEmitterLike, EventOverflowPolicy, EventSubscription, EventTargetLike, OnOptions } from "./interop/events.ts";
export { useAbortSignal } from "./interop/abort_signal.ts";
export { toAsyncIterable } from "./interop/async_iterable.ts";
export { fromReadableStream, toReadableStream } from "./interop/streams.ts";
export type { ToReadableStreamOptions } from "./interop/streams.ts";
export { run } from "./drivers/event_loop.ts";
export type { RunOptions } from "./drivers/event_loop.ts";
export { setDeadlockHandler } from "./drivers/deadlock.ts";
export type { DeadlockHandler, DeadlockReport } from "./drivers/deadlock.ts";
