/**
 * `Writer.write()` as `WriterBase` implements it: a hand-written operation
 * that delegates to the sink's `writeChunk` itself. Every way that
 * delegation can end (done at once, after a wait, an error at once or after
 * a wait, a cancellation, `throw` and `return` from whoever drives it)
 * leaves the writer free for the next write.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { sleep, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { WriterBase } from "../../src/io.ts";
import { failingThen, handDrivenStep, outcomeCancelledAfter } from "./support.ts";

/** A writer whose `writeChunk` is whatever the test says; it records what it was given. */
class CustomWriter extends WriterBase {
  readonly given: string[] = [];
  constructor(private readonly chunk: (bytes: Uint8Array) => Operation<void>) {
    super();
  }
  protected writeChunk(bytes: Uint8Array): Operation<void> {
    this.given.push(new TextDecoder().decode(bytes));
    return this.chunk(bytes);
  }
  protected get isClosed(): boolean {
    return false;
  }
  close(): void {}
}

test("a write runs only when its operation does, once, and an empty write never reaches the sink", { timeout: 10_000 }, async () => {
  const writer = new CustomWriter(function* () {});
  const made = writer.write("later");
  assert.deepEqual(writer.given, [], "the write ran before its operation did");
  await runVirtual(function* () {
    yield* made;
    yield* made; // a finished write stays finished
    yield* writer.write("");
    yield* writer.write(new Uint8Array(0));
  });
  assert.deepEqual(writer.given, ["later"]);
});

test("an error from writeChunk, thrown at once or after a wait, reaches the caller and leaves the writer free", {
  timeout: 10_000,
}, async () => {
  const writer = new CustomWriter(
    failingThen(function* () {
      yield* sleep(5);
    }) as () => Operation<void>,
  );
  const outcomes = await runVirtual(function* () {
    const seen: string[] = [];
    for (const text of ["a", "b", "c"]) {
      try {
        yield* writer.write(text);
        seen.push(`${text} written`);
      } catch (error) {
        seen.push((error as Error).message);
      }
    }
    return seen;
  });
  assert.deepEqual(outcomes, ["at once", "after a wait", "c written"]);
});

test("a write cancelled while the sink waits ends with Cancelled and leaves the writer free", { timeout: 10_000 }, async () => {
  const writer = new CustomWriter(function* () {
    yield* sleep(10);
  });
  const [outcome, next] = await runVirtual(function* () {
    const outcome = yield* outcomeCancelledAfter(5, () => writer.write("slow"));
    yield* writer.write("next");
    return [outcome, writer.given] as const;
  });
  assert.equal(outcome, "Cancelled");
  assert.deepEqual(next, ["slow", "next"]);
});

test("a bad argument is a TypeError when the write runs, and leaves the writer free", { timeout: 10_000 }, async () => {
  const writer = new CustomWriter(function* () {});
  const made = writer.write(42 as unknown as string);
  const error = await runVirtual(function* () {
    let error: unknown;
    try {
      yield* made;
    } catch (e) {
      error = e;
    }
    yield* writer.write("fine");
    return error;
  });
  assert.ok(error instanceof TypeError, String(error));
  assert.match((error as Error).message, /write\(\): data must be a string or a Uint8Array, got number/);
  assert.deepEqual(writer.given, ["fine"]);
});

/** A writer whose every `writeChunk` is {@link handDrivenStep}. */
function handDriven(log: string[]): CustomWriter {
  return new CustomWriter(() => handDrivenStep(log, undefined));
}

test("driven by hand as yield* would: next() passes values in and out, throw() and return() close the sink's write and free the writer", {
  timeout: 10_000,
}, () => {
  const log: string[] = [];
  const writer = handDriven(log);

  const resumed = writer.write("one");
  assert.deepEqual(resumed.next(), { done: false, value: "waiting" });
  assert.deepEqual(resumed.next("go"), { done: true, value: undefined });
  assert.deepEqual(resumed.next(), { done: true, value: undefined }, "a finished write stays finished");

  const thrown = writer.write("two");
  thrown.next();
  assert.throws(() => thrown.throw(new Error("boom")), /boom/);

  const returned = writer.write("three");
  returned.next();
  assert.deepEqual(returned.return(undefined), { done: true, value: undefined });

  assert.deepEqual(log, ["resumed with go", "closed", "threw boom", "closed", "closed"]);
  // Each ending freed the writer: a fourth write starts (a busy writer would throw WeftUsageError here).
  const fourth = writer.write("four");
  assert.deepEqual(fourth.next(), { done: false, value: "waiting" });
  fourth.return(undefined);
  assert.deepEqual(writer.given, ["one", "two", "three", "four"]);
});
