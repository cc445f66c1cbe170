/**
 * A timeout is a deadline on a scope of the caller's task, not a task of its
 * own (docs/semantics.md, «Timeouts»): after it the task is not cancelled,
 * nested deadlines report to their own scope, the task's own cancellation
 * wins over a deadline, and what belongs to the body (its AbortSignal) hears
 * the deadline while what belongs to the task does not.
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Broadcast,
  Cancelled,
  TimeoutError,
  isBeingCancelled,
  on,
  pause,
  protectFromCancel,
  sleep,
  useAbortSignal,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
} from "../../src/index.ts";
import { testOnEveryDriver } from "../support.ts";

const U = 50;

testOnEveryDriver("after a timeout the task is not cancelled: it sleeps, waits and times out again", async (run) => {
  const out = await run(function* () {
    const first = yield* withTimeoutOpt(U, () => sleep(100 * U));
    const cancelledAfter = isBeingCancelled();
    yield* sleep(1);
    const second = yield* withTimeoutOpt(100 * U, function* () {
      yield* sleep(1);
      return "second";
    });
    let third: unknown;
    try {
      yield* withTimeout(U, () => sleep(100 * U));
    } catch (error) {
      third = error;
    }
    yield* pause();
    return { first, cancelledAfter, second, third: third instanceof TimeoutError };
  });
  assert.deepEqual(out, { first: undefined, cancelledAfter: false, second: "second", third: true });
});

testOnEveryDriver("a body that catches its timeout's cancellation and returns gives its value, and the task goes on", async (run) => {
  const out = await run(function* () {
    const value = yield* withTimeout(U, function* () {
      try {
        yield* sleep(100 * U);
        return "slept";
      } catch (error) {
        if (!(error instanceof Cancelled)) throw error;
        return "caught";
      }
    });
    yield* sleep(1);
    return value;
  });
  assert.equal(out, "caught");
});

testOnEveryDriver(
  "nested deadlines: the inner one reports to the inner call; the outer one, firing inside the inner body, to the outer call",
  async (run) => {
    const out = await run(function* () {
      const inner = yield* withTimeoutOpt(100 * U, function* () {
        const first = yield* withTimeoutOpt(U, () => sleep(100 * U));
        return `inner returned ${String(first)}`;
      });
      let outerError: unknown;
      let innerSaw: unknown;
      try {
        yield* withTimeout(U, function* () {
          try {
            yield* withTimeout(100 * U, () => sleep(1000 * U));
          } catch (error) {
            innerSaw = error;
            throw error;
          }
        });
      } catch (error) {
        outerError = error;
      }
      return { inner, innerSawCancelled: innerSaw instanceof Cancelled, outerTimedOut: outerError instanceof TimeoutError };
    });
    assert.deepEqual(out, { inner: "inner returned undefined", innerSawCancelled: true, outerTimedOut: true });
  },
);

testOnEveryDriver("the task's own cancellation wins over a deadline that passed too, and stays after the scope", async (run) => {
  const out = await run(function* () {
    return yield* withTaskGroup<{ outcome: string; after: string }>(function* (group) {
      const task = group.spawn(function* () {
        let outcome = "returned";
        try {
          yield* withTimeout(U, function* () {
            // Shielded past the deadline and past the task's cancellation: both are pending when it ends.
            yield* protectFromCancel(() => sleep(4 * U));
            yield* pause();
          });
        } catch (error) {
          outcome = error instanceof TimeoutError ? "timeout" : error instanceof Cancelled ? "cancelled" : String(error);
        }
        let after = "not cancelled";
        try {
          yield* pause();
        } catch (error) {
          if (error instanceof Cancelled) after = "cancelled";
        }
        return { outcome, after };
      });
      yield* sleep(2 * U);
      task.cancel();
      return yield* task.wait();
    });
  });
  assert.deepEqual(out, { outcome: "cancelled", after: "cancelled" });
});

testOnEveryDriver(
  "a signal taken in a timeout's body aborts at the deadline and when the body ends; the task's own signal does not",
  async (run) => {
    const out = await run(function* () {
      const own = useAbortSignal();
      let timedOut: AbortSignal | undefined;
      yield* withTimeoutOpt(U, function* () {
        timedOut = useAbortSignal();
        yield* sleep(100 * U);
      });
      let finished: AbortSignal | undefined;
      let abortedInside = true;
      yield* withTimeoutOpt(100 * U, function* () {
        finished = useAbortSignal();
        abortedInside = finished.aborted;
        yield* sleep(1);
      });
      return {
        timedOut: timedOut?.aborted === true && timedOut.reason instanceof Cancelled,
        abortedInside,
        finishedAfterBody: finished?.aborted === true,
        own: own.aborted,
      };
    });
    assert.deepEqual(out, { timedOut: true, abortedInside: false, finishedAfterBody: true, own: false });
  },
);

testOnEveryDriver(
  "a Broadcast or on subscription made in a timeout's body ends with the body; one made before it does not",
  async (run) => {
    const out = await run(function* () {
      const news = new Broadcast<number>({ capacity: 4 });
      const target = new EventTarget();
      const before = news.subscribe();
      let inBody: { ended: boolean } | undefined;
      let eventsInBody: { closed: boolean } | undefined;
      yield* withTimeoutOpt(U, function* () {
        inBody = news.subscribe();
        eventsInBody = yield* on<Event>(target, "ping");
        yield* sleep(100 * U);
      });
      news.tryPublish(1);
      return {
        before: before.ended,
        beforeGot: before.tryGet(),
        inBody: inBody?.ended,
        events: eventsInBody?.closed,
        subscribers: news.subscribers,
      };
    });
    assert.deepEqual(out, { before: false, beforeGot: 1, inBody: true, events: true, subscribers: 1 });
  },
);
