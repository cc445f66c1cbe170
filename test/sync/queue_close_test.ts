/**
 * Closing a queue (docs/semantics.md, «Queue»): put/tryPut throw at
 * once; buffered items stay readable unless `{ clear: true }`, then get/tryGet
 * throw; blocked readers and writers are woken with the close error (or the
 * error given to `close`); a blocked put whose value was not taken before the
 * close throws and its value is never delivered to anyone, while one whose
 * value was taken before the close succeeds.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Queue, QueueClosed, now, pause, sleep, withTaskGroup } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { Boom, testOnEveryDriver, assertEvents } from "../support.ts";

/** Runs `f` and returns what it threw; fails if it returned. */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected a throw");
}

testOnEveryDriver("put and tryPut throw QueueClosed after close", async (run) => {
  await run(function* () {
    const q = new Queue<number>();
    q.close();
    assert.equal(q.closed, true);
    let caught: unknown;
    try {
      yield* q.put(42);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof QueueClosed, `put threw ${String(caught)}`);
    assert.ok(thrownBy(() => q.tryPut(42)) instanceof QueueClosed);
    assert.equal(q.size, 0);
    // The same holds for every kind, full or not.
    for (const kind of ["blocking", "discardOldest", "discardLatest"] as const) {
      const k = new Queue<number>({ kind, capacity: 1 });
      k.close();
      assert.ok(thrownBy(() => k.tryPut(1)) instanceof QueueClosed, kind);
      let err: unknown;
      try {
        yield* k.put(1);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof QueueClosed, kind);
    }
  });
});

testOnEveryDriver("after a soft close get drains the buffered items, then throws", async (run) => {
  await run(function* () {
    const q = new Queue<number>();
    yield* q.put(1);
    yield* q.put(2);
    q.close();
    assert.equal(q.size, 2);
    assert.equal(yield* q.get(), 1);
    assert.equal(yield* q.get(), 2);
    let caught: unknown;
    try {
      yield* q.get();
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof QueueClosed, `get threw ${String(caught)}`);
  });
});

test("after a soft close tryGet drains the buffered items, then throws", () => {
  const q = new Queue<number>({ kind: "blocking", capacity: 4 });
  assert.equal(q.tryPut(42), true);
  q.close();
  assert.equal(q.tryGet(), 42);
  assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed);
  assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed, "it keeps throwing");
});

testOnEveryDriver("after close with clear: true, get throws at once", async (run) => {
  await run(function* () {
    const q = new Queue<number>();
    yield* q.put(42);
    q.close(undefined, { clear: true });
    assert.equal(q.size, 0);
    let caught: unknown;
    try {
      const v = yield* q.get();
      assert.fail(`got ${v}`);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof QueueClosed, `get threw ${String(caught)}`);
  });
});

test("after close with clear: true, tryGet throws at once", () => {
  const q = new Queue<number>();
  q.tryPut(1);
  q.tryPut(2);
  q.close(undefined, { clear: true });
  assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed);
  // clear: false is a soft close.
  const soft = new Queue<number>();
  soft.tryPut(1);
  soft.close(undefined, { clear: false });
  assert.equal(soft.tryGet(), 1);
  assert.ok(thrownBy(() => soft.tryGet()) instanceof QueueClosed);
});

testOnEveryDriver("close wakes a put blocked on a full queue (capacity 1) and its value is never delivered", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 1 });
    yield* q.put(1);
    const start = now();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(30);
        log.push("close");
        q.close();
      });
      try {
        yield* q.put(2);
        log.push("put 2 returned");
      } catch (e) {
        log.push(e instanceof QueueClosed ? "put 2 threw QueueClosed" : `put 2 threw ${String(e)}`);
      }
      assert.ok(now() - start >= 25, `the put gave up after ${now() - start} ms, before the close`);
    });
    // The buffered item is still there; the blocked put's value is not (docs/semantics.md, «Queue»).
    assert.equal(yield* q.get(), 1);
    assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed);
  });
  assertEvents(run, log, ["close", "put 2 threw QueueClosed"]);
});

testOnEveryDriver("close wakes a put blocked on a zero-capacity queue and its value is never delivered", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 0 });
    const start = now();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(30);
        log.push("close");
        q.close();
      });
      try {
        yield* q.put(2);
        log.push("put returned");
      } catch (e) {
        log.push(e instanceof QueueClosed ? "put threw QueueClosed" : `put threw ${String(e)}`);
      }
      assert.ok(now() - start >= 25, `the put gave up after ${now() - start} ms, before the close`);
    });
    assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed, "a later tryGet received the failed put's value");
    let caught: unknown;
    try {
      const v = yield* q.get();
      log.push(`get received ${v}`);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof QueueClosed);
  });
  assertEvents(run, log, ["close", "put threw QueueClosed"]);
});

testOnEveryDriver("close wakes a blocked get with QueueClosed", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>();
    const start = now();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(30);
        log.push("close");
        q.close();
      });
      try {
        log.push(`got ${yield* q.get()}`);
      } catch (e) {
        log.push(e instanceof QueueClosed ? "get threw QueueClosed" : `get threw ${String(e)}`);
      }
      assert.ok(now() - start >= 25, `the get gave up after ${now() - start} ms, before the close`);
    });
  });
  assertEvents(run, log, ["close", "get threw QueueClosed"]);
});

