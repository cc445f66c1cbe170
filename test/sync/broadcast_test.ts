/**
 * `Broadcast` (docs/semantics.md, «Broadcast»): every subscriber gets every
 * message published after it subscribed, in order; the three policies for a
 * full buffer (block the publisher, drop the oldest, drop the subscriber); a
 * blocked publish that is cancelled delivered to nobody; a cancelled read takes
 * nothing; a subscription ends with its task (no leak, publishers stop waiting
 * for it); `each` ends when the broadcast is closed.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Broadcast,
  Cancelled,
  QueueClosed,
  SubscriberDropped,
  WeftUsageError,
  each,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
} from "../../src/index.ts";
import { testOnEveryDriver } from "../support.ts";

function* thrown(op: Operation<unknown>): Operation<unknown> {
  try {
    yield* op;
  } catch (error) {
    return error;
  }
  return assert.fail("expected a throw");
}

testOnEveryDriver("every subscriber gets every message published after it subscribed, in order", async (run) => {
  const got: Record<string, number[]> = { early: [], late: [] };
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 2 });
    yield* bus.publish(0); // nobody listens: nobody gets it
    yield* withTaskGroup<void>(function* (group) {
      const early = bus.subscribe();
      group.startSoon(() =>
        each(early, function* (n) {
          got.early!.push(n);
        }),
      );
      for (let i = 1; i <= 3; i++) yield* bus.publish(i);
      const late = bus.subscribe();
      group.startSoon(() =>
        each(late, function* (n) {
          got.late!.push(n);
        }),
      );
      for (let i = 4; i <= 6; i++) yield* bus.publish(i);
      bus.close();
    });
  });
  assert.deepEqual(got, { early: [1, 2, 3, 4, 5, 6], late: [4, 5, 6] });
});

testOnEveryDriver("block: the publisher waits until every subscriber has room, then delivers to all", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 1 });
    yield* withTaskGroup<void>(function* (group) {
      const fast = bus.subscribe();
      const slow = bus.subscribe();
      group.startSoon(() =>
        each(fast, function* (n) {
          log.push(`fast ${n}`);
        }),
      );
      group.startSoon(() =>
        each(slow, function* (n) {
          yield* sleep(10);
          log.push(`slow ${n}`);
        }),
      );
      for (let i = 1; i <= 3; i++) {
        yield* bus.publish(i);
        log.push(`published ${i}`);
      }
      bus.close();
    });
  });
  // Each publish past the first waits for the slow subscriber to make room.
  for (const who of ["fast", "slow"])
    assert.deepEqual(
      log.filter((l) => l.startsWith(who)),
      [1, 2, 3].map((n) => `${who} ${n}`),
    );
  assert.ok(log.indexOf("published 3") > log.indexOf("slow 1"), log.join(", "));
});

testOnEveryDriver("block: a publish cancelled while it waits delivered to nobody, and the next one goes through", async (run) => {
  await run(function* () {
    const bus = new Broadcast<string>({ capacity: 1 });
    const a = bus.subscribe();
    const b = bus.subscribe();
    yield* bus.publish("first");
    yield* a.get(); // a has room, b is full
    assert.equal(yield* withTimeoutOpt(20, () => bus.publish("cancelled")), undefined);
    assert.equal(a.size, 0, "a did not get the cancelled message");
    assert.equal(yield* b.get(), "first");
    yield* bus.publish("next");
    assert.equal(yield* a.get(), "next");
    assert.equal(yield* b.get(), "next");
    assert.equal(bus.tryPublish("x"), true);
    assert.equal(bus.tryPublish("y"), false, "tryPublish sends nothing when a buffer is full");
    assert.equal(a.size + b.size, 2);
  });
});

testOnEveryDriver("dropOldest: a full subscriber loses its oldest messages, the publisher never waits", async (run) => {
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 2, policy: "dropOldest" });
    const sub = bus.subscribe();
    for (let i = 1; i <= 5; i++) yield* bus.publish(i);
    assert.equal(sub.dropped, 3);
    assert.deepEqual([yield* sub.get(), yield* sub.get()], [4, 5]);
  });
});

testOnEveryDriver("dropSubscriber: a full subscriber is dropped and its next read says so; the others go on", async (run) => {
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 1, policy: "dropSubscriber" });
    const slow = bus.subscribe();
    const fast = bus.subscribe();
    yield* bus.publish(1);
    assert.equal(yield* fast.get(), 1);
    yield* bus.publish(2);
    assert.equal(bus.subscribers, 1);
    assert.equal(slow.ended, true);
    const error = yield* thrown(slow.get());
    assert.ok(error instanceof SubscriberDropped, String(error));
    assert.match((error as Error).message, /buffer was full/);
    assert.equal(yield* fast.get(), 2);
    // each() over a dropped subscription throws too, rather than ending quietly.
    assert.ok((yield* thrown(each(slow, function* () {}))) instanceof SubscriberDropped);
  });
});

testOnEveryDriver("a cancelled read takes nothing: the message is there for the next read", async (run) => {
  await run(function* () {
    const bus = new Broadcast<string>({ capacity: 4 });
    const sub = bus.subscribe();
    assert.equal(yield* withTimeoutOpt(10, () => sub.get()), undefined);
    yield* bus.publish("kept");
    assert.equal(yield* sub.get(), "kept");
  });
});

testOnEveryDriver(
  "a subscription ends with its task: a blocked publisher stops waiting for a subscriber that never unsubscribed",
  async (run) => {
    await run(function* () {
      const bus = new Broadcast<number>({ capacity: 1 });
      let forgotten: { ended: boolean } | undefined;
      yield* withTaskGroup<void>(function* (group) {
        const task = group.spawn(function* () {
          forgotten = bus.subscribe(); // never read, never unsubscribed
          yield* sleep(30);
        });
        yield* sleep(1);
        assert.equal(bus.subscribers, 1);
        yield* bus.publish(1); // fills its buffer
        yield* bus.publish(2); // waits until the task ends
        assert.equal(task.done, true);
      });
      assert.equal(bus.subscribers, 0);
      assert.equal(forgotten?.ended, true);
    });
  },
);

testOnEveryDriver(
  "a subscription made in a group's body lasts until the whole group has ended, so the tasks it starts can read it",
  async (run) => {
    const got: number[] = [];
    await run(function* () {
      const bus = new Broadcast<number>({ capacity: 4 });
      let sub: { ended: boolean } | undefined;
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          yield* sleep(10); // the body has ended by now
          yield* bus.publish(1);
          yield* bus.publish(2);
          bus.close();
        });
        const s = bus.subscribe();
        sub = s;
        group.startSoon(() =>
          each(s, function* (n) {
            got.push(n);
          }),
        );
      });
      assert.equal(sub?.ended, true);
      assert.equal(bus.subscribers, 0);
    });
    assert.deepEqual(got, [1, 2]);
  },
);

testOnEveryDriver("a subscription made in a group's body ends with the group even if nobody closes the broadcast", async (run) => {
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 1 });
    yield* withTaskGroup<void>(function* () {
      bus.subscribe();
      yield* bus.publish(1);
    });
    assert.equal(bus.subscribers, 0);
    yield* bus.publish(2); // nobody left to block on
  });
});

testOnEveryDriver("unsubscribe ends a subscription: its reads end, buffered messages are discarded", async (run) => {
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 4 });
    const sub = bus.subscribe();
    yield* bus.publish(2);
    assert.equal(sub.size, 1);
    sub.unsubscribe();
    assert.equal(bus.subscribers, 0);
    assert.equal(sub.size, 0);
    assert.ok((yield* thrown(sub.get())) instanceof QueueClosed);
    let items = 0;
    yield* each(sub, function* () {
      items++;
    });
    assert.equal(items, 0);
  });
});

testOnEveryDriver(
  "close: publishers (blocked ones too) throw QueueClosed having delivered nothing; subscribers drain, then each ends",
  async (run) => {
    await run(function* () {
      const bus = new Broadcast<number>({ capacity: 1 });
      const sub = bus.subscribe();
      yield* bus.publish(1);
      yield* withTaskGroup<void>(function* (group) {
        const blocked = group.spawn(() => bus.publish(2), { allowFailure: true });
        yield* sleep(5);
        bus.close();
        assert.ok((yield* thrown(blocked.wait())) instanceof QueueClosed);
      });
      assert.ok((yield* thrown(bus.publish(3))) instanceof QueueClosed);
      const got: number[] = [];
      yield* each(sub, function* (n) {
        got.push(n);
      });
      assert.deepEqual(got, [1]);
      // Subscribing to a closed broadcast gives a subscription at its end.
      const after = bus.subscribe();
      assert.equal(after.ended, true);
    });
  },
);

testOnEveryDriver("blocked publishers deliver in the order they started waiting", async (run) => {
  const got: string[] = [];
  await run(function* () {
    const bus = new Broadcast<string>({ capacity: 1 });
    const sub = bus.subscribe();
    yield* bus.publish("seed");
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => bus.publish("p1"));
      yield* sleep(1);
      group.startSoon(() => bus.publish("p2"));
      yield* sleep(1);
      for (let i = 0; i < 3; i++) got.push(yield* sub.get());
    });
  });
  assert.deepEqual(got, ["seed", "p1", "p2"]);
});

test("bad options: capacity is a RangeError, policy a TypeError; subscribe outside a task is a WeftUsageError", { timeout: 10_000 }, () => {
  for (const capacity of [0, -1, 1.5, Infinity, "2", undefined]) {
    assert.throws(() => new Broadcast({ capacity } as never), /capacity/);
  }
  assert.throws(
    () => new Broadcast({ capacity: 1, policy: "dropNewest" } as never),
    (e: unknown) => e instanceof TypeError && /policy/.test(e.message),
  );
  assert.throws(() => new Broadcast(undefined as never), TypeError);
  assert.throws(() => new Broadcast<number>({ capacity: 1 }).subscribe(), WeftUsageError);
});

testOnEveryDriver("a cancelled subscriber task is removed even while parked in a read", async (run) => {
  await run(function* () {
    const bus = new Broadcast<number>({ capacity: 1 });
    yield* withTaskGroup<void>(function* (group) {
      const reader = group.spawn(
        function* () {
          const sub = bus.subscribe();
          yield* sub.get();
        },
        { allowFailure: true },
      );
      yield* sleep(1);
      reader.cancel();
      assert.ok((yield* thrown(reader.wait())) instanceof Cancelled);
    });
    assert.equal(bus.subscribers, 0);
    yield* bus.publish(1);
    yield* bus.publish(2); // nobody left to block on
  });
});
