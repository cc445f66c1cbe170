/**
 * Queues meet async code and web streams (docs/semantics.md, «Interop»): `toAsyncIterable(queue)`
 * for `for await`, `toReadableStream(queue)` and `fromReadableStream(stream,
 * body, { capacity })`, with back-pressure through a bounded queue, close
 * errors carried across, and cancellation going both ways.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  Queue,
  QueueClosed,
  fromReadableStream,
  pause,
  sleep,
  toAsyncIterable,
  toReadableStream,
  withTimeout,
  TimeoutError,
  type Operation,
} from "../../src/index.ts";
import { Boom, Log, testOnEveryDriver } from "../support.ts";

const tick = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));
const flush = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Reads a queue until it is closed with QueueClosed; other close errors are thrown. */
function* drain<T>(queue: Queue<T>): Operation<T[]> {
  const out: T[] = [];
  try {
    for (;;) out.push(yield* queue.get());
  } catch (e) {
    if (!(e instanceof QueueClosed)) throw e;
  }
  return out;
}

/** A web stream's async iteration, typed for TS's DOM lib. */
function iterate<T>(stream: ReadableStream<T>): AsyncIterable<T> {
  return stream as unknown as AsyncIterable<T>;
}

/** A source stream producing `count` numbers (1, 2, ...) on demand, counting its pulls. */
function countingSource(count: number, log?: Log): { stream: ReadableStream<number>; pulls: () => number } {
  let pulls = 0;
  const stream = new ReadableStream<number>({
    pull(controller) {
      pulls++;
      if (pulls <= count) controller.enqueue(pulls);
      else controller.close();
    },
    cancel(reason) {
      log?.add(`source cancelled (${reason instanceof Cancelled ? "Cancelled" : String(reason)})`);
    },
  });
  return { stream, pulls: () => pulls };
}

