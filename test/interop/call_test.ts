/**
 * Promise interop (docs/semantics.md, «Interop»): `call(fn)` waits for the promise
 * `fn(signal)` returns, `until(promise)` waits without a signal. A cancelled
 * wait aborts the signal once and resumes the task at once with `Cancelled`,
 * without waiting for the promise; a promise that settled before the
 * cancellation reached the task wins; an abandoned promise's rejection is
 * never reported as unhandled. Also: `run(body, { signal })` composed with
 * `call` from async code (what run_test.ts does not already cover).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  TimeoutError,
  WeftUsageError,
  call,
  isCancellationError,
  pause,
  protectFromCancel,
  run,
  sleep,
  until,
  withTaskGroup,
  withTimeout,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { Boom, Log, testOnEveryDriver, assertEvents } from "../support.ts";

/** A promise with its settle functions outside. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that never settles. */
const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** Lets every pending promise job run (one macrotask later). */
const flush = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

const tick = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts the "abort" events of a signal. */
function countAborts(signal: AbortSignal): { readonly count: number } {
  const counter = { count: 0 };
  signal.addEventListener("abort", () => counter.count++);
  return counter;
}

/** A fetch-like API: rejects with the signal's reason when told to stop. */
function fakeFetch(signal: AbortSignal, log: Log): Promise<string> {
  return new Promise<string>((_resolve, reject) => {
    signal.addEventListener("abort", () => {
      log.add("fetch told to stop");
      reject(signal.reason);
    });
  });
}

/**
 * Records unhandled rejections while `body` runs and for a few macrotasks
 * after it, and returns them.
 */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on("unhandledRejection", listener);
  try {
    await body();
    for (let i = 0; i < 5; i++) await flush();
    await tick(20);
    for (let i = 0; i < 3; i++) await flush();
  } finally {
    process.off("unhandledRejection", listener);
  }
  return seen;
}

// ── call: plain outcomes ─────────────────────────────────────────────────────

testOnEveryDriver("call returns the value the promise resolves with", async (run) => {
  const value = await run(function* () {
    const a = yield* call(() => Promise.resolve(20));
    const b = yield* call(() => new Promise<number>((resolve) => setTimeout(() => resolve(22), 5)));
    return a + b;
  });
  assert.equal(value, 42);
});

