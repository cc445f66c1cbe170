/**
 * `each(source, body)` (docs/semantics.md, «Interop»): a task iterates any iterable or async
 * iterable (arrays, sets, generators, async generators, web ReadableStreams;
 * Node streams in `test/node/each_node_stream_test.ts`), one item at a time
 * and in order. When the loop ends
 * early, because the body threw or the task was cancelled, the iterator's
 * `return()` is called; when the source simply ends, it is not.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, TimeoutError, WeftUsageError, each, sleep, withTimeout, type Operation } from "../../src/index.ts";
import { Boom, Log, testOnEveryDriver, assertEvents } from "../support.ts";

const flush = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Collects every item of `source` through `each`. */
function* collect<T>(source: Iterable<T> | AsyncIterable<T>): Operation<T[]> {
  const out: T[] = [];
  yield* each(source, function* (item) {
    out.push(item);
  });
  return out;
}

/** A sync iterator over `items` that records next/return calls. */
function recordingIterable<T>(items: T[], log: Log): Iterable<T> {
  return {
    [Symbol.iterator](): Iterator<T> {
      let i = 0;
      return {
        next(): IteratorResult<T> {
          log.add(`next ${i}`);
          if (i < items.length) return { done: false, value: items[i++]! };
          return { done: true, value: undefined };
        },
        return(): IteratorResult<T> {
          log.add("return");
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * An async iterator over `items` whose next() settles after `delayMs`, and
 * after the items never settles when `hangAtEnd`; records next/return calls.
 */
function recordingAsyncIterable<T>(
  items: T[],
  log: Log,
  options: { delayMs?: number; hangAtEnd?: boolean; hangReturn?: boolean } = {},
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let i = 0;
      return {
        next(): Promise<IteratorResult<T>> {
          const index = i++;
          log.add(`next ${index}`);
          if (index >= items.length && options.hangAtEnd === true) return new Promise(() => {});
          const result: IteratorResult<T> = index < items.length ? { done: false, value: items[index]! } : { done: true, value: undefined };
          if (options.delayMs === undefined) return Promise.resolve(result);
          return new Promise((resolve) => setTimeout(() => resolve(result), options.delayMs));
        },
        return(): Promise<IteratorResult<T>> {
          log.add("return");
          if (options.hangReturn === true) return new Promise(() => {});
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}

// ── sources ──────────────────────────────────────────────────────────────────

testOnEveryDriver("each over an array and a Set visits every item in order", async (run) => {
  const out = await run(function* () {
    const a = yield* collect([3, 1, 2]);
    const s = yield* collect(new Set(["x", "y", "z"]));
    const empty = yield* collect<number>([]);
    return { a, s, empty };
  });
  assert.deepEqual(out, { a: [3, 1, 2], s: ["x", "y", "z"], empty: [] });
});

testOnEveryDriver("each over a generator and a Map", async (run) => {
  function* squares(n: number): Generator<number> {
    for (let i = 1; i <= n; i++) yield i * i;
  }
  const out = await run(function* () {
    const g = yield* collect(squares(4));
    const m = yield* collect(
      new Map([
        ["a", 1],
        ["b", 2],
      ]),
    );
    return { g, m };
  });
  assert.deepEqual(out, {
    g: [1, 4, 9, 16],
    m: [
      ["a", 1],
      ["b", 2],
    ],
  });
});

testOnEveryDriver("each over an async generator, with awaits between items", async (run) => {
  async function* slowCount(): AsyncGenerator<number> {
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      yield i;
    }
  }
  assert.deepEqual(await run(() => collect(slowCount())), [0, 1, 2, 3]);
});

testOnEveryDriver("each over a web ReadableStream", async (run) => {
  let n = 0;
  const stream = new ReadableStream<string>({
    pull(controller) {
      if (n < 3) controller.enqueue(`chunk ${n++}`);
      else controller.close();
    },
  });
  const out = await run(() => collect(stream as unknown as AsyncIterable<string>));
  assert.deepEqual(out, ["chunk 0", "chunk 1", "chunk 2"]);
  assert.equal(stream.locked, false, "the stream's lock is released when the loop ends");
});

testOnEveryDriver("the body is an operation: it may suspend, and each returns after the last item's body", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* each([30, 10, 20], function* (ms) {
      log.add(`start ${ms}`);
      yield* sleep(ms);
      log.add(`end ${ms}`);
    });
    log.add("each returned");
  });
  assertEvents(run, log.entries, ["start 30", "end 30", "start 10", "end 10", "start 20", "end 20", "each returned"]);
});

// ── one at a time ────────────────────────────────────────────────────────────

testOnEveryDriver("an async source: the next item is not requested before the body for the previous one finished", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* each(recordingAsyncIterable(["a", "b", "c"], log, { delayMs: 1 }), function* (item) {
      log.add(`body ${item} start`);
      yield* sleep(10);
      log.add(`body ${item} end`);
    });
  });
  assertEvents(run, log.entries, [
    "next 0",
    "body a start",
    "body a end",
    "next 1",
    "body b start",
    "body b end",
    "next 2",
    "body c start",
    "body c end",
    "next 3",
  ]);
});

