/**
 * `useAbortSignal()` (docs/semantics.md, «Interop»): an AbortSignal tied to the current
 * task. It aborts when the task is cancelled (reason: a `Cancelled`), when the
 * task ends, and at once if the task was already cancelled; one signal per
 * task. APIs that take a signal (fetch) are told to stop by a timeout.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  TimeoutError,
  WeftUsageError,
  pause,
  sleep,
  until,
  useAbortSignal,
  withTaskGroup,
  withTimeout,
} from "../../src/index.ts";
import { Boom, Log, testOnEveryDriver, assertEvents } from "../support.ts";

/** A fetch-like API: never answers by itself, rejects with the signal's reason when told to stop. */
function fakeFetch(url: string, init: { signal: AbortSignal }, log: Log): Promise<string> {
  return new Promise<string>((_resolve, reject) => {
    if (init.signal.aborted) {
      log.add(`${url}: aborted before start`);
      reject(init.signal.reason);
      return;
    }
    init.signal.addEventListener("abort", () => {
      log.add(`${url}: told to stop (${init.signal.reason instanceof Cancelled ? "Cancelled" : String(init.signal.reason)})`);
      reject(init.signal.reason);
    });
  });
}

testOnEveryDriver("the signal aborts with a Cancelled reason when its task is cancelled, before the task's cleanup runs", async (run) => {
  const log = new Log();
  let signal: AbortSignal | undefined;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const child = group.spawn(function* () {
        signal = useAbortSignal();
        signal.addEventListener("abort", () => log.add("abort event"));
        try {
          yield* sleep(60_000);
        } finally {
          log.add(`child finally aborted=${signal.aborted}`);
        }
      });
      yield* sleep(10);
      log.add(`before cancel aborted=${signal!.aborted}`);
      child.cancel();
    });
  });
  assertEvents(run, log.entries, ["before cancel aborted=false", "abort event", "child finally aborted=true"]);
  assert.ok(signal!.reason instanceof Cancelled, `reason: ${String(signal!.reason)}`);
});

testOnEveryDriver("the signal aborts when its task ends normally, and not before", async (run) => {
  const log = new Log();
  let signal: AbortSignal | undefined;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const child = group.spawn(function* () {
        signal = useAbortSignal();
        yield* sleep(5);
        log.add(`child about to return aborted=${signal.aborted}`);
        return "value";
      });
      assert.equal(yield* child.wait(), "value");
      log.add(`after child ended aborted=${signal!.aborted}`);
    });
  });
  assertEvents(run, log.entries, ["child about to return aborted=false", "after child ended aborted=true"]);
});

testOnEveryDriver("the signal aborts when its task ends with an error", async (run) => {
  let signal: AbortSignal | undefined;
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      // allowFailure: the group is not failed (nor anything cancelled) by this error.
      const child = group.spawn(
        function* () {
          signal = useAbortSignal();
          yield* pause();
          throw new Boom();
        },
        { allowFailure: true },
      );
      try {
        yield* child.wait();
      } catch (e) {
        log.add(`child failed with ${e instanceof Boom ? "Boom" : String(e)}, aborted=${signal!.aborted}`);
      }
    });
  });
  assert.deepEqual(log.entries, ["child failed with Boom, aborted=true"]);
});

testOnEveryDriver("the root task's signal aborts when the run is over", async (run) => {
  let signal: AbortSignal | undefined;
  let abortedInside: boolean | undefined;
  const value = await run(function* () {
    signal = useAbortSignal();
    yield* sleep(2);
    abortedInside = signal.aborted;
    return 7;
  });
  assert.equal(value, 7);
  assert.equal(abortedInside, false);
  assert.equal(signal!.aborted, true);
});

testOnEveryDriver("asked for in an already-cancelled task, the signal is aborted at once (reason Cancelled)", async (run) => {
  const log = new Log();
  await run(function* () {
    try {
      yield* withTimeout(10, function* () {
        try {
          yield* sleep(60_000);
        } finally {
          const signal = useAbortSignal(); // the first call, after the cancellation
          log.add(`aborted=${signal.aborted} reason=${signal.reason instanceof Cancelled ? "Cancelled" : String(signal.reason)}`);
        }
      });
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      log.add("timed out");
    }
  });
  assertEvents(run, log.entries, ["aborted=true reason=Cancelled", "timed out"]);
});

