/**
 * `main(body)`: the entry point of a weft program on Node (see
 * docs/semantics.md, «Drivers»).
 */
import process from "node:process";
import { MAX_HOST_TIMER_MS } from "../../core/clock.ts";
import { Cancelled, DeadlockError, WeftUsageError } from "../../core/errors.ts";
import type { Coroutine } from "../../core/coroutine.ts";
import { describe, requireDuration, requireFunction, type Operation } from "../../core/operation.ts";
import { addTaskHook } from "../../core/task_hooks.ts";
import { defaultScheduler, run } from "../../drivers/event_loop.ts";
import { killEveryChildNow, whenNoChildren } from "./children.ts";
import { requireSignalName, setFallback, signalNumber } from "./signal_hub.ts";

/**
 * Options for {@link main}.
 *
 * @example
 * ```ts
 * import { main, stdout } from "weftjs/node";
 *
 * main(
 *   function* () {
 *     yield* stdout.write("hello\n");
 *   },
 *   { signals: ["SIGINT", "SIGTERM", "SIGHUP"], debug: true },
 * );
 * ```
 */
export interface MainOptions {
  /**
   * The signals that cancel the program (default SIGINT and SIGTERM). SIGHUP
   * is not in the default because `nohup` relies on it being ignored.
   */
  signals?: readonly NodeJS.Signals[];
  /** Record spawn locations for deadlock reports (as `WEFT_DEBUG=1`). */
  debug?: boolean;
  /**
   * When the body has ended, how long to wait for the other root tasks (a
   * `run` started inside the program, a `Lazy` computation) to finish their
   * cleanup after they were cancelled, in ms (default 10000). Those still
   * running then are reported on stderr and cut off by the exit.
   */
  cleanupLimit?: number;
}

/** How long to wait for stdout and stderr to take the last bytes before ending anyway (ms). */
const FLUSH_LIMIT_MS = 2000;
/** If re-raising the signal did not end the process (someone else handles it), exit after this long (ms). */
const RAISE_FALLBACK_MS = 1000;
/** The default of {@link MainOptions.cleanupLimit} (ms). */
const CLEANUP_LIMIT_MS = 10_000;

let started = false;

/**
 * Runs `body` as the program and ends the process when it is done:
 *
 * - it returns: exit with `process.exitCode` (0 unless the program set it);
 * - it throws: the error (with its stack) is printed to stderr, exit 1. A
 *   deadlock prints weft's report and exits 1 the same way;
 * - SIGINT or SIGTERM (see `signals`) cancels it. Its `finally` blocks and
 *   cleanup run, and then the process ends **by that signal**: the handler is
 *   removed and the signal re-sent to this process, so the parent sees it
 *   killed by SIGINT/SIGTERM and a shell reports 130/143, as for a program
 *   without handlers. (If something else still handles the signal, it exits
 *   with 128 + the signal number instead.) This happens even if the cleanup
 *   swallowed the cancellation or failed; a failure is printed first;
 * - a **second** such signal during cleanup ends the process at once by that
 *   signal, after sending SIGKILL to the child processes still running:
 *   pressing Ctrl-C twice always works.
 *
 * Before the process ends, main cancels the root tasks that are still
 * running outside the body (a `run` started inside the program, a `Lazy`
 * computation) and waits for their `finally` blocks (up to `cleanupLimit`);
 * their `Cancelled` rejections are not reported. Then it waits for every
 * child process started with {@link spawnProcess} to have exited (they were
 * terminated when their tasks ended), and for stdout and stderr to take what
 * was written to them.
 *
 * A signal that some task is waiting for with {@link waitSignal} or
 * {@link onSignal} goes to that task only and does not cancel the program.
 * Call `main` once, at the top of the program's entry module.
 *
 * On SIGINT/SIGTERM the body is cancelled, so its `finally` runs in a
 * cancelled task, where every suspension point throws `Cancelled` at once:
 * cleanup that must still wait (writing a last message, flushing a file, a
 * goodbye on a socket) goes inside `protectFromCancel`.
 *
 * @example
 * ```ts
 * import { main, stdout } from "weftjs/node";
 * import { protectFromCancel, sleep } from "weftjs";
 *
 * main(function* () {
 *   try {
 *     for (;;) {
 *       yield* stdout.write("working\n");
 *       yield* sleep(1000);
 *     }
 *   } finally {
 *     // Runs on Ctrl-C, shielded so the write is not cut short; then exit status 130.
 *     yield* protectFromCancel(() => stdout.write("stopped cleanly\n"));
 *   }
 * });
 * ```
 */
