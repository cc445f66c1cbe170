/**
 * The scheduler's pool of task records (see `Scheduler.release`): the record
 * of an ended `startSoon` task is reused by a later spawn, boundedly, fully
 * reset; a record that anything could still reach (a handle, an id, hooks, a
 * timeout scope, a dead timer slot, a debug spawn location) never is.
 *
 * Records are peeked at through the scheduler's `current`, which is internal:
 * user code has no way to get the record of a `startSoon` task.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import type { Coroutine } from "../../src/core/coroutine.ts";
import { current } from "../../src/core/scheduler.ts";
import {
  Cancelled,
  createContext,
  pause,
  Queue,
  run,
  sleep,
  useAbortSignal,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
  type Task,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

/** Starts `n` startSoon tasks running `body`; returns the records they ran in. */
function* batch(n: number, body: () => Operation<void>): Operation<Coroutine[]> {
  const records: Coroutine[] = [];
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < n; i++) {
      group.startSoon(function* () {
        records.push(current!);
        yield* body();
      });
    }
  });
  return records;
}

function reused(earlier: Coroutine[], later: Coroutine[]): number {
  const old = new Set(earlier);
  return later.filter((r) => old.has(r)).length;
}

const once = function* (): Operation<void> {
  yield* pause();
};

test("the records of ended startSoon tasks are reused, at most a bounded number of them, and hold nothing meanwhile", async () => {
  await runVirtual(function* () {
    const first = yield* batch(2000, once);
    const kept = first.filter((r) => r.owner === null);
    assert.ok(kept.length > 0 && kept.length <= 1024, `${kept.length} records kept`);
    for (const r of kept) {
      assert.equal(r.gen, null);
      assert.equal(r.context, null);
      assert.equal(r.waitRecord, undefined);
      assert.equal(r.done, true);
    }
    const second = yield* batch(2000, once);
    // Only startSoon tasks take kept records: the second batch's took them all.
    assert.equal(reused(first, second), kept.length);
    assert.equal(new Set(second).size, second.length, "two live tasks shared a record");
  });
});

test("a reused record starts clean: not cancelled, not failed, with the contexts of its new parent", async () => {
  const ctx = createContext<string>("pool test", "default");
  await runVirtual(function* () {
    // Every task of the first batch is cancelled, or fails (allowed), inside a context value.
    const never = new Queue<number>();
    const first: Coroutine[] = [];
    yield* ctx.with("inner", function* () {
      yield* withTaskGroup<void>(function* (group) {
        for (let i = 0; i < 100; i++) {
          group.startSoon(
            function* () {
              first.push(current!);
              yield* pause();
              if (i % 2 === 0) throw new Error("allowed");
              yield* never.get(); // cancelled below, parked in a waiter list
            },
            { allowFailure: true },
          );
        }
        yield* pause();
        yield* pause();
        group.returnImmediately(undefined);
      });
    });
    const seen: string[] = [];
    const second = yield* batch(100, function* () {
      yield* pause();
      seen.push(ctx.get());
    });
    assert.equal(reused(first, second), 100, "not every record was reused");
    assert.deepEqual(seen, Array(100).fill("default"));
  });
});

test("a spawned task's handle keeps reporting its own task, whatever ends after it", async () => {
  await runVirtual(function* () {
    const handles: Task<number>[] = [];
    const records: Coroutine[] = [];
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 300; i++) {
        handles.push(
          group.spawn(function* () {
            records.push(current!);
            yield* pause();
            return i;
          }),
        );
      }
    });
    for (let round = 0; round < 3; round++) {
      const later = yield* batch(500, once);
      assert.equal(reused(records, later), 0, "a spawned task's record was reused");
    }
    handles.forEach((h, i) => {
      assert.equal(h.done, true);
      assert.equal(h.tryWait(), i);
    });
  });
});

test("records that something may still reach are not reused: id asked, hooks, timeout scope, cancelled sleep", async () => {
  await runVirtual(function* () {
    const kinds: Record<string, () => Operation<void>> = {
      id: function* () {
        void current!.id;
        yield* pause();
      },
      hooks: function* () {
        useAbortSignal();
        yield* pause();
      },
      timeout: function* () {
        yield* withTimeoutOpt(1000, () => pause());
      },
      cancelledSleep: function* () {
        yield* sleep(1_000_000);
      },
    };
    for (const [kind, body] of Object.entries(kinds)) {
      const first: Coroutine[] = [];
      yield* withTaskGroup<void>(function* (group) {
        for (let i = 0; i < 10; i++) {
          group.startSoon(function* () {
            first.push(current!);
            yield* body();
          });
        }
        if (kind === "cancelledSleep") {
          yield* pause();
          yield* pause();
          group.returnImmediately(undefined);
        }
      });
      const later = yield* batch(2000, once);
      assert.equal(reused(first, later), 0, `a record of a task with ${kind} was reused`);
    }
  });
});

test("a record spawned in debug mode is not reused, not even by a later run outside debug mode", async () => {
  // Both runs use the event loop's one scheduler, and so its one pool.
  const first = await run(() => batch(50, once), { debug: true });
  assert.match(first[0]!.describe(), /spawned/);
  const later = await run(() => batch(50, once));
  assert.equal(reused(first, later), 0);
  for (const r of later) assert.equal(r.loc, undefined, "a task outside debug mode reports a spawn location");
});

test("a cancelled startSoon task meets Cancelled in its own record only", async () => {
  await runVirtual(function* () {
    let cancelled = 0;
    let finished = 0;
    for (let round = 0; round < 5; round++) {
      yield* withTaskGroup<void>(function* (group) {
        for (let i = 0; i < 200; i++) {
          group.startSoon(function* () {
            try {
              yield* pause();
              yield* pause();
              finished++;
            } catch (error) {
              if (error instanceof Cancelled) cancelled++;
              throw error;
            }
          });
        }
        // Half the rounds end early: their tasks are cancelled in their first pause.
        if (round % 2 === 0) {
          yield* pause();
          group.returnImmediately(undefined);
        }
      });
    }
    assert.equal(cancelled, 3 * 200);
    assert.equal(finished, 2 * 200);
  });
});
