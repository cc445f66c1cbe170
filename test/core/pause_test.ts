/**
 * pause() (docs/semantics.md, «Rounds», «Pause»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, isBeingCancelled, pause, protectFromCancel, withTaskGroup, type Operation } from "../../src/index.ts";
import { Log, testOnEveryDriver } from "../support.ts";

testOnEveryDriver("two pausing tasks alternate strictly, one step per round", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (const name of ["ping", "pong"]) {
        group.startSoon(function* () {
          for (let i = 0; i < 5; i++) {
            log.add(`${name} ${i}`);
            yield* pause();
          }
        });
      }
    });
  });
  assert.deepEqual(log.entries, ["ping 0", "pong 0", "ping 1", "pong 1", "ping 2", "pong 2", "ping 3", "pong 3", "ping 4", "pong 4"]);
});

testOnEveryDriver("a task woken during a round runs in the next round, after the tasks already queued", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        log.add("a: step 1");
        // Spawned now, queued before a pauses: it runs in the next round, ahead of a.
        group.startSoon(function* () {
          log.add("c: step 1");
          yield* pause();
          log.add("c: step 2");
        });
        yield* pause();
        log.add("a: step 2");
        yield* pause();
        log.add("a: step 3");
      });
      group.startSoon(function* () {
        log.add("b: step 1");
        yield* pause();
        log.add("b: step 2");
      });
    });
  });
  assert.deepEqual(log.entries, ["a: step 1", "b: step 1", "c: step 1", "a: step 2", "b: step 2", "c: step 2", "a: step 3"]);
});

testOnEveryDriver("pause throws Cancelled in a cancelled task, and again at every later pause", async (run) => {
  const log = new Log();
  const steps = await run(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      const looper = group.spawn(function* (): Operation<number> {
        let n = 0;
        try {
          for (;;) {
            yield* pause();
            n++;
          }
        } catch (e) {
          log.add(`loop ended by ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
        }
        // Cancellation is sticky: the next pause throws at once too.
        try {
          yield* pause();
          log.add("second pause returned");
        } catch (e) {
          log.add(`second pause threw ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
        }
        return n;
      });
      group.startSoon(function* () {
        for (let i = 0; i < 5; i++) yield* pause();
        looper.cancel();
      });
      return yield* looper.wait();
    });
  });
  assert.deepEqual(log.entries, ["loop ended by Cancelled", "second pause threw Cancelled"]);
  // The looper stepped once per round while the canceller paused 5 times.
  assert.equal(steps, 5);
});

testOnEveryDriver("pause works inside protectFromCancel in a cancelled task; outside it throws again", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(function* () {
        // Cancelled before it started: the body still starts (docs/semantics.md, «Shielding»).
        log.add(`started, being cancelled: ${isBeingCancelled()}`);
        yield* protectFromCancel(function* () {
          for (let i = 1; i <= 3; i++) {
            yield* pause();
            log.add(`protected pause ${i} (being cancelled: ${isBeingCancelled()})`);
          }
        });
        try {
          yield* pause();
          log.add("unprotected pause returned");
        } catch (e) {
          log.add(`unprotected pause threw ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
          throw e;
        }
      });
      task.cancel();
    });
  });
  assert.deepEqual(log.entries, [
    "started, being cancelled: true",
    "protected pause 1 (being cancelled: false)",
    "protected pause 2 (being cancelled: false)",
    "protected pause 3 (being cancelled: false)",
    "unprotected pause threw Cancelled",
  ]);
});

testOnEveryDriver("a task pausing 100k times does not starve a sibling that also pauses", async (run) => {
  const N = 100_000;
  let a = 0;
  let b = 0;
  let maxGap = 0;
  const checkpoints: Array<[number, number]> = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let i = 0; i < N; i++) {
          a++;
          maxGap = Math.max(maxGap, Math.abs(a - b));
          if (a % 10_000 === 0) checkpoints.push([a, b]);
          yield* pause();
        }
      });
      group.startSoon(function* () {
        for (let i = 0; i < N; i++) {
          b++;
          maxGap = Math.max(maxGap, Math.abs(a - b));
          yield* pause();
        }
      });
    });
  });
  assert.equal(a, N);
  assert.equal(b, N);
  // Interleaved step by step: neither ever got more than one step ahead.
  assert.ok(maxGap <= 1, `one task got ${maxGap} steps ahead`);
  assert.equal(checkpoints.length, 10);
  for (const [atA, atB] of checkpoints) assert.ok(atB >= atA - 1, `at a=${atA}, b was ${atB}`);
});
