/**
 * `ReaderBase.readSome()` without `max`, the hand-written operation that
 * delegates to the source's `readChunk` itself: every way that delegation
 * can end (a chunk, the end, an error at once or after a wait, a value that
 * is not bytes, a cancellation, `throw` and `return` from whoever drives it)
 * leaves the reader free for the next read and loses no bytes.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { sleep } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { CustomReader, ScriptedReader, failingThen, handDrivenStep, outcomeCancelledAfter, utf8 } from "./support.ts";

test("readSome() hands on the source's chunk itself, after waiting for it", { timeout: 10_000 }, async () => {
  const chunk = utf8("late");
  const reader = new CustomReader(function* () {
    yield* sleep(5);
    return chunk;
  });
  const got = await runVirtual(() => reader.readSome());
  assert.equal(got, chunk);
});

test("at the end of stream readSome() returns undefined, and later reads do not ask the source again", { timeout: 10_000 }, async () => {
  const reader = new CustomReader(function* () {
    return undefined;
  });
  const got = await runVirtual(function* () {
    return [yield* reader.readSome(), yield* reader.readSome(), yield* reader.readSome(2)];
  });
  assert.deepEqual(got, [undefined, undefined, undefined]);
  assert.equal(reader.calls, 1);
});

test("an error from readChunk, thrown at once or after a wait, reaches the caller and leaves the reader free", {
  timeout: 10_000,
}, async () => {
  const reader = new CustomReader(
    failingThen(function* () {
      return utf8("then bytes");
    }),
  );
  const outcomes = await runVirtual(function* () {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        seen.push(new TextDecoder().decode(yield* reader.readSome()));
      } catch (error) {
        seen.push((error as Error).message);
      }
    }
    return seen;
  });
  assert.deepEqual(outcomes, ["at once", "after a wait", "then bytes"]);
});

test("a readChunk that returns something other than bytes is a TypeError, and the reader can be read again", {
  timeout: 10_000,
}, async () => {
  let first = true;
  const reader = new CustomReader(function* () {
    if (first) {
      first = false;
      return "not bytes";
    }
    return utf8("ok");
  });
  const [error, next] = await runVirtual(function* () {
    let error: unknown;
    try {
      yield* reader.readSome();
    } catch (e) {
      error = e;
    }
    return [error, yield* reader.readSome()] as const;
  });
  assert.ok(error instanceof TypeError);
  assert.match((error as Error).message, /readChunk\(\) must return a Uint8Array or undefined, got string/);
  assert.deepEqual(next, utf8("ok"));
});

test("a readSome() cancelled while the source waits takes nothing: the next read gets the chunk", { timeout: 10_000 }, async () => {
  const reader = new ScriptedReader([{ delay: 10, chunk: "kept" }]);
  const [outcome, next] = await runVirtual(function* () {
    const outcome = yield* outcomeCancelledAfter(5, () => reader.readSome());
    return [outcome, yield* reader.readSome()] as const;
  });
  assert.equal(outcome, "Cancelled");
  assert.deepEqual(next, utf8("kept"));
});

/** A reader whose every `readChunk` is {@link handDrivenStep}, returning "bytes". */
function handDriven(log: string[]): CustomReader {
  return new CustomReader(() => handDrivenStep(log, utf8("bytes")));
}

test("driven by hand as yield* would: next() passes values in and out, throw() and return() close the source's read and free the reader", {
  timeout: 10_000,
}, async () => {
  const log: string[] = [];
  const reader = handDriven(log);

  const resumed = reader.readSome();
  assert.deepEqual(resumed.next(), { done: false, value: "waiting" });
  assert.deepEqual(resumed.next("go"), { done: true, value: utf8("bytes") });
  assert.deepEqual(resumed.next(), { done: true, value: undefined }, "a finished read stays finished");

  const thrown = reader.readSome();
  thrown.next();
  assert.throws(() => thrown.throw(new Error("boom")), /boom/);

  const returned = reader.readSome();
  returned.next();
  assert.deepEqual(returned.return(undefined), { done: true, value: undefined });

  assert.deepEqual(log, ["resumed with go", "closed", "threw boom", "closed", "closed"]);
  // Each ending freed the reader: a fourth read starts (a busy reader would throw WeftUsageError here).
  const fourth = reader.readSome();
  assert.deepEqual(fourth.next(), { done: false, value: "waiting" });
  fourth.return(undefined);
});