testOnEveryDriver("call throws the promise's rejection reason unchanged", async (run) => {
  const boom = new Boom("rejected");
  const caught = await run(function* () {
    try {
      yield* call(() => new Promise<never>((_r, reject) => setTimeout(() => reject(boom), 5)));
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.equal(caught, boom);
  // A non-Error rejection value is passed through as is.
  const plain = await run(function* () {
    try {
      yield* call(() => Promise.reject("just a string"));
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.equal(plain, "just a string");
});

testOnEveryDriver("call passes fn a fresh, not-aborted AbortSignal, one per call", async (run) => {
  const signals: AbortSignal[] = [];
  await run(function* () {
    for (let i = 0; i < 2; i++) {
      yield* call((signal) => {
        assert.ok(signal instanceof AbortSignal);
        assert.equal(signal.aborted, false);
        signals.push(signal);
        return Promise.resolve(i);
      });
    }
  });
  assert.equal(signals.length, 2);
  assert.notEqual(signals[0], signals[1]);
});

// ── call: cancellation ───────────────────────────────────────────────────────

testOnEveryDriver("a cancelled call aborts its signal once, with a Cancelled reason, and resumes at once", async (run) => {
  const log = new Log();
  let signal: AbortSignal | undefined;
  let aborts: { readonly count: number } | undefined;
  const outcome = await run(function* () {
    try {
      yield* withTimeout(20, function* () {
        try {
          // A promise that never settles: waiting for it would hang the test.
          yield* call((s) => {
            signal = s;
            aborts = countAborts(s);
            return never<string>();
          });
          log.add("call returned (wrong)");
        } catch (e) {
          log.add(`call threw ${e instanceof Cancelled ? "Cancelled" : String(e)}, aborted=${signal!.aborted}`);
          throw e;
        }
      });
      return "no timeout (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.ok(outcome instanceof TimeoutError, `expected TimeoutError, got ${String(outcome)}`);
  assertEvents(run, log.entries, ["call threw Cancelled, aborted=true"]);
  assert.equal(aborts!.count, 1);
  assert.ok(signal!.reason instanceof Cancelled, `abort reason: ${String(signal!.reason)}`);
});

testOnEveryDriver("cancellation does not wait for the promise: the task resumes before it settles", async (run) => {
  const log = new Log();
  // The promise settles only when the test settles it, after the run: however the host stalls,
  // the timeout cannot lose a race against it.
  let settle: ((value: string) => void) | undefined;
  let started = false;
  const startSlow = (): Promise<string> => {
    started = true;
    return new Promise<string>((resolve) => {
      settle = (value) => {
        log.add("promise settled");
        resolve(value);
      };
    });
  };
  const outcome = await run(function* () {
    try {
      return yield* withTimeout(20, () => call(startSlow));
    } catch (e) {
      log.add(e instanceof TimeoutError ? "timed out" : `caught ${String(e)}`);
      return "gave up";
    }
  });
  assert.equal(outcome, "gave up");
  assert.ok(started, "the call started its promise");
  assert.deepEqual(log.entries, ["timed out"], "the run ended before the promise settled");
  settle!("late value");
  assert.deepEqual(log.entries, ["timed out", "promise settled"]);
});

test("host pump: one pump after cancel() finishes the task, with the promise still pending", () => {
  const host = createHost();
  let signal: AbortSignal | undefined;
  const log = new Log();
  const task = host.spawn(function* () {
    try {
      yield* call((s) => {
        signal = s;
        return never<number>();
      });
    } finally {
      log.add(`finally aborted=${signal!.aborted}`);
    }
  });
  host.pump();
  assert.equal(task.done, false);
  assert.equal(signal!.aborted, false, "no abort before the cancellation");
  task.cancel();
  host.pump();
  assert.equal(task.done, true);
  assert.throws(() => task.tryWait(), Cancelled);
  assert.deepEqual(log.entries, ["finally aborted=true"]);
});

test("host pump: the signal aborts exactly once, however often the task is cancelled", () => {
  const host = createHost();
  let aborts: { readonly count: number } | undefined;
  let signal: AbortSignal | undefined;
  const task = host.spawn(function* () {
    try {
      yield* call((s) => {
        signal = s;
        aborts = countAborts(s);
        return never<void>();
      });
    } finally {
      // Cleanup that keeps the task alive a little while it is cancelled again.
      yield* protectFromCancel(function* () {
        yield* pause();
        yield* pause();
      });
    }
  });
  host.pump();
  task.cancel();
  task.cancel();
  host.pump();
  task.cancel();
  host.pump();
  assert.equal(task.done, true);
  assert.equal(aborts!.count, 1);
  assert.ok(signal!.reason instanceof Cancelled);
});

testOnEveryDriver("a call in an already-cancelled task throws Cancelled without starting fn", async (run) => {
  let started = 0;
  const log = new Log();
  await assert.rejects(
    run(function* () {
      yield* withTimeout(5, function* () {
        try {
          yield* sleep(60_000);
        } finally {
          // The task is cancelled here: a call must not start fn.
          try {
            yield* call(() => {
              started++;
              return Promise.resolve();
            });
            log.add("call returned (wrong)");
          } catch (e) {
            log.add(e instanceof Cancelled ? "call threw Cancelled" : `call threw ${String(e)}`);
          }
        }
      });
    }),
    TimeoutError,
  );
  assert.equal(started, 0);
  assert.deepEqual(log.entries, ["call threw Cancelled"]);
});

// ── call: settlement versus cancellation ordering (host pump) ────────────────

test("a promise resolved before the cancellation reached the task wins; Cancelled comes at the next suspension", async () => {
  const host = createHost();
  const d = deferred<string>();
  const log = new Log();
  let signal: AbortSignal | undefined;
  const task = host.spawn(function* () {
    const value = yield* call((s) => {
      signal = s;
      return d.promise;
    });
    log.add(`got ${value}`);
    try {
      yield* pause();
      log.add("paused (wrong)");
    } catch (e) {
      log.add(e instanceof Cancelled ? "Cancelled at next suspension" : `caught ${String(e)}`);
      throw e;
    }
  });
  host.pump();
  assert.equal(task.done, false);
  d.resolve("the value");
  await flush(); // the promise's handlers run: the task is now ready with the value
  task.cancel(); // ...and the cancellation arrives before it runs
  host.pump();
  assert.deepEqual(log.entries, ["got the value", "Cancelled at next suspension"]);
  assert.equal(task.done, true);
  assert.throws(() => task.tryWait(), Cancelled);
  assert.equal(signal!.aborted, false, "a settled call must not abort its signal");
});

test("a promise rejected before the cancellation reached the task wins: its error is thrown, not Cancelled", async () => {
  const host = createHost();
  const d = deferred<string>();
  const boom = new Boom("rejected first");
  let caught: unknown;
  let signal: AbortSignal | undefined;
  const task = host.spawn(function* () {
    try {
      yield* call((s) => {
        signal = s;
        return d.promise;
      });
    } catch (e) {
      caught = e;
    }
  });
  host.pump();
  d.reject(boom);
  await flush();
  task.cancel();
  host.pump();
  assert.equal(caught, boom);
  assert.equal(signal!.aborted, false);
  assert.equal(task.done, true);
});

test("a cancellation that reached the task first wins: the later value is dropped", async () => {
  const host = createHost();
  const d = deferred<string>();
  const log = new Log();
  let signal: AbortSignal | undefined;
  const task = host.spawn(function* () {
    try {
      const v = yield* call((s) => {
        signal = s;
        return d.promise;
      });
      log.add(`got ${v} (wrong)`);
    } catch (e) {
      log.add(e instanceof Cancelled ? "Cancelled" : `caught ${String(e)}`);
    }
  });
  host.pump();
  task.cancel();
  host.pump();
  assert.deepEqual(log.entries, ["Cancelled"]);
  assert.equal(signal!.aborted, true);
  d.resolve("too late");
  await flush();
  host.pump();
  assert.deepEqual(log.entries, ["Cancelled"]);
  assert.equal(task.done, true);
});

// ── call: a completed call leaves its signal alone ───────────────────────────

// Event loop only: on virtual time the timeout would fire while the call waits
// for its (real-time) promise.
// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "a call that completed does not abort its signal afterwards (a fetch body stays readable)",
  async (run) => {
    let kept: AbortSignal | undefined;
    let failedSignal: AbortSignal | undefined;
    const log = new Log();
    // The task is cancelled once its log shows the work done, not by a short timeout: a stalled
    // host could let a timeout fire before the work, and the point is what happens after it.
    const outcome = await run(function* () {
      return yield* withTaskGroup<unknown>(function* (group) {
        const worker = group.spawn(
          function* () {
            // Resolved: the "response" outlives the call; its body uses the same signal.
            yield* call((signal) => {
              kept = signal;
              return Promise.resolve("response");
            });
            // Rejected: also settled, so also not aborted.
            try {
              yield* call((signal) => {
                failedSignal = signal;
                return Promise.reject(new Boom());
              });
            } catch {
              log.add("second call rejected");
            }
            yield* sleep(5);
            log.add(`after more work aborted=${kept!.aborted}`);
            // Then this task is cancelled: finished calls are not told to stop.
            yield* sleep(60_000);
          },
          { allowFailure: true },
        );
        while (log.entries.length < 2) yield* sleep(1);
        worker.cancel();
        try {
          yield* worker.wait();
          return "not cancelled (wrong)";
        } catch (e) {
          return e;
        }
      });
    });
    assert.ok(outcome instanceof Cancelled, `expected Cancelled, got ${String(outcome)}`);
    assert.deepEqual(log.entries, ["second call rejected", "after more work aborted=false"]);
    assert.equal(kept!.aborted, false);
    assert.equal(failedSignal!.aborted, false);
  },
  { except: "virtual time" },
);

// Event loop only: it cancels through run()'s { signal } option, which the other drivers do not take.
test("a completed call's signal stays un-aborted when its task is cancelled or ends", async () => {
  const controller = new AbortController();
  let kept: AbortSignal | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const done = run(
    function* () {
      yield* call((signal) => {
        kept = signal;
        return Promise.resolve();
      });
      started();
      yield* sleep(60_000);
    },
    { signal: controller.signal },
  );
  await running;
  await tick(5);
  controller.abort();
  await assert.rejects(done, Cancelled);
  await flush();
  assert.equal(kept!.aborted, false);
});

// ── call: bad fn ─────────────────────────────────────────────────────────────

testOnEveryDriver("fn throwing synchronously: call throws that error", async (run) => {
  const boom = new Boom("sync throw");
  let seen: AbortSignal | undefined;
  const caught = await run(function* () {
    try {
      yield* call((signal) => {
        seen = signal;
        throw boom;
      });
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.equal(caught, boom);
  assert.ok(seen instanceof AbortSignal, "fn was called with a signal");
});

testOnEveryDriver("fn returning something that is not a promise: call throws TypeError", async (run) => {
  const results = await run(function* () {
    const out: string[] = [];
    for (const value of [42, undefined, null, "text", { then: 5 }, {}]) {
      try {
        yield* call(() => value as unknown as PromiseLike<unknown>);
        out.push("no error (wrong)");
      } catch (e) {
        out.push(e instanceof TypeError ? "TypeError" : `other: ${String(e)}`);
      }
    }
    return out;
  });
  assert.deepEqual(results, ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError"]);
});

testOnEveryDriver("call(fn) with fn not a function throws TypeError", async (run) => {
  const results = await run(function* () {
    const out: string[] = [];
    for (const fn of [undefined, 42, "fn", {}, Promise.resolve(1)]) {
      try {
        yield* call(fn as unknown as () => Promise<unknown>);
        out.push("no error (wrong)");
      } catch (e) {
        out.push(e instanceof TypeError ? "TypeError" : `other: ${String(e)}`);
      }
    }
    return out;
  });
  assert.deepEqual(results, ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError"]);
});

test("call and until outside a task throw WeftUsageError, and fn is not started", () => {
  let started = 0;
  const op = call(() => {
    started++;
    return Promise.resolve(1);
  });
  assert.throws(() => op[Symbol.iterator]().next(), WeftUsageError);
  assert.equal(started, 0);
  assert.throws(() => until(Promise.resolve(1))[Symbol.iterator]().next(), WeftUsageError);
});

// ── until ────────────────────────────────────────────────────────────────────

testOnEveryDriver("until returns a promise's value and throws its rejection", async (run) => {
  const boom = new Boom("until rejected");
  const out = await run(function* () {
    const a = yield* until(Promise.resolve("now"));
    const b = yield* until(new Promise<string>((resolve) => setTimeout(() => resolve("later"), 5)));
    let c: unknown;
    try {
      yield* until(new Promise<never>((_r, reject) => setTimeout(() => reject(boom), 5)));
    } catch (e) {
      c = e;
    }
    return [a, b, c];
  });
  assert.deepEqual(out.slice(0, 2), ["now", "later"]);
  assert.equal(out[2], boom);
});

testOnEveryDriver("a cancelled until resumes at once with Cancelled", async (run) => {
  const log = new Log();
  const outcome = await run(function* () {
    try {
      yield* withTimeout(20, function* () {
        try {
          yield* until(never<void>());
        } catch (e) {
          log.add(e instanceof Cancelled ? "until threw Cancelled" : `until threw ${String(e)}`);
          throw e;
        }
      });
      return "no timeout (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.ok(outcome instanceof TimeoutError);
  assertEvents(run, log.entries, ["until threw Cancelled"]);
});

testOnEveryDriver("an abandoned until whose promise rejects later: no unhandled rejection", async (run) => {
  const d = deferred<string>();
  const log = new Log();
  const seen = await unhandledDuring(async () => {
    const outcome = await run(function* () {
      try {
        return yield* withTimeout(10, () => until(d.promise));
      } catch (e) {
        log.add(e instanceof TimeoutError ? "timed out" : `caught ${String(e)}`);
        return "abandoned";
      }
    });
    assert.equal(outcome, "abandoned");
    // Only now, with nobody waiting any more, does the promise fail.
    d.reject(new Boom("late rejection"));
  });
  assert.deepEqual(log.entries, ["timed out"]);
  assert.deepEqual(seen, [], "the late rejection was reported as unhandled");
});

testOnEveryDriver("an abandoned call whose promise rejects when aborted (like fetch): no unhandled rejection", async (run) => {
  const log = new Log();
  const seen = await unhandledDuring(async () => {
    await assert.rejects(
      run(function* () {
        yield* withTimeout(10, () => call((signal) => fakeFetch(signal, log)));
      }),
      TimeoutError,
    );
  });
  assert.deepEqual(log.entries, ["fetch told to stop"]);
  assert.deepEqual(seen, []);
});

testOnEveryDriver("until and call accept a thenable that is not a Promise", async (run) => {
  const later = <T>(value: T): PromiseLike<T> => ({
    then<R1 = T, R2 = never>(
      onFulfilled?: ((v: T) => R1 | PromiseLike<R1>) | null,
      _onRejected?: ((e: unknown) => R2 | PromiseLike<R2>) | null,
    ): PromiseLike<R1 | R2> {
      setTimeout(() => onFulfilled?.(value), 2);
      return this as unknown as PromiseLike<R1 | R2>;
    },
  });
  const failing: PromiseLike<never> = {
    then<R1 = never, R2 = never>(
      _onFulfilled?: ((v: never) => R1 | PromiseLike<R1>) | null,
      onRejected?: ((e: unknown) => R2 | PromiseLike<R2>) | null,
    ): PromiseLike<R1 | R2> {
      setTimeout(() => onRejected?.(new Boom("thenable rejected")), 2);
      return this as unknown as PromiseLike<R1 | R2>;
    },
  };
  const out = await run(function* () {
    const a = yield* until(later("from until"));
    const b = yield* call(() => later("from call"));
    let c = "no error (wrong)";
    try {
      yield* until(failing);
    } catch (e) {
      c = e instanceof Boom ? e.message : String(e);
    }
    return [a, b, c];
  });
  assert.deepEqual(out, ["from until", "from call", "thenable rejected"]);
});

testOnEveryDriver("until with something that is not a thenable throws TypeError", async (run) => {
  const results = await run(function* () {
    const out: string[] = [];
    for (const value of [undefined, null, 42, "p", {}, { then: "no" }, () => 1]) {
      try {
        yield* until(value as unknown as PromiseLike<unknown>);
        out.push("no error (wrong)");
      } catch (e) {
        out.push(e instanceof TypeError ? "TypeError" : `other: ${String(e)}`);
      }
    }
    return out;
  });
  assert.deepEqual(results, Array(7).fill("TypeError"));
});

// ── run(body, { signal }) meets call, from async code ───────────────────────

// Event loop only: it cancels through run()'s { signal } option, which the other drivers do not take.
test("aborting run's signal aborts the pending call's signal; the run rejects with Cancelled after cleanup", async () => {
  const log = new Log();
  const controller = new AbortController();
  let callSignal: AbortSignal | undefined;
  const done = run(
    function* () {
      try {
        yield* call((signal) => {
          callSignal = signal;
          return fakeFetch(signal, log);
        });
      } finally {
        yield* protectFromCancel(() => sleep(10));
        log.add("cleanup done");
      }
    },
    { signal: controller.signal },
  );
  done.catch(() => log.add("run rejected"));
  // Until the call is pending: the run starts at the host's next turn, which a loaded host may delay.
  for (let waited = 0; callSignal === undefined && waited < 5000; waited += 5) await tick(5);
  controller.abort(new Boom("the caller's own reason"));
  // A custom abort reason still ends the run with a cancellation error.
  await assert.rejects(done, (e) => e instanceof Cancelled && isCancellationError(e));
  assert.deepEqual(log.entries, ["fetch told to stop", "cleanup done", "run rejected"]);
  assert.ok(callSignal!.reason instanceof Cancelled);
});

// Event loop only: it cancels through run()'s { signal } option, which the other drivers do not take.
test("a run started from async code inside a call: its value comes back, and aborting the outer run cancels it", async () => {
  // The value path: run -> call -> async function (after an await) -> run.
  const value = await run(function* () {
    return yield* call(async () => {
      await tick(1);
      const inner = await run(function* () {
        yield* sleep(5);
        return 20;
      });
      return inner + 1;
    });
  });
  assert.equal(value, 21);

  // The cancellation path: the call's signal is handed to the inner run.
  const log = new Log();
  const controller = new AbortController();
  let innerRun: Promise<void> | undefined;
  const outer = run(
    function* () {
      try {
        yield* call(async (signal) => {
          await Promise.resolve();
          innerRun = run(
            function* () {
              try {
                yield* sleep(60_000);
              } finally {
                log.add("inner cleanup");
              }
            },
            { signal },
          );
          return innerRun;
        });
      } finally {
        log.add("outer cleanup");
      }
    },
    { signal: controller.signal },
  );
  // A loaded host may take a while to get there.
  for (let waited = 0; innerRun === undefined && waited < 5000; waited += 10) await tick(10);
  assert.ok(innerRun !== undefined, "the inner run was started");
  controller.abort();
  await assert.rejects(outer, Cancelled);
  await assert.rejects(innerRun!, Cancelled);
  assert.deepEqual([...log.entries].sort(), ["inner cleanup", "outer cleanup"]);
});
