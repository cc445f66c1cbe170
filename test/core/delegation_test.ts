/**
 * `Delegation`, the base of the hand-written IO operations: it runs an inner
 * operation as `yield*` would (values in and out, `throw` and `return`
 * passed on), runs once as a generator does, and calls `finish` however the
 * inner operation ends other than by completing.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Delegation } from "../../src/core/delegation.ts";
import type { Operation } from "../../src/index.ts";

/** Delegates to `make()`, and logs its own steps and how the inner one went. */
class Logged extends Delegation<string> {
  constructor(
    readonly log: string[],
    readonly make: () => Operation<unknown>,
  ) {
    super();
  }
  protected start(): IteratorResult<unknown, string> {
    this.log.push("start");
    return this.delegate();
  }
  protected open(): Operation<unknown> {
    return this.make();
  }
  protected took(result: IteratorResult<unknown, unknown>): IteratorResult<unknown, string> {
    if (result.done !== true) return result as IteratorResult<unknown, never>;
    this.inner = null;
    this.log.push("completed");
    return { done: true, value: `got ${String(result.value)}` };
  }
  protected finish(): void {
    this.inner = null;
    this.log.push("finish");
  }
}

/** An inner operation that waits twice by a bare `yield` and logs what it is sent and how it ends. */
function waitingTwice(log: string[]): () => Operation<unknown> {
  return function* () {
    try {
      log.push(`sent ${String(yield "first")}`);
      log.push(`sent ${String(yield "second")}`);
      return "done";
    } finally {
      log.push("inner closed");
    }
  };
}

test("values go in and out as through yield*, and a finished delegation stays finished", () => {
  const log: string[] = [];
  const op = new Logged(log, waitingTwice(log));
  assert.deepEqual(op.next(), { done: false, value: "first" });
  assert.deepEqual(op.next("a"), { done: false, value: "second" });
  assert.deepEqual(op.next("b"), { done: true, value: "got done" });
  assert.deepEqual(op.next(), { done: true, value: undefined });
  assert.deepEqual(log, ["start", "sent a", "sent b", "inner closed", "completed"]);
});

test("an inner operation that completes at once completes the delegation in its first step", () => {
  const log: string[] = [];
  const op = new Logged(log, function* () {
    return 42;
  });
  assert.deepEqual(op.next(), { done: true, value: "got 42" });
  assert.deepEqual(log, ["start", "completed"]);
});

test("throw() reaches the inner operation; if it rethrows, finish runs and the error comes out", () => {
  const log: string[] = [];
  const op = new Logged(log, waitingTwice(log));
  op.next();
  assert.throws(() => op.throw(new Error("boom")), /boom/);
  assert.deepEqual(log, ["start", "inner closed", "finish"]);
});

test("an inner operation that catches what throw() sent goes on, and the delegation with it", () => {
  const log: string[] = [];
  const op = new Logged(log, function* () {
    try {
      yield "waiting";
    } catch {
      return "recovered";
    }
    return "not thrown into";
  });
  op.next();
  assert.deepEqual(op.throw(new Error("ignored")), { done: true, value: "got recovered" });
  assert.deepEqual(log, ["start", "completed"]);
});

test("an error from the inner operation's first step or a later one runs finish", () => {
  for (const later of [false, true]) {
    const log: string[] = [];
    const op = new Logged(log, function* () {
      if (later) yield "waiting";
      throw new Error("inner failed");
    });
    if (later) op.next();
    assert.throws(() => op.next(), /inner failed/);
    assert.deepEqual(log, ["start", "finish"]);
  }
});

test("an open() that throws runs finish, and the error comes out", () => {
  const log: string[] = [];
  const op = new Logged(log, () => {
    throw new Error("could not open");
  });
  assert.throws(() => op.next(), /could not open/);
  assert.deepEqual(log, ["start", "finish"]);
});

test("return() closes the inner operation and runs finish; before the start it only ends the delegation", () => {
  const log: string[] = [];
  const running = new Logged(log, waitingTwice(log));
  running.next();
  assert.deepEqual(running.return("left"), { done: true, value: "left" });
  assert.deepEqual(log, ["start", "inner closed", "finish"]);

  const unstarted: string[] = [];
  const returned = new Logged(unstarted, waitingTwice(unstarted));
  assert.deepEqual(returned.return("early"), { done: true, value: "early" });
  assert.deepEqual(returned.next(), { done: true, value: undefined }, "returned before it started, it never starts");
  const thrown = new Logged(unstarted, waitingTwice(unstarted));
  assert.throws(() => thrown.throw(new Error("early")), /early/);
  assert.deepEqual(thrown.next(), { done: true, value: undefined }, "thrown into before it started, it never starts");
  assert.deepEqual(unstarted, []);
});
