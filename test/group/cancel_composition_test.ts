/**
 * The rule of docs/semantics.md §"Outcomes": an outcome is decided by what the
 * body did; a cancellation the body never observed changes nothing. Each
 * scenario cancels a task in the same round as a hand-off reaches the
 * operation wrapped inside a composite (`withTimeoutOpt`, `withTimeout`,
 * `withTaskGroup`, `all`, `any`, `retry`, `Lazy`, `Task.wait`), in the order
 * that lost the item on the old code: the cancellation first, the hand-off
 * second. Whatever the path, the item is got exactly once or is still queued,
 * and a permit is never lost.
 *
 * The scenarios run under virtual time, where the order inside a round is
 * exact.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  all,
  any,
  Cancelled,
  Lazy,
  pause,
  protectFromCancel,
  Queue,
  retry,
  Semaphore,
  sleep,
  TimeoutError,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type Operation,
  type Task,
  type TaskGroup,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

const LIMIT = { timeout: 10_000 };

/** What the cancelled task saw: the value its composite returned, or that it threw. */
type Outcome<T> = { returned: T } | { threw: string };

/**
 * Runs `consumer` in a task `victim` of a group; once it has parked, a sibling
 * cancels `victim` and then, in the same turn, calls `handOff`. Returns what
 * the victim's composite gave.
 */
function cancelThenHandOff<T>(consumer: () => Operation<T>, handOff: () => void): Operation<Outcome<T>> {
  return withTaskGroup<Outcome<T>>(function* (group) {
    let outcome: Outcome<T> = { threw: "never ran" };
    const victim = group.spawn(
      function* () {
        try {
          outcome = { returned: yield* consumer() };
        } catch (error) {
          outcome = { threw: error instanceof Error ? error.name : String(error) };
          throw error;
        }
      },
      { allowFailure: true },
    );
    // Let the victim and every task it spawns reach their suspension points.
    for (let i = 0; i < 5; i++) yield* pause();
    victim.cancel();
    handOff();
    yield* waitQuietly(victim);
    return outcome;
  });
}

function* waitQuietly(task: Task<unknown>): Operation<void> {
  try {
    yield* task.wait();
  } catch {
    // The victim's own outcome is recorded by the scenario.
  }
}

/** Asserts the item is accounted for exactly once: returned by the composite, or still queued. */
function assertItemKept(outcome: Outcome<number | undefined>, queued: number): void {
  if ("returned" in outcome && outcome.returned === 7) assert.equal(queued, 0, "the item was returned and is also still queued");
  else assert.equal(queued, 1, `the item vanished: the composite gave ${JSON.stringify(outcome)} and the queue is empty`);
}

test("withTimeoutOpt around get, cancelled in the round a put reaches it: the item is returned or stays queued", LIMIT, async () => {
  const [outcome, queued] = await runVirtual(function* () {
    const queue = new Queue<number>();
    const outcome = yield* cancelThenHandOff(
      () => withTimeoutOpt(60_000, () => queue.get()),
      () => queue.tryPut(7),
    );
    return [outcome, queue.size] as const;
  });
  assertItemKept(outcome, queued);
});

test(
  "cancelling a task parked in a group reaches the group's tasks at once: a put later in the round passes over the wrapped get",
  LIMIT,
  async () => {
    const [outcome, queued] = await runVirtual(function* () {
      const queue = new Queue<number>();
      const outcome = yield* cancelThenHandOff(
        () => withTaskGroup<number | undefined>(() => withTimeoutOpt(60_000, () => queue.get())),
        () => queue.tryPut(7),
      );
      return [outcome, queue.size] as const;
    });
    assert.deepEqual([outcome, queued], [{ threw: "Cancelled" }, 1]);
  },
);

test("withTimeout around get, cancelled in the round a put reaches it: the item is returned or stays queued", LIMIT, async () => {
  const [outcome, queued] = await runVirtual(function* () {
    const queue = new Queue<number>();
    const outcome = yield* cancelThenHandOff(
      () => withTimeout(60_000, () => queue.get()),
      () => queue.tryPut(7),
    );
    return [outcome, queue.size] as const;
  });
  assertItemKept(outcome, queued);
});

test(
  "withTaskGroup around get, cancelled from outside in the round a put reaches it: the item is returned or stays queued",
  LIMIT,
  async () => {
    const [outcome, queued] = await runVirtual(function* () {
      const queue = new Queue<number>();
      const outcome = yield* cancelThenHandOff(
        () => withTaskGroup<number>(() => queue.get()),
        () => queue.tryPut(7),
      );
      return [outcome, queue.size] as const;
    });
    assertItemKept(outcome, queued);
  },
);