testOnEveryDriver("a sync source: items are pulled one at a time, after each body finished", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* each(recordingIterable([1, 2], log), function* (item) {
      log.add(`body ${item} start`);
      yield* sleep(5);
      log.add(`body ${item} end`);
    });
  });
  assertEvents(run, log.entries, ["next 0", "body 1 start", "body 1 end", "next 1", "body 2 start", "body 2 end", "next 2"]);
});

// ── return() on early exit ───────────────────────────────────────────────────

testOnEveryDriver("a source that ends normally: return() is not called (sync and async)", async (run) => {
  const syncLog = new Log();
  const asyncLog = new Log();
  await run(function* () {
    yield* each(recordingIterable([1, 2, 3], syncLog), function* () {});
    yield* each(recordingAsyncIterable([1, 2, 3], asyncLog), function* () {});
  });
  await flush();
  assert.ok(!syncLog.entries.includes("return"), `sync: ${syncLog.entries.join(", ")}`);
  assert.ok(!asyncLog.entries.includes("return"), `async: ${asyncLog.entries.join(", ")}`);
  assert.deepEqual(syncLog.entries, ["next 0", "next 1", "next 2", "next 3"]);
  assert.deepEqual(asyncLog.entries, ["next 0", "next 1", "next 2", "next 3"]);
});