testOnEveryDriver("a custom close error is thrown by put, tryPut, blocked and later gets, and the drained tryGet", async (run) => {
  const boom = new Boom("producer failed");
  const seen: unknown[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 1 });
    const blockedGet = new Queue<number>();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* blockedGet.get();
        } catch (e) {
          seen.push(e);
        }
      });
      yield* sleep(10);
      blockedGet.close(boom);
    });
    yield* q.put(7);
    q.close(boom);
    seen.push(thrownBy(() => q.tryPut(1)));
    try {
      yield* q.put(1);
    } catch (e) {
      seen.push(e);
    }
    assert.equal(yield* q.get(), 7);
    seen.push(thrownBy(() => q.tryGet()));
    try {
      yield* q.get();
    } catch (e) {
      seen.push(e);
    }
  });
  assert.equal(seen.length, 5);
  for (const e of seen) assert.equal(e, boom);
});

test("closing again replaces the close error", () => {
  const q = new Queue<number>();
  const first = new Boom("first");
  const second = new Boom("second");
  q.close(first);
  assert.equal(
    thrownBy(() => q.tryGet()),
    first,
  );
  q.close(second);
  assert.equal(
    thrownBy(() => q.tryGet()),
    second,
  );
  assert.equal(
    thrownBy(() => q.tryPut(1)),
    second,
  );
});

testOnEveryDriver("a value delivered just before close goes to the getter, not to a later tryGet", async (run) => {
  const got: number[] = [];
  await run(function* () {
    const q = new Queue<number>();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        got.push(yield* q.get());
      });
      yield* pause(); // let the get start waiting
      yield* q.put(42); // handed to the waiting getter
      q.close();
      assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed, "the value was not the getter's alone");
    });
  });
  assert.deepEqual(got, [42]);
});

test("a blocked put whose value was taken before close succeeds", () => {
  const host = createHost();
  const q = new Queue<number>({ kind: "blocking", capacity: 1 });
  const log: string[] = [];
  assert.equal(q.tryPut(1), true);
  const putter = host.spawn(function* () {
    try {
      yield* q.put(2);
      log.push("put 2 returned");
    } catch (e) {
      log.push(e instanceof QueueClosed ? "put 2 threw QueueClosed" : `put 2 threw ${String(e)}`);
    }
  });
  host.pump(); // put(2) is blocked
  assert.equal(putter.done, false);
  assert.equal(q.tryGet(), 1); // moves 2 into the buffer: the put has happened
  q.close(); // before the writer ran again
  host.pump();
  assert.deepEqual(log, ["put 2 returned"]);
  assert.equal(q.tryGet(), 2);
  assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed);
});

test("a zero-capacity put whose value was taken before close succeeds", () => {
  const host = createHost();
  const q = new Queue<string>({ kind: "blocking", capacity: 0 });
  const log: string[] = [];
  host.spawn(function* () {
    try {
      yield* q.put("v");
      log.push("put returned");
    } catch (e) {
      log.push(`put threw ${String(e)}`);
    }
  });
  host.pump();
  assert.equal(q.tryGet(), "v");
  q.close();
  host.pump();
  assert.deepEqual(log, ["put returned"]);
  assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed);
});

for (const clear of [false, true]) {
  test(`blocked puts' values are never received after close (clear: ${clear})`, () => {
    const host = createHost();
    const q = new Queue<string>({ kind: "blocking", capacity: 2 });
    const outcomes: string[] = [];
    const received: string[] = [];
    q.tryPut("a");
    q.tryPut("b");
    for (const v of ["x", "y", "z"]) {
      host.spawn(function* () {
        try {
          yield* q.put(v);
          outcomes.push(`${v} returned`);
        } catch (e) {
          outcomes.push(e instanceof QueueClosed ? `${v} threw` : `${v} threw ${String(e)}`);
        }
      });
    }
    host.pump(); // x, y, z are blocked writers
    q.close(undefined, { clear });
    // Readers that arrive after the close, by get and by tryGet.
    const reader = host.spawn(function* () {
      try {
        for (;;) received.push(yield* q.get());
      } catch (e) {
        if (!(e instanceof QueueClosed)) throw e;
      }
    });
    host.pump();
    assert.equal(reader.done, true);
    reader.tryWait();
    assert.ok(thrownBy(() => q.tryGet()) instanceof QueueClosed);
    assert.deepEqual(outcomes, ["x threw", "y threw", "z threw"]);
    assert.deepEqual(received, clear ? [] : ["a", "b"]);
  });
}

test("close wakes every blocked reader in wait order with QueueClosed", () => {
  const host = createHost();
  const q = new Queue<number>();
  const log: string[] = [];
  for (const name of ["r1", "r2", "r3"]) {
    host.spawn(function* () {
      try {
        log.push(`${name} got ${yield* q.get()}`);
      } catch (e) {
        log.push(e instanceof QueueClosed ? `${name} closed` : `${name} ${String(e)}`);
      }
    });
  }
  host.pump();
  q.close();
  host.pump();
  assert.deepEqual(log, ["r1 closed", "r2 closed", "r3 closed"]);
  assert.ok(thrownBy(() => q.tryPut(1)) instanceof QueueClosed);
  assert.equal(q.size, 0);
});