test("nested withTaskGroup and withTimeoutOpt around get: the item is returned or stays queued", LIMIT, async () => {
  const [outcome, queued] = await runVirtual(function* () {
    const queue = new Queue<number>();
    const outcome = yield* cancelThenHandOff(
      () => withTaskGroup<number | undefined>(() => withTimeoutOpt(60_000, () => withTaskGroup<number>(() => queue.get()))),
      () => queue.tryPut(7),
    );
    return [outcome, queue.size] as const;
  });
  assertItemKept(outcome, queued);
});

test("retry around get, cancelled in the round a put reaches it: the item is returned or stays queued", LIMIT, async () => {
  const [outcome, queued] = await runVirtual(function* () {
    const queue = new Queue<number>();
    const outcome = yield* cancelThenHandOff(
      () => withTaskGroup<number>(() => retry({ kind: "immediate" }, () => queue.get())),
      () => queue.tryPut(7),
    );
    return [outcome, queue.size] as const;
  });
  assertItemKept(outcome, queued);
});

test("withTimeoutOpt around Semaphore.acquire, cancelled in the round a release reaches it: no permit is lost", LIMIT, async () => {
  const available = await runVirtual(function* () {
    const permits = new Semaphore(1);
    yield* permits.acquire();
    yield* cancelThenHandOff(
      function* () {
        const got = yield* withTimeoutOpt(60_000, function* () {
          yield* permits.acquire();
          return true;
        });
        // Released before any suspension: the cancellation cannot cut in here.
        if (got === true) permits.release();
        return got;
      },
      () => permits.release(),
    );
    return permits.available;
  });
  assert.equal(available, 1, "a permit granted to the cancelled composite was never released");
});

test("withTimeoutOpt around put on a rendezvous queue: when the consumer got the value, the put returned", LIMIT, async () => {
  const { outcome, taken } = await runVirtual(function* () {
    const queue = new Queue<number>({ kind: "blocking", capacity: 0 });
    let taken: number | undefined;
    const outcome = yield* cancelThenHandOff(
      () =>
        withTimeoutOpt(60_000, function* () {
          yield* queue.put(7);
          return 1;
        }),
      () => {
        const item = queue.tryGet();
        taken = item;
      },
    );
    return { outcome, taken };
  });
  if (taken === 7) assert.deepEqual(outcome, { returned: 1 }, "the value was delivered but the put reported a cancellation");
  else assert.deepEqual(outcome, { threw: "Cancelled" });
});

test(
  "all around gets, cancelled in the round the last put reaches them: returns every item or keeps what was not taken",
  LIMIT,
  async () => {
    const [outcome, queued] = await runVirtual(function* () {
      const queue = new Queue<number>();
      queue.tryPut(6);
      const outcome = yield* cancelThenHandOff(
        function* () {
          const [a, b] = yield* all([
            () => queue.get(),
            function* () {
              yield* sleep(1);
              return yield* queue.get();
            },
          ]);
          return a! + b!;
        },
        () => queue.tryPut(7),
      );
      return [outcome, queue.size] as const;
    });
    if ("returned" in outcome) {
      assert.equal(outcome.returned, 13);
      assert.equal(queued, 0);
    } else {
      // The first get took 6 before the cancellation; only 7 may still be queued.
      assert.equal(queued, 1, "item 7 vanished");
    }
  },
);

test("any around get, cancelled in the round a put reaches it: the item is returned or stays queued", LIMIT, async () => {
  const [outcome, queued] = await runVirtual(function* () {
    const queue = new Queue<number>();
    const outcome = yield* cancelThenHandOff(
      () =>
        any<number>([
          () => queue.get(),
          function* () {
            yield* sleep(60_000);
            return 0;
          },
        ]),
      () => queue.tryPut(7),
    );
    return [outcome, queue.size] as const;
  });
  assertItemKept(outcome, queued);
});

/**
 * A victim waits through `wait` for something that completes with a value
 * from a queue; the victim is cancelled in the round that completion wakes it.
 */
function cancelledAsItCompletes(
  wait: (queue: Queue<number>, group: TaskGroup<Outcome<number>>) => () => Operation<number>,
): Promise<Outcome<number>> {
  return runVirtual(function* () {
    const queue = new Queue<number>();
    return yield* withTaskGroup<Outcome<number>>(function* (group) {
      const waitForIt = wait(queue, group);
      let outcome: Outcome<number> = { threw: "never ran" };
      const victim = group.spawn(function* () {
        try {
          outcome = { returned: yield* waitForIt() };
        } catch (error) {
          outcome = { threw: (error as Error).name };
        }
      });
      for (let i = 0; i < 5; i++) yield* pause();
      queue.tryPut(7);
      // The completion runs in the next round; cancel the victim in that same round.
      yield* pause();
      victim.cancel();
      yield* victim.wait();
      return outcome;
    });
  });
}