testOnEveryDriver("a body error ends the loop, calls return() and propagates unchanged (sync source)", async (run) => {
  const log = new Log();
  const boom = new Boom("body failed");
  const caught = await run(function* () {
    try {
      yield* each(recordingIterable([1, 2, 3], log), function* (item) {
        log.add(`body ${item}`);
        if (item === 2) throw boom;
      });
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.equal(caught, boom);
  assert.deepEqual(log.entries, ["next 0", "body 1", "next 1", "body 2", "return"]);
});

testOnEveryDriver("a body error ends the loop, calls return() and propagates unchanged (async source)", async (run) => {
  const log = new Log();
  const boom = new Boom("body failed");
  const caught = await run(function* () {
    try {
      yield* each(recordingAsyncIterable([1, 2, 3], log), function* (item) {
        log.add(`body ${item}`);
        yield* sleep(1);
        if (item === 2) throw boom;
      });
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.equal(caught, boom);
  await flush();
  assertEvents(run, log.entries, ["next 0", "body 1", "next 1", "body 2", "return"]);
});

testOnEveryDriver("a body error runs the finally blocks of a generator and an async generator source", async (run) => {
  const log = new Log();
  function* gen(): Generator<number> {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      log.add("generator finally");
    }
  }
  async function* agen(): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      log.add("async generator finally");
    }
  }
  await run(function* () {
    for (const source of [gen(), agen()] as Array<Iterable<number> | AsyncIterable<number>>) {
      try {
        yield* each(source, function* (i) {
          if (i === 2) throw new Boom();
        });
      } catch (e) {
        assert.ok(e instanceof Boom);
        log.add("caught Boom");
      }
    }
  });
  await flush();
  // The sync generator is closed before the error leaves each; the async one
  // is told to return (not waited for), so its finally may run a bit later.
  assert.deepEqual(log.entries.slice(0, 2), ["generator finally", "caught Boom"]);
  assert.deepEqual(log.entries.slice(2).sort(), ["async generator finally", "caught Boom"]);
});

testOnEveryDriver("cancellation while the body waits calls return() (sync source)", async (run) => {
  const log = new Log();
  const outcome = await run(function* () {
    try {
      yield* withTimeout(20, () =>
        each(recordingIterable([1, 2, 3], log), function* (item) {
          log.add(`body ${item}`);
          yield* sleep(60_000);
        }),
      );
      return "no timeout (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.ok(outcome instanceof TimeoutError);
  assertEvents(run, log.entries, ["next 0", "body 1", "return"]);
});

// Event loop only (this and the next tests that wait on an async source while a
// timeout runs): on virtual time the timer fires before any promise job runs.
// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "cancellation while the body waits calls return() (async source)",
  async (run) => {
    const log = new Log();
    const outcome = await run(function* () {
      try {
        yield* withTimeout(20, () =>
          each(recordingAsyncIterable([1, 2, 3], log), function* (item) {
            log.add(`body ${item}`);
            yield* sleep(60_000);
          }),
        );
        return "no timeout (wrong)";
      } catch (e) {
        return e;
      }
    });
    assert.ok(outcome instanceof TimeoutError);
    await flush();
    assert.deepEqual(log.entries, ["next 0", "body 1", "return"]);
  },
  { except: "virtual time" },
);

// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "cancellation while next() is pending and never settles: no hang, return() is called",
  async (run) => {
    const log = new Log();
    const outcome = await run(function* () {
      try {
        yield* withTimeout(20, () =>
          each(recordingAsyncIterable(["only"], log, { hangAtEnd: true }), function* (item) {
            log.add(`body ${item}`);
          }),
        );
        return "no timeout (wrong)";
      } catch (e) {
        return e;
      }
    });
    assert.ok(outcome instanceof TimeoutError, `expected TimeoutError, got ${String(outcome)}`);
    await flush();
    assert.deepEqual(log.entries, ["next 0", "body only", "next 1", "return"]);
  },
  { except: "virtual time" },
);

// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "a return() that never settles does not hold up the cancellation",
  async (run) => {
    const log = new Log();
    const outcome = await run(function* () {
      try {
        yield* withTimeout(20, () => each(recordingAsyncIterable([1], log, { hangAtEnd: true, hangReturn: true }), function* () {}));
        return "no timeout (wrong)";
      } catch (e) {
        return e;
      }
    });
    assert.ok(outcome instanceof TimeoutError);
    assert.deepEqual(log.entries, ["next 0", "next 1", "return"]);
  },
  { except: "virtual time" },
);

testOnEveryDriver("a body error with a return() that never settles still propagates at once", async (run) => {
  const log = new Log();
  const boom = new Boom();
  await assert.rejects(
    run(() =>
      each(recordingAsyncIterable([1, 2], log, { hangReturn: true }), function* () {
        throw boom;
      }),
    ),
    (e) => e === boom,
  );
  assert.deepEqual(log.entries, ["next 0", "return"]);
});

// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "the cancelled each throws Cancelled inside the task",
  async (run) => {
    const log = new Log();
    await run(function* () {
      try {
        yield* withTimeout(10, function* () {
          try {
            yield* each(recordingAsyncIterable([1], log, { hangAtEnd: true }), function* () {});
          } catch (e) {
            log.add(e instanceof Cancelled ? "each threw Cancelled" : `each threw ${String(e)}`);
            throw e;
          }
        });
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      }
    });
    // return() is called as the loop unwinds, before Cancelled leaves each.
    assert.deepEqual(log.entries, ["next 0", "next 1", "return", "each threw Cancelled"]);
  },
  { except: "virtual time" },
);

testOnEveryDriver("a body error over a web ReadableStream cancels the stream's source", async (run) => {
  const log = new Log();
  let n = 0;
  const stream = new ReadableStream<number>({
    pull(controller) {
      controller.enqueue(n++);
    },
    cancel() {
      log.add("source cancelled");
    },
  });
  const caught = await run(function* () {
    try {
      yield* each(stream as unknown as AsyncIterable<number>, function* (item) {
        log.add(`body ${item}`);
        if (item === 1) throw new Boom();
      });
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.ok(caught instanceof Boom);
  for (let i = 0; i < 3 && !log.entries.includes("source cancelled"); i++) await flush();
  assert.deepEqual(log.entries, ["body 0", "body 1", "source cancelled"]);
});

// ── errors from the source ───────────────────────────────────────────────────

testOnEveryDriver("an error thrown by the source reaches the caller of each", async (run) => {
  const boom = new Boom("source failed");
  function* failing(): Generator<number> {
    yield 1;
    throw boom;
  }
  async function* failingAsync(): AsyncGenerator<number> {
    yield 1;
    await Promise.resolve();
    throw boom;
  }
  const out = await run(function* () {
    const errors: unknown[] = [];
    for (const source of [failing(), failingAsync()] as Array<Iterable<number> | AsyncIterable<number>>) {
      const seen: number[] = [];
      try {
        yield* each(source, function* (i) {
          seen.push(i);
        });
      } catch (e) {
        errors.push(e);
      }
      assert.deepEqual(seen, [1]);
    }
    return errors;
  });
  assert.deepEqual(out, [boom, boom]);
});

// ── bad input ────────────────────────────────────────────────────────────────

testOnEveryDriver("each with a source that is not iterable, or a body that is not a function, throws TypeError", async (run) => {
  const results = await run(function* () {
    const out: string[] = [];
    const noop = function* (): Operation<void> {};
    const cases: Array<[unknown, unknown]> = [
      [42, noop],
      [null, noop],
      [undefined, noop],
      [{}, noop],
      [{ next() {} }, noop],
      [[1, 2], undefined],
      [[1, 2], "body"],
    ];
    for (const [source, body] of cases) {
      try {
        yield* each(source as Iterable<unknown>, body as (item: unknown) => Operation<void>);
        out.push("no error (wrong)");
      } catch (e) {
        out.push(e instanceof TypeError ? "TypeError" : `other: ${String(e)}`);
      }
    }
    return out;
  });
  assert.deepEqual(results, Array(7).fill("TypeError"));
});

testOnEveryDriver("each with a body that does not return an Operation throws TypeError, and calls return()", async (run) => {
  const log = new Log();
  const caught = await run(function* () {
    try {
      yield* each(recordingIterable([1, 2], log), (() => 5) as unknown as (item: number) => Operation<void>);
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.ok(caught instanceof TypeError, `got ${String(caught)}`);
  assert.deepEqual(log.entries, ["next 0", "return"]);
});

test("each over an async source outside a task throws WeftUsageError", () => {
  const log = new Log();
  const op = each(recordingAsyncIterable([1], log), function* () {});
  assert.throws(() => op[Symbol.iterator]().next(), WeftUsageError);
});
