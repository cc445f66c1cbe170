/**
 * `on` / `once` with Node's own `EventEmitter` (docs/semantics.md, «Interop»):
 * the value is the first argument, an `"error"` event ends the wait as Node's
 * `events.on`/`events.once` do, and no listener is left behind.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { on, once, run, sleep, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";

const LIMIT = { timeout: 10_000 };

test(
  "on over an EventEmitter buffers each event's first argument in order and removes both listeners when the task ends",
  LIMIT,
  async () => {
    const emitter = new EventEmitter();
    const got = await run(function* () {
      return yield* withTaskGroup<string[]>(function* (group) {
        const sub = yield* on<string>(emitter, "line");
        assert.equal(emitter.listenerCount("line"), 1);
        assert.equal(emitter.listenerCount("error"), 1);
        group.startSoon(function* () {
          emitter.emit("line", "a", 1);
          yield* sleep(1);
          emitter.emit("line", "b");
        });
        return [yield* sub.get(), yield* sub.get()];
      });
    });
    assert.deepEqual(got, ["a", "b"]);
    assert.equal(emitter.listenerCount("line"), 0);
    assert.equal(emitter.listenerCount("error"), 0);
  },
);

test("an EventEmitter's error event ends an on subscription with that error, after the events before it", LIMIT, async () => {
  const emitter = new EventEmitter();
  const failure = new Error("stream broke");
  await run(function* () {
    const sub = yield* on<string>(emitter, "data");
    emitter.emit("data", "x");
    emitter.emit("error", failure); // handled by the subscription: does not throw here
    assert.equal(yield* sub.get(), "x");
    let caught: unknown;
    try {
      yield* sub.get();
    } catch (error) {
      caught = error;
    }
    assert.equal(caught, failure);
    assert.equal(emitter.listenerCount("data") + emitter.listenerCount("error"), 0);
  });
});

test(
  "once over an EventEmitter: returns the first argument, throws an error event, and a timed-out once leaves no listener",
  LIMIT,
  async () => {
    const emitter = new EventEmitter();
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          yield* sleep(1);
          emitter.emit("exit", 0, "SIGTERM");
        });
        assert.equal(yield* once<number>(emitter, "exit"), 0);
      });
      assert.equal(yield* withTimeoutOpt(5, () => once(emitter, "exit")), undefined);
      assert.equal(emitter.listenerCount("exit") + emitter.listenerCount("error"), 0);
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          yield* sleep(1);
          emitter.emit("error", new Error("no"));
        });
        yield* withTimeoutOpt(5_000, function* () {
          try {
            yield* once(emitter, "exit");
            assert.fail("once should have thrown");
          } catch (error) {
            assert.equal((error as Error).message, "no");
          }
        });
      });
      assert.equal(emitter.listenerCount("exit") + emitter.listenerCount("error"), 0);
    });
  },
);