/** Records unhandled rejections while `body` runs and for a few macrotasks after it. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on("unhandledRejection", listener);
  try {
    await body();
    for (let i = 0; i < 5; i++) await flush();
    await tick(10);
  } finally {
    process.off("unhandledRejection", listener);
  }
  return seen;
}

// ── toAsyncIterable ──────────────────────────────────────────────────────────

testOnEveryDriver("toAsyncIterable: for await reads what a weft task puts, and ends when the task closes the queue", async (run) => {
  const queue = new Queue<number>();
  const producer = run(function* () {
    for (let i = 0; i < 5; i++) {
      yield* sleep(2);
      yield* queue.put(i);
    }
    queue.close();
    return "producer done";
  });
  const seen: number[] = [];
  for await (const item of toAsyncIterable(queue)) seen.push(item);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.equal(await producer, "producer done");
});

test("toAsyncIterable: items buffered before close are all delivered, then the loop ends", async () => {
  const queue = new Queue<string>();
  for (const s of ["a", "b", "c"]) assert.equal(queue.tryPut(s), true);
  queue.close();
  const seen: string[] = [];
  for await (const item of toAsyncIterable(queue)) seen.push(item);
  assert.deepEqual(seen, ["a", "b", "c"]);
});

test("toAsyncIterable: a loop waiting on an empty queue ends when the queue is closed", async () => {
  const queue = new Queue<number>();
  setTimeout(() => queue.close(), 15);
  const seen: number[] = [];
  for await (const item of toAsyncIterable(queue)) seen.push(item);
  assert.deepEqual(seen, []);
  assert.equal(queue.closed, true);
});

testOnEveryDriver("toAsyncIterable: a custom close error is thrown by the loop, after the buffered items", async (run) => {
  const queue = new Queue<number>();
  const boom = new Boom("producer failed");
  const producer = run(function* () {
    yield* queue.put(1);
    yield* sleep(2);
    yield* queue.put(2);
    queue.close(boom);
  });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of toAsyncIterable(queue)) seen.push(item);
    })(),
    (e) => e === boom,
  );
  assert.deepEqual(seen, [1, 2]);
  await producer;
});

test("toAsyncIterable: breaking out of the loop leaves the queue open with its remaining items", async () => {
  const queue = new Queue<number>();
  for (let i = 1; i <= 5; i++) queue.tryPut(i);
  const first: number[] = [];
  for await (const item of toAsyncIterable(queue)) {
    first.push(item);
    if (item === 2) break;
  }
  assert.deepEqual(first, [1, 2]);
  assert.equal(queue.closed, false);
  assert.equal(queue.size, 3);
  // Another loop continues where the first stopped.
  queue.close();
  const rest: number[] = [];
  for await (const item of toAsyncIterable(queue)) rest.push(item);
  assert.deepEqual(rest, [3, 4, 5]);
});

test("toAsyncIterable: an iterator that has ended stays ended", async () => {
  const queue = new Queue<number>();
  queue.tryPut(1);
  queue.close(new Boom());
  const it = toAsyncIterable(queue)[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { done: false, value: 1 });
  await assert.rejects(it.next(), Boom);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

// ── toReadableStream ─────────────────────────────────────────────────────────

testOnEveryDriver("toReadableStream: consumed with for await, ending when the queue closes", async (run) => {
  const queue = new Queue<string>();
  const producer = run(function* () {
    for (const s of ["x", "y", "z"]) {
      yield* sleep(2);
      yield* queue.put(s);
    }
    queue.close();
  });
  const seen: string[] = [];
  for await (const chunk of iterate(toReadableStream(queue))) seen.push(chunk);
  assert.deepEqual(seen, ["x", "y", "z"]);
  await producer;
});

test("toReadableStream: consumed with getReader(), then done", async () => {
  const queue = new Queue<number>();
  queue.tryPut(10);
  queue.tryPut(20);
  const reader = toReadableStream(queue).getReader();
  assert.deepEqual(await reader.read(), { done: false, value: 10 });
  assert.deepEqual(await reader.read(), { done: false, value: 20 });
  // The next read waits for the queue.
  const pending = reader.read();
  setTimeout(() => queue.tryPut(30), 5);
  assert.deepEqual(await pending, { done: false, value: 30 });
  queue.close();
  assert.deepEqual(await reader.read(), { done: true, value: undefined });
  reader.releaseLock();
});

test("toReadableStream: a queue closed with a custom error errors the stream after the buffered items", async () => {
  const queue = new Queue<number>();
  const boom = new Boom("queue failed");
  queue.tryPut(1);
  queue.close(boom);
  const reader = toReadableStream(queue).getReader();
  assert.deepEqual(await reader.read(), { done: false, value: 1 });
  await assert.rejects(reader.read(), (e) => e === boom);
});

// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "toReadableStream: back-pressure, the producer is never more than capacity + highWaterMark + 1 items ahead of a slow reader",
  async (run) => {
    const capacity = 2;
    const highWaterMark = 1;
    const total = 20;
    const queue = new Queue<number>({ kind: "blocking", capacity });
    let produced = 0;
    const producer = run(function* () {
      for (let i = 0; i < total; i++) {
        yield* queue.put(i);
        produced++;
      }
      queue.close();
    });
    const reader = toReadableStream(queue, { highWaterMark }).getReader();
    let consumed = 0;
    let maxLead = 0;
    await tick(20); // the producer runs ahead as far as it can
    for (;;) {
      maxLead = Math.max(maxLead, produced - consumed);
      const { done, value } = await reader.read();
      if (done) break;
      assert.equal(value, consumed, "items in order");
      consumed++;
      maxLead = Math.max(maxLead, produced - consumed);
      await tick(2); // a slow reader
      maxLead = Math.max(maxLead, produced - consumed);
    }
    await producer;
    assert.equal(consumed, total);
    assert.ok(maxLead <= capacity + highWaterMark + 1, `the producer got ${maxLead} items ahead`);
    assert.ok(maxLead >= capacity, `the producer was only ${maxLead} ahead: the queue never filled`);
  },
  { except: "virtual time" },
);

// Not on virtual time: its clock jumps past the timeouts while the host's promises
// are still settling (a source, a stream, a fetch-like body); the host pump yields to the host first.
testOnEveryDriver(
  "toReadableStream: cancelling the stream closes the queue; a blocked producer and later puts throw QueueClosed",
  async (run) => {
    const queue = new Queue<number>({ kind: "blocking", capacity: 1 });
    const log = new Log();
    const producer = run(function* () {
      try {
        for (let i = 0; ; i++) {
          yield* queue.put(i);
          log.add(`put ${i}`);
        }
      } catch (e) {
        log.add(e instanceof QueueClosed ? "put threw QueueClosed" : `put threw ${String(e)}`);
      }
    });
    const reader = toReadableStream(queue).getReader();
    assert.deepEqual(await reader.read(), { done: false, value: 0 });
    await tick(10); // the producer is now blocked on a full queue
    await reader.cancel();
    assert.equal(queue.closed, true);
    await producer;
    assert.equal(log.entries.at(-1), "put threw QueueClosed");
    assert.throws(() => queue.tryPut(99), QueueClosed);
    await assert.rejects(
      run(function* () {
        yield* queue.put(100);
      }),
      QueueClosed,
    );
  },
  { except: "virtual time" },
);

test("toReadableStream: cancelling while a read waits on an empty queue closes the queue, with no unhandled rejection", async () => {
  const queue = new Queue<number>();
  const seen = await unhandledDuring(async () => {
    const stream = toReadableStream(queue);
    const reader = stream.getReader();
    const pending = reader.read();
    await tick(5);
    await reader.cancel(new Boom("reader gave up"));
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal(queue.closed, true);
    assert.throws(() => queue.tryPut(1));
  });
  assert.deepEqual(seen, []);
});

// ── fromReadableStream ───────────────────────────────────────────────────────

testOnEveryDriver("fromReadableStream: the body reads every chunk in order, then QueueClosed", async (run) => {
  const stream = new ReadableStream<number>({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(i);
      controller.close();
    },
  });
  const out = await run(() => fromReadableStream(stream, drain, { capacity: 3 }));
  assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(stream.locked, false);
});

testOnEveryDriver("fromReadableStream: returns the body's value, with the default capacity", async (run) => {
  const { stream } = countingSource(40);
  const total = await run(() =>
    fromReadableStream(stream, function* (chunks) {
      let sum = 0;
      for (const n of yield* drain(chunks)) sum += n;
      return sum;
    }),
  );
  assert.equal(total, (40 * 41) / 2);
});

testOnEveryDriver("fromReadableStream: back-pressure, the source is pulled lazily as the body consumes", async (run) => {
  const capacity = 2;
  const { stream, pulls } = countingSource(1000);
  // Chunks pulled but not consumed sit in the queue (capacity), in the reader
  // task's hands while it waits for room (1), and in the stream's own buffer
  // (its highWaterMark, 1).
  const bound = capacity + 2;
  const leads: number[] = [];
  const got = await run(() =>
    fromReadableStream(
      stream,
      function* (chunks) {
        const seen: number[] = [];
        yield* sleep(20);
        leads.push(pulls() - seen.length);
        for (let i = 0; i < 6; i++) {
          seen.push(yield* chunks.get());
          leads.push(pulls() - seen.length);
          yield* sleep(5);
          leads.push(pulls() - seen.length);
        }
        yield* sleep(20); // idle: nothing more may be pulled
        leads.push(pulls() - seen.length);
        return seen;
      },
      { capacity },
    ),
  );
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  assert.ok(Math.max(...leads) <= bound, `pulls ran ahead of consumption by ${Math.max(...leads)}: ${leads.join(",")}`);
  assert.ok(leads[0]! >= capacity, `before any read the queue should have filled: ${leads[0]}`);
  assert.ok(pulls() < 20, `the source was pulled ${pulls()} times for 6 chunks consumed`);
});

testOnEveryDriver("fromReadableStream: the stream's error reaches the body as the close error, after the buffered chunks", async (run) => {
  const boom = new Boom("stream failed");
  let step = 0;
  const stream = new ReadableStream<string>({
    pull(controller) {
      step++;
      if (step === 1) controller.enqueue("a");
      else if (step === 2) controller.enqueue("b");
      else controller.error(boom);
    },
  });
  const log = new Log();
  const result = await run(() =>
    fromReadableStream(
      stream,
      function* (chunks) {
        yield* sleep(20); // the reader has buffered a, b and met the error meanwhile
        try {
          for (;;) log.add(`got ${yield* chunks.get()}`);
        } catch (e) {
          log.add(e === boom ? "get threw the stream's error" : `get threw ${String(e)}`);
        }
        return "body done";
      },
      { capacity: 4 },
    ),
  );
  assert.equal(result, "body done");
  assert.deepEqual(log.entries, ["got a", "got b", "get threw the stream's error"]);
});

testOnEveryDriver("fromReadableStream: a stream error the body rethrows fails the call with that error", async (run) => {
  const boom = new Boom("stream failed");
  const stream = new ReadableStream<number>({
    start(controller) {
      controller.error(boom);
    },
  });
  await assert.rejects(
    run(() => fromReadableStream(stream, drain)),
    (e) => e === boom,
  );
});

testOnEveryDriver("fromReadableStream: returning early from the body cancels the source and releases the lock", async (run) => {
  const log = new Log();
  const { stream, pulls } = countingSource(1_000_000, log);
  const result = await run(() =>
    fromReadableStream(
      stream,
      function* (chunks) {
        const first = yield* chunks.get();
        yield* pause();
        return `first=${first}`;
      },
      { capacity: 1 },
    ),
  );
  assert.equal(result, "first=1");
  for (let i = 0; i < 5 && log.entries.length === 0; i++) await flush();
  assert.equal(log.entries.length, 1, `source cancel calls: ${log.entries.join(", ")}`);
  assert.ok(log.entries[0]!.startsWith("source cancelled"));
  assert.equal(stream.locked, false, "the reader's lock was released");
  const settledPulls = pulls();
  await tick(10);
  assert.equal(pulls(), settledPulls, "the source is not pulled after the body returned");
});

testOnEveryDriver("fromReadableStream: a body error cancels the source and propagates", async (run) => {
  const log = new Log();
  const { stream } = countingSource(1_000_000, log);
  const boom = new Boom("body failed");
  await assert.rejects(
    run(() =>
      fromReadableStream(stream, function* (chunks) {
        yield* chunks.get();
        throw boom;
      }),
    ),
    (e) => e === boom,
  );
  for (let i = 0; i < 5 && log.entries.length === 0; i++) await flush();
  assert.equal(log.entries.length, 1);
  assert.equal(stream.locked, false);
});

testOnEveryDriver("fromReadableStream: a timeout around it cancels the source, even with a read that never settles", async (run) => {
  const log = new Log();
  let pulled = false;
  const stream = new ReadableStream<number>({
    pull() {
      pulled = true;
      return new Promise<void>(() => {}); // never produces
    },
    cancel() {
      log.add("source cancelled");
    },
  });
  const outcome = await run(function* () {
    try {
      return yield* withTimeout(20, () => fromReadableStream(stream, drain));
    } catch (e) {
      return e;
    }
  });
  assert.ok(outcome instanceof TimeoutError, `got ${String(outcome)}`);
  assert.equal(pulled, true);
  for (let i = 0; i < 5 && log.entries.length === 0; i++) await flush();
  assert.deepEqual(log.entries, ["source cancelled"]);
  assert.equal(stream.locked, false);
});

// ── bad input ────────────────────────────────────────────────────────────────

testOnEveryDriver("stream adapters check their arguments", async (run) => {
  assert.throws(() => toAsyncIterable([1, 2] as unknown as Queue<number>), TypeError);
  assert.throws(() => toReadableStream({} as unknown as Queue<number>), TypeError);
  assert.throws(() => toReadableStream(new Queue<number>(), { highWaterMark: -1 }), RangeError);
  const results = await run(function* () {
    const out: string[] = [];
    const stream = (): ReadableStream<number> => new ReadableStream<number>({ start: (c) => c.close() });
    const cases: Array<() => Operation<unknown>> = [
      () => fromReadableStream([1, 2] as unknown as ReadableStream<number>, drain),
      () => fromReadableStream(null as unknown as ReadableStream<number>, drain),
      () => fromReadableStream(stream(), "body" as unknown as typeof drain),
      () => fromReadableStream(stream(), drain, { capacity: 0 }),
      () => fromReadableStream(stream(), drain, { capacity: 1.5 }),
    ];
    for (const make of cases) {
      try {
        yield* make();
        out.push("no error (wrong)");
      } catch (e) {
        out.push(e instanceof RangeError ? "RangeError" : e instanceof TypeError ? "TypeError" : `other: ${String(e)}`);
      }
    }
    return out;
  });
  assert.deepEqual(results, ["TypeError", "TypeError", "TypeError", "RangeError", "RangeError"]);
});
