/**
 * Starvation avoidance on the real event loop (docs/semantics.md, «Rounds»): a
 * task that pauses in a loop lets timers and the host's own callbacks run.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { pause, run, sleep, withTaskGroup } from "../../src/index.ts";
import { Log } from "../support.ts";

test("a busy loop that pauses does not starve a sleeping task", async () => {
  const log = new Log();
  let pauses = 0;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(30);
        log.add("sleep completed");
      });
      group.startSoon(function* () {
        const start = performance.now();
        // Busy until the sleeper has run; 5 s is the guard against a starved one
        // (generous: a stalled host can delay a 30 ms sleep well past 100 ms).
        while (log.entries.length < 1 && performance.now() - start < 5000) {
          yield* pause();
          pauses++;
        }
        log.add("busy wait completed");
      });
    });
  });
  assert.deepEqual(log.entries, ["sleep completed", "busy wait completed"]);
  assert.ok(pauses > 0);
});

test("a busy loop that pauses does not starve several sleepers, which wake in deadline order", async () => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (const ms of [80, 20, 40]) {
        group.startSoon(function* () {
          yield* sleep(ms);
          log.add(`slept ${ms}`);
        });
      }
      group.startSoon(function* () {
        const start = performance.now();
        // Busy until every sleeper has run (with the same guard).
        while (log.entries.length < 3 && performance.now() - start < 5000) yield* pause();
        log.add("busy wait completed");
      });
    });
  });
  assert.deepEqual(log.entries, ["slept 20", "slept 40", "slept 80", "busy wait completed"]);
});

test("while a task pauses in a loop, host setImmediate and setTimeout callbacks still run", async () => {
  let immediateRan = false;
  let timeoutRan = false;
  let pauses = 0;
  const gaveUp = await run(function* () {
    setImmediate(() => {
      immediateRan = true;
    });
    setTimeout(() => {
      timeoutRan = true;
    }, 10);
    const start = performance.now();
    while (!(immediateRan && timeoutRan)) {
      // A guard: without host turns the flags never change.
      if (performance.now() - start > 5000) return true;
      yield* pause();
      pauses++;
    }
    return false;
  });
  assert.equal(gaveUp, false, "the host callbacks never ran while the task paused");
  assert.ok(immediateRan && timeoutRan);
});

test("while two tasks ping-pong with pause, a host I/O-style callback gets its turn", async () => {
  // Two tasks keep the ready queue non-empty all the time, so no round ever
  // finds it empty; the driver must still hand the host a turn between slices.
  let hostTurns = 0;
  let stop = false;
  const tick = () => {
    hostTurns++;
    if (hostTurns >= 3) stop = true;
    else setImmediate(tick);
  };
  let switches = 0;
  const start = performance.now();
  await run(function* () {
    setImmediate(tick);
    yield* withTaskGroup<void>(function* (group) {
      for (let t = 0; t < 2; t++) {
        group.startSoon(function* () {
          while (!stop && performance.now() - start < 5000) {
            switches++;
            yield* pause();
          }
        });
      }
    });
  });
  assert.equal(hostTurns, 3, "the host did not get three turns within 5 s");
  assert.ok(switches > 0);
});

test("pausing does not cost a host timer per pause: 100k round trips finish quickly", async () => {
  const N = 50_000;
  const start = performance.now();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (let t = 0; t < 2; t++) {
        group.startSoon(function* () {
          for (let i = 0; i < N; i++) yield* pause();
        });
      }
    });
  });
  const elapsed = performance.now() - start;
  // One setTimeout(0) per round would take at least ~50 s here.
  assert.ok(elapsed < 5000, `100k pauses took ${Math.round(elapsed)} ms`);
});
