/**
 * Bad arguments to `Queue` (docs/semantics.md, «Misuse»): a bad kind or capacity
 * throws a RangeError/TypeError naming the argument at the call; bad `close`
 * options throw a TypeError and do not close the queue.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Queue, type QueueOptions } from "../../src/index.ts";

/** Builds a queue from an untyped kind, as plain JavaScript callers can. */
function make(kind: unknown): Queue<number> {
  return new Queue<number>(kind as QueueOptions);
}

function errorMatching(classes: ReadonlyArray<new (...args: never[]) => Error>, pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(
      classes.some((c) => e instanceof c),
      `expected ${classes.map((c) => c.name).join(" or ")}, got ${String(e)}`,
    );
    assert.match((e as Error).message, pattern);
    return true;
  };
}

test("capacities that are not integers >= 0 are RangeErrors naming capacity", () => {
  for (const kind of ["blocking", "discardOldest", "discardLatest"] as const) {
    for (const capacity of [-1, 1.5, NaN, Infinity, -Infinity]) {
      assert.throws(() => make({ kind, capacity }), errorMatching([RangeError], /capacity/), `${kind} ${capacity}`);
    }
  }
});

test("a missing or non-numeric capacity is rejected naming capacity", () => {
  for (const kind of ["blocking", "discardOldest", "discardLatest"] as const) {
    for (const bad of [{ kind }, { kind, capacity: undefined }, { kind, capacity: "3" }, { kind, capacity: null }]) {
      assert.throws(() => make(bad), errorMatching([RangeError, TypeError], /capacity/), JSON.stringify(bad));
    }
  }
});

test("an unknown kind name is a TypeError naming kind", () => {
  for (const name of ["Blocking", "bounded", "", "discard_oldest", undefined, 3]) {
    assert.throws(() => make({ kind: name, capacity: 1 }), errorMatching([TypeError], /kind/), String(name));
  }
  assert.throws(() => make({}), errorMatching([TypeError], /kind/));
});

test("a kind that is not an object is a TypeError naming kind", () => {
  for (const bad of ["blocking", "unbounded", 5, null, true, () => {}]) {
    assert.throws(() => make(bad), errorMatching([TypeError], /kind/), String(bad));
  }
});

test("valid kinds are accepted, capacity 0 included", () => {
  assert.equal(make(undefined).size, 0);
  assert.equal(make({ kind: "unbounded" }).size, 0);
  for (const kind of ["blocking", "discardOldest", "discardLatest"] as const) {
    for (const capacity of [0, 1, 1000]) {
      const q = make({ kind, capacity });
      assert.equal(q.size, 0);
      assert.equal(q.closed, false);
    }
  }
});

test("close with options that are not an object is a TypeError and leaves the queue open", () => {
  for (const bad of ["notAnObject", 1, true, null]) {
    const q = new Queue<number>();
    q.tryPut(1);
    assert.throws(
      () => q.close(new Error("err"), bad as unknown as { clear?: boolean }),
      errorMatching([TypeError], /options/),
      String(bad),
    );
    assert.equal(q.closed, false, `close(err, ${String(bad)}) closed the queue anyway`);
    assert.equal(q.tryPut(2), true);
    assert.equal(q.tryGet(), 1);
  }
});

test("errors name the constructor's argument as options (options.kind, options.capacity), not kind.kind", { timeout: 5_000 }, () => {
  assert.throws(() => make({ kind: "sometimes", capacity: 1 }), errorMatching([TypeError], /^new Queue\(\): options\.kind must be/));
  assert.throws(() => make({ kind: "blocking", capacity: -1 }), errorMatching([RangeError], /^new Queue\(\): options\.capacity must be/));
  assert.throws(() => make(7), errorMatching([TypeError], /^new Queue\(\): options must be a QueueOptions object/));
});
