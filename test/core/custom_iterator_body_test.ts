/**
 * Task bodies that are not plain native generators. The scheduler calls the
 * built-in generator `next`/`throw` directly when a body's generator uses
 * them (a monomorphic resume); these tests pin down that every other body is
 * still driven through its own methods, at every resume and at cancellation.
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, type Operation, pause, sleep, withTaskGroup } from "../../src/index.ts";
import { Log, testOnEveryDriver } from "../support.ts";

/** A generator whose own `next` and `throw` were replaced by counting wrappers. */
function wrapped<T>(gen: Operation<T>, log: Log): Operation<T> {
  const next = gen.next;
  const throw_ = gen.throw;
  gen.next = function (value?: unknown) {
    log.add("own next");
    return next.call(this, value);
  };
  gen.throw = function (error: unknown) {
    log.add(`own throw ${error instanceof Cancelled ? "Cancelled" : String(error)}`);
    return throw_.call(this, error);
  };
  return gen;
}

testOnEveryDriver("a generator whose own next was replaced is resumed through it at every suspension", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      const task = group.spawn(() =>
        wrapped(
          (function* () {
            // Timers, not pauses: a task alone in the ring may pass a pause without suspending.
            yield* sleep(1);
            yield* sleep(1);
            return "body done";
          })(),
          log,
        ),
      );
      return yield* task.wait();
    });
  });
  assert.equal(result, "body done");
  // The first call starts the body; then one per pause.
  assert.deepEqual(log.entries, ["own next", "own next", "own next"]);
});

testOnEveryDriver("a generator whose own throw was replaced receives its cancellation through it", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() =>
        wrapped(
          (function* () {
            try {
              yield* sleep(3_600_000);
            } finally {
              log.add("finally");
            }
          })(),
          log,
        ),
      );
      yield* pause();
      group.returnImmediately(undefined);
    });
  });
  assert.deepEqual(log.entries, ["own next", "own throw Cancelled", "finally"]);
});

testOnEveryDriver("methods replaced on a generator function's prototype are the ones called", async (run) => {
  const log = new Log();
  function* body(): Operation<number> {
    yield* sleep(1);
    return 7;
  }
  const proto = body.prototype as Operation<number>;
  proto.next = function (this: Operation<number>, value?: unknown) {
    log.add("prototype next");
    return Object.getPrototypeOf(proto).next.call(this, value);
  };
  const result = await run(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      return yield* group.spawn(body).wait();
    });
  });
  assert.equal(result, 7);
  assert.deepEqual(log.entries, ["prototype next", "prototype next"]);
});

/**
 * An operation written by hand: an iterator object, not a generator, that
 * counts down with a pause per step by driving an inner generator.
 */
class Countdown {
  private readonly inner: Operation<string>;
  constructor(
    steps: number,
    stepMs: number,
    private readonly log: Log,
  ) {
    this.inner = (function* () {
      for (let left = steps; left > 0; left--) {
        log.add(`step ${left}`);
        yield* sleep(stepMs);
      }
      return "countdown done";
    })();
  }
  [Symbol.iterator](): this {
    return this;
  }
  next(value?: unknown): IteratorResult<unknown, string> {
    this.log.add("next");
    return this.inner.next(value);
  }
  throw(error: unknown): IteratorResult<unknown, string> {
    this.log.add(`throw ${error instanceof Cancelled ? "Cancelled" : String(error)}`);
    return this.inner.throw(error);
  }
  return(value: string): IteratorResult<unknown, string> {
    return this.inner.return(value);
  }
}

testOnEveryDriver("a hand-written iterator body is resumed through its own next", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      return yield* group.spawn(() => new Countdown(2, 1, log) as unknown as Operation<string>).wait();
    });
  });
  assert.equal(result, "countdown done");
  assert.deepEqual(log.entries, ["next", "step 2", "next", "step 1", "next"]);
});

testOnEveryDriver("a hand-written iterator body is cancelled through its own throw", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => new Countdown(2, 3_600_000, log) as unknown as Operation<void>);
      yield* pause();
      group.returnImmediately(undefined);
    });
  });
  assert.deepEqual(log.entries, ["next", "step 2", "throw Cancelled"]);
});
