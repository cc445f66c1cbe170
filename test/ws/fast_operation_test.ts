/**
 * `FastOperation`, the base of the WebSocket's hand-written receive and
 * send: it waits on operations of its own (values in and out as through
 * `yield*`, errors through `waitFailed`, a close through `abandon`), hands
 * the rest of a job to a generator, runs once as a generator does, and runs
 * any number of waits that complete at once without growing the stack.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import type { Operation } from "../../src/index.ts";
import { FastOperation } from "../../src/ws/fast_operation.ts";

/** An operation that waits once by a bare `yield` and logs what it is sent and how it ends. */
function* waitingOnce(log: string[], value: unknown): Operation<unknown> {
  try {
    log.push(`sent ${String(yield "waiting")}`);
    return value;
  } finally {
    log.push("wait closed");
  }
}

function* finishedWith(value: unknown): Operation<unknown> {
  return value;
}

/** Waits on what `plan` gives for each step (an operation, or a generator to delegate to), summing the numbers it gets. */
class Summing extends FastOperation<string> {
  sum = 0;
  constructor(
    readonly log: string[],
    readonly plan: () => { wait: Operation<unknown> } | { delegate: Operation<string> } | { done: true },
  ) {
    super();
  }
  protected start(): IteratorResult<unknown, string> {
    this.log.push("start");
    return this.#step();
  }
  protected waited(value: unknown): IteratorResult<unknown, string> {
    this.sum += value as number;
    return this.#step();
  }
  protected waitFailed(error: unknown): unknown {
    this.log.push("wait failed");
    return new Error(`renamed: ${(error as Error).message}`);
  }
  protected abandon(): void {
    this.log.push("abandoned");
  }
  #step(): IteratorResult<unknown, string> {
    const next = this.plan();
    if ("wait" in next) return this.wait(next.wait);
    if ("delegate" in next) return this.delegateTo(next.delegate);
    return { done: true, value: `sum ${this.sum}` };
  }
}

test("a wait's steps pass up and its result comes back to waited; finished, the operation stays finished", () => {
  const log: string[] = [];
  let n = 0;
  const op = new Summing(log, () => (n++ < 2 ? { wait: waitingOnce(log, 10) } : { done: true }));
  assert.deepEqual(op.next(), { done: false, value: "waiting" });
  assert.deepEqual(op.next("a"), { done: false, value: "waiting" });
  assert.deepEqual(op.next("b"), { done: true, value: "sum 20" });
  assert.deepEqual(op.next(), { done: true, value: undefined });
  assert.deepEqual(log, ["start", "sent a", "wait closed", "sent b", "wait closed"]);
});

test("100,000 waits that complete at once in a row run in a loop, not on the stack", () => {
  let n = 0;
  const op = new Summing([], () => (n++ < 100_000 ? { wait: finishedWith(1) } : { done: true }));
  assert.deepEqual(op.next(), { done: true, value: "sum 100000" });
});

test("a wait's error goes through waitFailed, whose error comes out; the operation is then finished", () => {
  const log: string[] = [];
  const op = new Summing(log, () => ({ wait: waitingOnce(log, 1) }));
  op.next();
  assert.throws(() => op.throw(new Error("boom")), /renamed: boom/);
  assert.deepEqual(log, ["start", "wait closed", "wait failed"]);
  assert.deepEqual(op.next(), { done: true, value: undefined });
});

test("a wait that catches what throw() sent goes on, and the operation with it", () => {
  const log: string[] = [];
  let n = 0;
  const op = new Summing(log, () =>
    n++ === 0
      ? {
          wait: (function* () {
            try {
              yield "waiting";
            } catch {
              log.push("caught");
            }
            return 5;
          })(),
        }
      : { done: true },
  );
  op.next();
  assert.deepEqual(op.throw(new Error("ignored")), { done: true, value: "sum 5" });
  assert.deepEqual(log, ["start", "caught"]);
});

test("closed while waiting, it closes the wait and then abandons", () => {
  const log: string[] = [];
  const op = new Summing(log, () => ({ wait: waitingOnce(log, 1) }));
  op.next();
  assert.deepEqual(op.return("x"), { done: true, value: "x" });
  assert.deepEqual(log, ["start", "wait closed", "abandoned"]);
  assert.deepEqual(op.next(), { done: true, value: undefined });
});

test("closed before it started or after it finished, it does nothing", () => {
  const log: string[] = [];
  const fresh = new Summing(log, () => ({ done: true }));
  assert.deepEqual(fresh.return("x"), { done: true, value: "x" });
  assert.deepEqual(fresh.next(), { done: true, value: undefined });
  const finished = new Summing(log, () => ({ done: true }));
  finished.next();
  assert.deepEqual(finished.return("y"), { done: true, value: "y" });
  assert.deepEqual(log, ["start"]);
});

test("a delegation's steps, result and errors are the operation's; closing it closes the generator and abandons nothing", () => {
  const log: string[] = [];
  function* rest(): Operation<string> {
    try {
      log.push(`sent ${String(yield "delegated")}`);
      return "from the generator";
    } finally {
      log.push("generator closed");
    }
  }
  const done = new Summing(log, () => ({ delegate: rest() }));
  assert.deepEqual(done.next(), { done: false, value: "delegated" });
  assert.deepEqual(done.next("v"), { done: true, value: "from the generator" });
  assert.deepEqual(done.next(), { done: true, value: undefined });

  const failed = new Summing(log, () => ({ delegate: rest() }));
  failed.next();
  assert.throws(() => failed.throw(new Error("as is")), /^Error: as is$/);

  const closed = new Summing(log, () => ({ delegate: rest() }));
  closed.next();
  closed.return("z");
  assert.deepEqual(log, ["start", "sent v", "generator closed", "start", "generator closed", "start", "generator closed"]);
});

test("thrown into before it started, it is finished and throws that error", () => {
  const op = new Summing([], () => ({ done: true }));
  assert.throws(() => op.throw(new Error("early")), /early/);
  assert.deepEqual(op.next(), { done: true, value: undefined });
});

test("a wait that completes at once may be followed by a delegation, whose first step comes out of the same next()", () => {
  const log: string[] = [];
  let n = 0;
  const op = new Summing(log, () =>
    n++ === 0
      ? { wait: finishedWith(3) }
      : {
          delegate: (function* () {
            yield "after the wait";
            return "delegated";
          })(),
        },
  );
  assert.deepEqual(op.next(), { done: false, value: "after the wait" });
  assert.equal(op.sum, 3);
  assert.deepEqual(op.next(), { done: true, value: "delegated" });
});
