/**
 * `waitSignal` and `onSignal`: tasks that react to signals sent to this
 * process.
 *
 * While a task waits for a signal, that signal is the task's: it is not also
 * handled by `main` (which otherwise cancels the program on SIGINT and
 * SIGTERM) and does not have its default effect (ending the process). As soon
 * as nobody waits, the signal is handled as before.
 */
import { action } from "../../core/action.ts";
import { requireFunction, type Operation } from "../../core/operation.ts";
import { callBody } from "../../core/cancel.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { Queue } from "../../sync/queue.ts";
import { requireSignalName, subscribe } from "./signal_hub.ts";

/**
 * Waits until this process receives `signal` (a name such as `"SIGHUP"`) and
 * returns its name. Cancellable; the listener is removed when the wait ends,
 * either way. A signal that arrives while nobody waits for it is not kept for
 * a later wait.
 *
 * While the wait lasts, the signal belongs to it: under {@link main}, a
 * SIGINT that a `waitSignal("SIGINT")` receives does not cancel the program,
 * so a program can handle Ctrl-C itself (e.g. stop the current job and keep
 * going).
 *
 * @example
 * ```ts
 * let batches = 0;
 * function* processNextBatch(): Operation<void> {
 *   yield* sleep(5);
 *   if (++batches === 3) process.kill(process.pid, "SIGINT"); // as if Ctrl-C was pressed now
 * }
 * // Finish the current batch on Ctrl-C instead of dying in the middle of it.
 * yield* withTaskGroup<void>(function* (group) {
 *   const stop = group.spawn(() => waitSignal("SIGINT"), { daemon: true });
 *   while (!stop.done) yield* processNextBatch();
 * });
 * console.log(batches >= 3); // prints true: the batches before the signal were all finished
 * ```
 */
export function* waitSignal(signal: NodeJS.Signals): Operation<NodeJS.Signals> {
  requireSignalName("waitSignal()", "signal", signal);
  return yield* action<NodeJS.Signals>((resolve) => {
    const unsubscribe = subscribe(signal, (received) => {
      // Only this delivery is ours: the next one goes to whoever waits then.
      unsubscribe();
      resolve(received);
    });
    return unsubscribe;
  });
}

/**
 * Runs `body` as a new task each time this process receives `signal`, until
 * it is cancelled; it never returns by itself. Deliveries are not queued
 * behind a running body: a second signal starts a second task at once. If a
 * body fails, `onSignal` stops listening, cancels the other bodies and throws
 * that error. When cancelled, it stops listening and waits for the bodies that
 * are running to end (they are cancelled too).
 *
 * Run it as a background task of the group that should handle the signal, so
 * it lives as long as the group: `group.startSoon(() => onSignal("SIGHUP",
 * reload), { daemon: true })`. Like {@link waitSignal}, while it listens the
 * signal is handled only by it (under {@link main}, an `onSignal("SIGINT")`
 * keeps Ctrl-C from cancelling the program).
 *
 * @example
 * ```ts
 * let config = { version: 1 };
 * function* loadConfig(): Operation<{ version: number }> {
 *   yield* sleep(1); // read it again
 *   return { version: config.version + 1 };
 * }
 * yield* withTaskGroup<void>(function* (group) {
 *   group.startSoon(() => onSignal("SIGHUP", function* () {
 *     config = yield* loadConfig();
 *   }), { daemon: true });
 *   yield* sleep(20);
 *   process.kill(process.pid, "SIGHUP"); // as `kill -HUP <pid>` would
 *   while (config.version === 1) yield* sleep(5); // serving with the old config meanwhile
 *   console.log(config.version); // prints 2
 * });
 * ```
 */
export function* onSignal(signal: NodeJS.Signals, body: (signal: NodeJS.Signals) => Operation<void>): Operation<never> {
  requireSignalName("onSignal()", "signal", signal);
  requireFunction("onSignal()", "body", body, "a function (signal) => Operation (a function* generator)");
  const deliveries = new Queue<NodeJS.Signals>();
  const unsubscribe = subscribe(signal, (received) => {
    deliveries.tryPut(received);
  });
  try {
    return yield* withTaskGroup<never>(function* (group) {
      for (;;) {
        const received = yield* deliveries.get();
        group.startSoon(() => callBody("onSignal()", () => body(received)));
      }
    });
  } finally {
    unsubscribe();
  }
}