testOnEveryDriver("one task gets the same signal on every call; different tasks get different signals", async (run) => {
  const signals = await run(function* () {
    const root1 = useAbortSignal();
    yield* pause();
    const root2 = useAbortSignal();
    const children = yield* withTaskGroup<AbortSignal[]>(function* (group) {
      const a = group.spawn(function* () {
        const first = useAbortSignal();
        yield* sleep(1);
        assert.equal(useAbortSignal(), first, "same task, same signal");
        return first;
      });
      const b = group.spawn(function* () {
        return useAbortSignal();
      });
      return [yield* a.wait(), yield* b.wait()];
    });
    return { root1, root2, a: children[0]!, b: children[1]! };
  });
  assert.equal(signals.root1, signals.root2);
  assert.notEqual(signals.a, signals.b);
  assert.notEqual(signals.a, signals.root1);
  assert.notEqual(signals.b, signals.root1);
});

testOnEveryDriver("cancelling one task aborts only its own signal, not its sibling's nor its parent's", async (run) => {
  const log = new Log();
  await run(function* () {
    const parentSignal = useAbortSignal();
    yield* withTaskGroup<void>(function* (group) {
      let victimSignal: AbortSignal | undefined;
      let siblingSignal: AbortSignal | undefined;
      const victim = group.spawn(function* () {
        victimSignal = useAbortSignal();
        yield* sleep(60_000);
      });
      const sibling = group.spawn(function* () {
        siblingSignal = useAbortSignal();
        yield* sleep(20);
        log.add(`sibling still running aborted=${siblingSignal.aborted}`);
      });
      // Runs after both children have started, long before the sibling's sleep ends.
      yield* pause();
      victim.cancel();
      yield* pause();
      log.add(`victim=${victimSignal!.aborted} sibling=${siblingSignal!.aborted} parent=${parentSignal.aborted}`);
      yield* sibling.wait();
    });
    log.add(`parent after group aborted=${parentSignal.aborted}`);
  });
  assertEvents(run, log.entries, [
    "victim=true sibling=false parent=false",
    "sibling still running aborted=false",
    "parent after group aborted=false",
  ]);
});

testOnEveryDriver("the abort event fires once, even when the task is cancelled and then ends", async (run) => {
  let count = 0;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const child = group.spawn(function* () {
        useAbortSignal().addEventListener("abort", () => count++);
        try {
          yield* sleep(60_000);
        } finally {
          // Still using the signal after the cancellation: same one, no second abort.
          useAbortSignal();
        }
      });
      yield* sleep(5);
      child.cancel();
      child.cancel();
    });
  });
  assert.equal(count, 1);
});

testOnEveryDriver("a fetch-like API given the task's signal is told to stop when withTimeout fires", async (run) => {
  const log = new Log();
  const outcome = await run(function* () {
    try {
      return yield* withTimeout(20, function* () {
        const signal = useAbortSignal();
        return yield* until(fakeFetch("https://example.test/slow", { signal }, log));
      });
    } catch (e) {
      log.add(e instanceof TimeoutError ? "TimeoutError" : `caught ${String(e)}`);
      return "gave up";
    }
  });
  assert.equal(outcome, "gave up");
  assertEvents(run, log.entries, ["https://example.test/slow: told to stop (Cancelled)", "TimeoutError"]);
});

testOnEveryDriver("a request started after the task was cancelled is refused at once", async (run) => {
  const log = new Log();
  let started = false;
  await run(function* () {
    try {
      yield* withTimeout(10, function* () {
        try {
          yield* sleep(60_000);
        } finally {
          // Started from cleanup code (with its own handlers): the signal is already aborted.
          started = true;
          fakeFetch("https://example.test/late", { signal: useAbortSignal() }, log).catch(() => log.add("late request rejected"));
        }
      });
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
    }
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(started, true);
  assertEvents(run, log.entries, ["https://example.test/late: aborted before start", "late request rejected"]);
});

test("useAbortSignal outside a task throws WeftUsageError", () => {
  assert.throws(() => useAbortSignal(), WeftUsageError);
});