test("Task.wait in a task cancelled in the round the awaited task ends: the wait returns the value", LIMIT, async () => {
  const outcome = await cancelledAsItCompletes((queue, group) => {
    const producer = group.spawn(() => queue.get());
    return () => producer.wait();
  });
  assert.deepEqual(outcome, { returned: 7 });
});

test("Task.wait completes before the group hears its task ended: the cancellation the group then sends comes second", LIMIT, async () => {
  const outcome = await runVirtual(function* () {
    let outcome: Outcome<number> = { threw: "never ran" };
    yield* withTaskGroup<void>(function* (root) {
      let spawned = false;
      // A background task of root, parked in a group of its own, waits for a
      // task of root. When that task ends, root has nothing left to wait for
      // and cancels its background task, which reaches the waiter at once.
      root.startSoon(
        () =>
          withTaskGroup<void>(function* () {
            const target = root.spawn(function* () {
              yield* pause();
              return 7;
            });
            spawned = true;
            try {
              outcome = { returned: yield* target.wait() };
            } catch (error) {
              outcome = { threw: (error as Error).name };
            }
          }),
        { daemon: true },
      );
      while (!spawned) yield* pause();
    });
    return outcome;
  });
  assert.deepEqual(outcome, { returned: 7 });
});

test("Lazy.wait in a task cancelled in the round the computation ends: the wait returns the value", LIMIT, async () => {
  const outcome = await cancelledAsItCompletes((queue) => {
    const lazy = new Lazy(() => queue.get());
    return () => lazy.wait();
  });
  assert.deepEqual(outcome, { returned: 7 });
});

test("a withTaskGroup cancelled from outside returns the body's value when the body returned", LIMIT, async () => {
  const result = await runVirtual(function* () {
    return yield* withTaskGroup<string>(function* (outer) {
      let seen: string | undefined;
      const task = outer.spawn(
        function* () {
          seen = yield* withTaskGroup<string>(function* (group) {
            group.startSoon(() => sleep(60_000), { daemon: true });
            return "body's value";
          });
          yield* pause(); // the caller meets its cancellation here
          return "not reached";
        },
        { allowFailure: true },
      );
      yield* pause();
      yield* pause();
      task.cancel();
      const error = yield* caught(task.wait());
      return `${seen} then ${error}`;
    });
  });
  assert.equal(result, "body's value then Cancelled");
});

test(
  "a withTaskGroup cancelled from outside throws Cancelled when it cut short a task it waits for, though the body returned",
  LIMIT,
  async () => {
    const error = await runVirtual(function* () {
      return yield* withTaskGroup<string>(function* (outer) {
        const task = outer.spawn(
          () =>
            withTaskGroup<string>(function* (group) {
              group.startSoon(() => sleep(60_000));
              return "body's value";
            }),
          { allowFailure: true },
        );
        yield* pause();
        yield* pause();
        task.cancel();
        return yield* caught(task.wait());
      });
    });
    assert.equal(error, "Cancelled");
  },
);

test("a withTaskGroup cancelled from outside throws Cancelled when the body did not return", LIMIT, async () => {
  const error = await runVirtual(function* () {
    return yield* withTaskGroup<string>(function* (outer) {
      const task = outer.spawn(
        () =>
          withTaskGroup<string>(function* () {
            yield* sleep(60_000);
            return "late";
          }),
        { allowFailure: true },
      );
      yield* pause();
      task.cancel();
      return yield* caught(task.wait());
    });
  });
  assert.equal(error, "Cancelled");
});

test("withTimeout returns the value of a protected body that finished after the timeout fired", LIMIT, async () => {
  const value = await runVirtual(() =>
    withTimeout(10, () =>
      protectFromCancel(function* () {
        yield* sleep(20);
        return 1;
      }),
    ),
  );
  assert.equal(value, 1);
});

test("withTimeoutOpt returns the value of a body that caught the timeout's cancellation and returned", LIMIT, async () => {
  const value = await runVirtual(() =>
    withTimeoutOpt(10, function* () {
      try {
        yield* sleep(20);
        return "in time";
      } catch (error) {
        if (!(error instanceof Cancelled)) throw error;
        return "caught the cancellation";
      }
    }),
  );
  assert.equal(value, "caught the cancellation");
});

test("withTimeout still throws TimeoutError when the body ended by the timeout's cancellation", LIMIT, async () => {
  await assert.rejects(
    runVirtual(() => withTimeout(10, () => sleep(20))),
    (error) => error instanceof TimeoutError,
  );
});

function* caught(op: Operation<unknown>): Operation<string> {
  try {
    yield* op;
    return "returned";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}
