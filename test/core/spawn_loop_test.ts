/**
 * TaskGroup.spawnLoop (docs/semantics.md, «Groups»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { BreakFromSpawnLoop, now, sleep, withTaskGroup } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { Log, testOnEveryDriver, assertEvents } from "../support.ts";

class Flaky extends Error {
  constructor(message = "flaky") {
    super(message);
    this.name = "Flaky";
  }
}

testOnEveryDriver("spawnLoop runs its body again and again until BreakFromSpawnLoop, which ends it normally", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      let i = 0;
      group.spawnLoop(function* () {
        log.add(`tick ${i}`);
        i++;
        if (i >= 3) throw new BreakFromSpawnLoop();
        yield* sleep(5);
      });
      return "group done";
    });
  });
  assert.equal(value, "group done");
  assertEvents(run, log.entries, ["tick 0", "tick 1", "tick 2"]);
});

testOnEveryDriver("an error from a spawnLoop body ends the loop and fails the group", async (run) => {
  const log = new Log();
  const boom = new Flaky("boom");
  await assert.rejects(
    run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          try {
            yield* sleep(10_000);
          } catch (e) {
            log.add(`sibling cancelled: ${(e as Error).name}`);
            throw e;
          }
        });
        let i = 0;
        group.spawnLoop(function* () {
          log.add(`tick ${i}`);
          i++;
          if (i >= 3) throw boom;
          yield* sleep(5);
        });
      });
    }),
    (e) => e === boom,
  );
  assertEvents(run, log.entries, ["tick 0", "tick 1", "tick 2", "sibling cancelled: Cancelled"]);
});

test("spawnLoop with exponential retry: the back-off starts afresh after a successful iteration", async () => {
  const starts: number[] = [];
  const outcomes: string[] = [];
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      let i = 0;
      group.spawnLoop(
        function* () {
          starts.push(now());
          i++;
          if (i <= 3 || i === 5 || i === 6) {
            outcomes.push("fail");
            throw new Flaky(`iteration ${i}`);
          }
          if (i === 4) {
            outcomes.push("ok");
            return;
          }
          outcomes.push("break");
          throw new BreakFromSpawnLoop();
        },
        { retry: { kind: "exponentialDelay", initialMs: 200, factor: 2, maximumMs: 600 } },
      );
    });
  });
  assert.deepEqual(outcomes, ["fail", "fail", "fail", "ok", "fail", "fail", "break"]);
  const delays = starts.slice(1).map((t, k) => t - starts[k]!);
  // 200, 400, 600 (capped), then the success starts the next iteration at once,
  // then the back-off is fresh: 200, 400.
  assert.deepEqual(delays, [200, 400, 600, 0, 200, 400]);
  assert.deepEqual(starts, [0, 200, 600, 1200, 1200, 1400, 1800]);
});

test("spawnLoop with retry and maxRetry: an iteration failing more often fails the group", async () => {
  const starts: number[] = [];
  const last = new Flaky("third failure");
  await assert.rejects(
    runVirtual(function* () {
      yield* withTaskGroup<void>(function* (group) {
        let i = 0;
        group.spawnLoop(
          function* () {
            starts.push(now());
            i++;
            throw i === 3 ? last : new Flaky(`failure ${i}`);
          },
          { retry: { kind: "fixedDelay", delayMs: 50 }, maxRetry: 2 },
        );
      });
    }),
    (e) => e === last,
  );
  assert.deepEqual(starts, [0, 50, 100]);
});

test("a daemon spawnLoop retrying with a delay is cancelled when the rest of the group ends", async () => {
  const starts: number[] = [];
  const end = await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.spawnLoop(
        function* () {
          starts.push(now());
          throw new Flaky();
        },
        { daemon: true, allowFailure: true, retry: { kind: "fixedDelay", delayMs: 50 } },
      );
      yield* sleep(125);
    });
    return now();
  });
  assert.deepEqual(starts, [0, 50, 100]);
  assert.equal(end, 125);
});