export function main(body: () => Operation<unknown>, options?: MainOptions): void {
  requireFunction("main()", "body", body);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`main(): options must be an object, got ${describe(options)}`);
  }
  const signals = options?.signals ?? ["SIGINT", "SIGTERM"];
  if (!Array.isArray(signals)) throw new TypeError(`main(): options.signals must be an array of signal names, got ${describe(signals)}`);
  signals.forEach((signal, i) => requireSignalName("main()", `options.signals[${i}]`, signal));
  if (options?.debug !== undefined && typeof options.debug !== "boolean") {
    throw new TypeError(`main(): options.debug must be a boolean, got ${describe(options.debug)}`);
  }
  const cleanupLimit = options?.cleanupLimit ?? CLEANUP_LIMIT_MS;
  requireDuration("main()", "options.cleanupLimit", cleanupLimit);
  if (started) throw new WeftUsageError("main(): a program has one main, and it was already started");
  started = true;

  const controller = new AbortController();
  let caught: NodeJS.Signals | null = null;
  let ending = false;

  const removeHandlers = (): void => {
    for (const signal of signals) setFallback(signal, null);
  };
  const dieBy = (signal: NodeJS.Signals): void => {
    removeHandlers();
    // Dying by a signal runs no exit hook: group members that outlived their leader go now.
    killEveryChildNow();
    const status = 128 + signalNumber(signal);
    if (process.platform === "win32") process.exit(status);
    setTimeout(() => process.exit(status), RAISE_FALLBACK_MS);
    process.kill(process.pid, signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (caught === null && !ending) {
      caught = signal;
      controller.abort(new Cancelled(`the program received ${signal}`));
      return;
    }
    // A second signal: the user does not want to wait for the cleanup.
    killEveryChildNow();
    dieBy(signal);
  };
  for (const signal of signals) setFallback(signal, onSignal);

  const end = (failed: boolean): void => {
    ending = true;
    // A root task cancelled here rejects its run() promise with Cancelled;
    // nobody may be left to handle it, and that must not fail the program.
    process.on("unhandledRejection", (reason) => {
      if (reason instanceof Cancelled) return;
      report(reason);
      failed = true;
    });
    letRootsEnd(cleanupLimit, () => {
      whenNoChildren(() => {
        flushStdio(() => {
          if (caught !== null) dieBy(caught);
          else {
            removeHandlers();
            // Not process.exit(undefined): an explicit undefined resets process.exitCode.
            if (failed) process.exit(1);
            else process.exit();
          }
        });
      });
    });
  };

  run(body, { signal: controller.signal, debug: options?.debug }).then(
    () => end(false),
    (error: unknown) => {
      if (caught === null || !(error instanceof Cancelled)) report(error);
      end(true);
    },
  );
}

/**
 * Cancels every root task still running and calls `done` once all have ended
 * (roots started by their cleanup included), or after `limitMs`.
 */
function letRootsEnd(limitMs: number, done: () => void): void {
  const scheduler = defaultScheduler();
  const watched = new Set<Coroutine>();
  let finished = false;
  let limit: ReturnType<typeof setTimeout> | undefined;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (limit !== undefined) clearTimeout(limit);
    done();
  };
  const check = (): void => {
    for (const root of scheduler.roots.keys()) {
      if (watched.has(root)) continue;
      watched.add(root);
      addTaskHook(root, {
        cancelled: () => {},
        ended: () => {
          watched.delete(root);
          // Ended hooks run inside the scheduler; look at the roots once it is done.
          queueMicrotask(check);
        },
      });
      scheduler.cancel(root);
    }
    if (watched.size === 0) finish();
  };
  check();
  if (!finished) {
    // A host timer holds at most MAX_HOST_TIMER_MS (24.8 days); a longer limit would fire at once.
    limit = setTimeout(
      () => {
        console.error(`weft: main(): ${watched.size} task(s) still running ${limitMs} ms after the program ended; exiting without them`);
        finish();
      },
      Math.min(limitMs, MAX_HOST_TIMER_MS),
    );
  }
}

function report(error: unknown): void {
  if (error instanceof DeadlockError) {
    // The deadlock handler has printed the report already.
    console.error(`weft: main(): the program is deadlocked (${error.blocked} task(s) blocked)`);
  } else {
    console.error(error);
  }
}

/** Calls `done` once stdout and stderr have written out what they hold (or after FLUSH_LIMIT_MS). */
function flushStdio(done: () => void): void {
  let pending = 2;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(limit);
    done();
  };
  const limit = setTimeout(finish, FLUSH_LIMIT_MS);
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || stream.writableLength === 0) {
      if (--pending === 0) finish();
      continue;
    }
    stream.write("", () => {
      if (--pending === 0) finish();
    });
  }
}
