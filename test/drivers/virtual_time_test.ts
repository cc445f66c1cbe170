/**
 * `runVirtual` (weft/testing; docs/semantics.md, «Drivers»): a run on a
 * virtual clock that jumps to the next deadline whenever no task is ready.
 * `now()` and every timer follow it, equal deadlines fire in the order their
 * timers were armed (docs/semantics.md, «Timer and sleep»), host promises still work in real
 * time, and a run that nothing can ever wake is reported as a deadlock
 * (docs/semantics.md, «Drivers»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  BreakFromSpawnLoop,
  Cancelled,
  CondVar,
  DeadlockError,
  Queue,
  TimeoutError,
  Timer,
  action,
  call,
  now,
  pause,
  retry,
  run,
  setDeadlockHandler,
  sleep,
  until,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type DeadlockReport,
  type Operation,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { Boom, Log, testOnEveryDriver, assertEvents } from "../support.ts";

// ── helpers ─────────────────────────────────────────────────────────────────

/** Wall-clock milliseconds taken by `fn`. */
async function wallTime<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** A real promise that resolves with `value` after `ms` ms of real time; aborts with the signal. */
function realDelay<T>(ms: number, value: T, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const id = setTimeout(() => resolve(value), ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(id);
      reject(signal.reason);
    });
  });
}

/** A small deterministic PRNG (mulberry32), so shuffles are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Runs `fn` with a deadlock handler that records reports quietly; restores the default after. */
async function withQuietDeadlocks(fn: (reports: DeadlockReport[]) => Promise<void>): Promise<void> {
  const reports: DeadlockReport[] = [];
  setDeadlockHandler((report) => {
    reports.push(report);
  });
  try {
    await fn(reports);
  } finally {
    setDeadlockHandler(undefined);
  }
}

/** The error `promise` rejects with; fails if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => assert.fail(`expected a rejection, got ${String(value)}`),
    (error: unknown) => error,
  );
}

// ── long virtual sleeps in no wall time ──────────────────────────────────────
//
// The wall-time bounds are far below the virtual durations, yet leave room for
// a loaded host that stalls the process for a second or two.

test("an hour-long sleep ends at once with now() exactly 3,600,000", async () => {
  const { value, ms } = await wallTime(() =>
    runVirtual(function* () {
      const before = now();
      yield* sleep(3_600_000);
      return [before, now()];
    }),
  );
  assert.deepEqual(value, [0, 3_600_000]);
  assert.ok(ms < 5000, `an hour of virtual time took ${ms} ms of wall time`);
});

test("a day of hour-long sleeps: now() exact after each one", async () => {
  const { value, ms } = await wallTime(() =>
    runVirtual(function* () {
      const seen: number[] = [];
      for (let hour = 1; hour <= 24; hour++) {
        yield* sleep(3_600_000);
        seen.push(now());
      }
      return seen;
    }),
  );
  assert.deepEqual(
    value,
    Array.from({ length: 24 }, (_, i) => (i + 1) * 3_600_000),
  );
  assert.equal(value[23], 86_400_000);
  assert.ok(ms < 5000, `a virtual day took ${ms} ms of wall time`);
});

test("10,000 sleeps of 360 ms in a loop: now() exact at every step, an hour in total", async () => {
  const { value, ms } = await wallTime(() =>
    runVirtual(function* () {
      const wrong: string[] = [];
      for (let i = 1; i <= 10_000; i++) {
        yield* sleep(360);
        if (now() !== i * 360) wrong.push(`step ${i}: ${now()}`);
      }
      return { wrong, end: now() };
    }),
  );
  assert.deepEqual(value.wrong, []);
  assert.equal(value.end, 3_600_000);
  assert.ok(ms < 5000, `10,000 virtual sleeps took ${ms} ms of wall time`);
});

test("sleeps nested in operations many levels deep add up exactly", async () => {
  const trace: number[] = [];
  // Each level sleeps `level` ms, descends, then sleeps `level` ms again.
  function* descend(level: number): Operation<number> {
    yield* sleep(level);
    trace.push(now());
    const inner = level > 1 ? yield* descend(level - 1) : 0;
    yield* sleep(level);
    trace.push(now());
    return inner + 1;
  }
  const { value, ms } = await wallTime(() =>
    runVirtual(function* () {
      let depthSum = 0;
      for (let round = 0; round < 100; round++) depthSum += yield* descend(50);
      return { depthSum, end: now() };
    }),
  );
  // One descent: 2 × (1 + … + 50) = 2550 ms.
  assert.equal(value.depthSum, 100 * 50);
  assert.equal(value.end, 100 * 2550);
  let t = 0;
  const expected: number[] = [];
  for (let round = 0; round < 100; round++) {
    for (let level = 50; level >= 1; level--) expected.push((t += level));
    for (let level = 1; level <= 50; level++) expected.push((t += level));
  }
  assert.deepEqual(trace, expected);
  assert.ok(ms < 5000, `nested virtual sleeps took ${ms} ms of wall time`);
});

/** Beats (in minutes) that divide a day (1440 minutes) exactly. */
const MINUTES_DIVIDING_A_DAY = [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 24, 30, 32, 36, 40, 45, 48, 60];

test("a thousand tasks sleeping in loops for a virtual day each wake exactly on their own beat", async () => {
  const { value, ms } = await wallTime(() =>
    runVirtual(function* () {
      const wrong: string[] = [];
      const ends: number[] = [];
      yield* withTaskGroup<void>(function* (group) {
        for (let i = 0; i < 1000; i++) {
          const beat = 60_000 * MINUTES_DIVIDING_A_DAY[i % MINUTES_DIVIDING_A_DAY.length]!;
          group.startSoon(function* () {
            const steps = 86_400_000 / beat;
            for (let k = 1; k <= steps; k++) {
              yield* sleep(beat);
              if (now() !== k * beat) wrong.push(`task ${i} step ${k}: ${now()}`);
            }
            ends.push(now());
          });
        }
      });
      return { wrong, ends, end: now() };
    }),
  );
  assert.deepEqual(value.wrong, []);
  assert.equal(value.ends.length, 1000);
  assert.ok(value.ends.every((t) => t === 86_400_000));
  assert.equal(value.end, 86_400_000);
  assert.ok(ms < 5000, `a thousand virtual days took ${ms} ms of wall time`);
});

test("sleep(0) and pause() do not move the virtual clock", async () => {
  const times = await runVirtual(function* () {
    const seen: number[] = [];
    yield* sleep(250);
    seen.push(now());
    yield* sleep(0);
    seen.push(now());
    for (let i = 0; i < 100; i++) yield* pause();
    seen.push(now());
    yield* sleep(1);
    seen.push(now());
    return seen;
  });
  assert.deepEqual(times, [250, 250, 250, 251]);
});

// ── order of equal deadlines ─────────────────────────────────────────────────

test("tasks with equal deadlines wake in spawn order, whatever order the deadlines were spawned in", async () => {
  const random = prng(0x5eed);
  const deadlines = [100, 200, 300, 400, 500, 600];
  // 240 tasks, 40 per deadline value, spawned in a shuffled order of deadlines.
  const plan = shuffle(
    Array.from({ length: 240 }, (_, i) => deadlines[i % deadlines.length]!),
    random,
  );
  const log = new Log();
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      plan.forEach((ms, index) => {
        group.startSoon(function* () {
          yield* sleep(ms);
          log.add(`${index}@${now()}`);
        });
      });
    });
  });
  // Expected: by deadline, then by spawn index (a stable sort of the spawn order).
  const expected = plan
    .map((ms, index) => ({ ms, index }))
    .sort((a, b) => a.ms - b.ms || a.index - b.index)
    .map(({ ms, index }) => `${index}@${ms}`);
  assert.deepEqual(log.entries, expected);
});

testOnEveryDriver("equal deadlines wake in spawn order (few tasks, generous gaps)", async (run) => {
  const random = prng(42);
  const plan = shuffle([20, 20, 20, 60, 60, 60, 100, 100, 100], random);
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      plan.forEach((ms, index) => {
        group.startSoon(function* () {
          yield* sleep(ms);
          log.add(`${index}:${ms}`);
        });
      });
    });
  });
  const expected = plan
    .map((ms, index) => ({ ms, index }))
    .sort((a, b) => a.ms - b.ms || a.index - b.index)
    .map(({ ms, index }) => `${index}:${ms}`);
  assertEvents(run, log.entries, expected);
});

test("sleeps armed at different virtual times for the same deadline fire in the order they were armed", async () => {
  const log = new Log();
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      // All four reach deadline 1000, arming their last sleep at 300, 0, 600 and 100.
      const plans: Array<[string, number[]]> = [
        ["x (armed at 300)", [300, 700]],
        ["y (armed at 0)", [1000]],
        ["z (armed at 600)", [600, 400]],
        ["w (armed at 100)", [100, 900]],
      ];
      for (const [name, sleeps] of plans) {
        group.startSoon(function* () {
          for (const ms of sleeps) yield* sleep(ms);
          log.add(`${name}@${now()}`);
        });
      }
    });
  });
  assert.deepEqual(log.entries, ["y (armed at 0)@1000", "w (armed at 100)@1000", "x (armed at 300)@1000", "z (armed at 600)@1000"]);
});

test("Timers with the same deadline fire in the order they were created and waited on", async () => {
  const log = new Log();
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      // Created (and waited on at once) at 0, 250 and 400; all expire at 500.
      group.startSoon(function* () {
        yield* sleep(400);
        const t = new Timer(100);
        yield* t.wait();
        log.add(`created at 400 -> ${now()}`);
      });
      group.startSoon(function* () {
        const t = new Timer(500);
        yield* t.wait();
        log.add(`created at 0 -> ${now()}`);
      });
      group.startSoon(function* () {
        yield* sleep(250);
        const t = new Timer(250);
        yield* t.wait();
        log.add(`created at 250 -> ${now()}`);
      });
    });
  });
  assert.deepEqual(log.entries, ["created at 0 -> 500", "created at 250 -> 500", "created at 400 -> 500"]);
});

test("a Timer joins the deadline order when it is first waited on, like a sleep armed then", async () => {
  // The Timer is created at 0 but nobody waits until 300, so it sets its
  // scheduler timer then: a sleep armed at 200 for the same deadline fires first.
  const log = new Log();
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const timer = new Timer(1000);
      group.startSoon(function* () {
        yield* sleep(300);
        yield* timer.wait();
        log.add(`timer@${now()}`);
      });
      group.startSoon(function* () {
        yield* sleep(200);
        yield* sleep(800);
        log.add(`sleep@${now()}`);
      });
    });
  });
  assert.deepEqual(log.entries, ["sleep@1000", "timer@1000"]);
});

// ── library timing operations on virtual time ─────────────────────────────────

test("withTimeout on virtual time: the timeout fires at exactly its deadline and the body unwinds then", async () => {
  const log = new Log();
  const error = await rejectionOf(
    runVirtual(function* () {
      yield* sleep(50);
      yield* withTimeout(1000, function* () {
        try {
          yield* sleep(60_000);
          log.add("body finished (wrong)");
        } finally {
          log.add(`body unwound@${now()}`);
        }
      });
    }),
  );
  assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${String(error)}`);
  assert.deepEqual(log.entries, ["body unwound@1050"]);
});

test("withTimeout: a body that finishes first returns its value, and the timer leaves no trace on the clock", async () => {
  const result = await runVirtual(function* () {
    const value = yield* withTimeout(1000, function* () {
      yield* sleep(999);
      return `done@${now()}`;
    });
    const after = now();
    // Nothing of the timeout is left: the next wake-up is our own sleep.
    yield* sleep(5);
    return [value, after, now()];
  });
  assert.deepEqual(result, ["done@999", 999, 1004]);
});

test("withTimeout: a body whose deadline equals the timeout's wins", async () => {
  // A timeout's deadline fires after every other timer due at the same instant
  // (docs/semantics.md, «Timeouts»), so the body's sleep wakes it first.
  const result = await runVirtual(function* () {
    return yield* withTimeout(1000, function* () {
      yield* sleep(1000);
      return `body@${now()}`;
    });
  });
  assert.equal(result, "body@1000");
});

test("withTimeoutOpt on virtual time gives undefined at exactly the deadline", async () => {
  const result = await runVirtual(function* () {
    const value = yield* withTimeoutOpt(250, function* () {
      yield* sleep(10_000);
      return "late";
    });
    return [value, now()];
  });
  assert.deepEqual(result, [undefined, 250]);
});

test("Timer.refresh on virtual time: an idle timeout fires exactly one period after the last refresh", async () => {
  const log = new Log();
  const result = await runVirtual(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      const idle = new Timer(1000);
      group.startSoon(
        function* () {
          yield* idle.wait();
          log.add(`idle@${now()}`);
          group.returnImmediately(now());
        },
        { daemon: true },
      );
      for (const gap of [300, 600, 900]) {
        yield* sleep(gap);
        log.add(`input@${now()}`);
        idle.refresh();
      }
      yield* sleep(1_000_000); // no more input
      log.add("never");
      return -1;
    });
  });
  assert.equal(result, 2800);
  assert.deepEqual(log.entries, ["input@300", "input@900", "input@1800", "idle@2800"]);
});

test("Timer.refresh after expiry restarts the count from the current virtual time", async () => {
  const times = await runVirtual(function* () {
    const timer = new Timer(500);
    yield* timer.wait();
    const first = now();
    yield* sleep(200);
    timer.refresh();
    yield* timer.wait();
    return [first, now()];
  });
  assert.deepEqual(times, [500, 1200]);
});

test("retry with exponential back-off: attempts at exact virtual times until maxRetry is spent", async () => {
  const attempts: number[] = [];
  const error = await rejectionOf(
    runVirtual(function* () {
      yield* retry(
        { kind: "exponentialDelay", initialMs: 100, factor: 2, maximumMs: 800 },
        function* () {
          attempts.push(now());
          throw new Boom(`attempt ${attempts.length}`);
        },
        { maxRetry: 5 },
      );
    }),
  );
  assert.ok(error instanceof Boom);
  assert.equal(error.message, "attempt 6");
  // Delays 100, 200, 400, 800, 800 (capped).
  assert.deepEqual(attempts, [0, 100, 300, 700, 1500, 2300]);
});

test("retry with a fractional factor rounds each delay down", async () => {
  const attempts: number[] = [];
  const result = await runVirtual(function* () {
    const value = yield* retry({ kind: "exponentialDelay", initialMs: 100, factor: 1.5, maximumMs: 1000 }, function* () {
      attempts.push(now());
      if (attempts.length < 8) throw new Boom();
      return "ok";
    });
    return [value, now()];
  });
  // Delays 100, 150, 225, 337, 505, 757, then min(1000, 1135) = 1000.
  assert.deepEqual(attempts, [0, 100, 250, 475, 812, 1317, 2074, 3074]);
  assert.deepEqual(result, ["ok", 3074]);
});

test("retry with a fixed delay succeeds on the third attempt at exactly 2 × delay", async () => {
  const attempts: number[] = [];
  const result = await runVirtual(function* () {
    const value = yield* retry({ kind: "fixedDelay", delayMs: 250 }, function* () {
      attempts.push(now());
      if (attempts.length < 3) throw new Boom();
      return attempts.length;
    });
    return [value, now()];
  });
  assert.deepEqual(attempts, [0, 250, 500]);
  assert.deepEqual(result, [3, 500]);
});

test("spawnLoop ticks at exact virtual times and ends on BreakFromSpawnLoop", async () => {
  const ticks: number[] = [];
  const end = await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.spawnLoop(function* () {
        yield* sleep(250);
        ticks.push(now());
        if (ticks.length === 4) throw new BreakFromSpawnLoop();
      });
    });
    return now();
  });
  assert.deepEqual(ticks, [250, 500, 750, 1000]);
  assert.equal(end, 1000);
});

test("spawnLoop with exponential retry: back-off at exact virtual times, reset after each success", async () => {
  // Each attempt works 10 ms, then fails (F), succeeds (S) or breaks (B).
  const script = ["F", "F", "F", "S", "F", "F", "S", "B"];
  const attempts: string[] = [];
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.spawnLoop(
        function* () {
          yield* sleep(10);
          const step = script[attempts.length]!;
          attempts.push(`${step}@${now()}`);
          if (step === "F") throw new Boom();
          if (step === "B") throw new BreakFromSpawnLoop();
        },
        { retry: { kind: "exponentialDelay", initialMs: 200, factor: 2, maximumMs: 1000 } },
      );
    });
  });
  // Iteration 1: delays 200, 400, 800; iteration 2 starts afresh: 200, 400.
  assert.deepEqual(attempts, ["F@10", "F@220", "F@630", "S@1440", "F@1450", "F@1660", "S@2070", "B@2080"]);
});

test("spawnLoop with retry and maxRetry fails the group at the exact time the last retry fails", async () => {
  const log = new Log();
  const error = await rejectionOf(
    runVirtual(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.spawnLoop(
          function* () {
            yield* sleep(5);
            log.add(`attempt@${now()}`);
            throw new Boom(`at ${now()}`);
          },
          { retry: { kind: "fixedDelay", delayMs: 95 }, maxRetry: 2 },
        );
      });
    }),
  );
  assert.ok(error instanceof Boom);
  assert.equal(error.message, "at 205");
  assert.deepEqual(log.entries, ["attempt@5", "attempt@105", "attempt@205"]);
});

// ── host promises inside a virtual run ───────────────────────────────────────

test("call and until with real promises work inside runVirtual", async () => {
  const result = await runVirtual(function* () {
    const a = yield* call((signal) => realDelay(5, "call", signal));
    const b = yield* until(realDelay(5, "until"));
    const c = yield* until(Promise.resolve("resolved"));
    let d = "";
    try {
      yield* until(Promise.reject(new Boom("rejected")));
    } catch (e) {
      d = e instanceof Boom ? e.message : "wrong error";
    }
    return [a, b, c, d];
  });
  assert.deepEqual(result, ["call", "until", "resolved", "rejected"]);
});

test("tasks waiting only on pending promises: the virtual clock stays put until they settle", async () => {
  const log = new Log();
  const end = await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        const v = yield* call((signal) => realDelay(5, "fast", signal));
        log.add(`${v}@${now()}`);
      });
      group.startSoon(function* () {
        const v = yield* until(realDelay(25, "slow"));
        log.add(`${v}@${now()}`);
      });
    });
    // Real time has passed, virtual time has not.
    log.add(`after@${now()}`);
    yield* sleep(40);
    return now();
  });
  assert.deepEqual(log.entries, ["fast@0", "slow@0", "after@0"]);
  assert.equal(end, 40);
});

test("an action resolved by a real host timer completes inside runVirtual, at virtual time 0", async () => {
  const result = await runVirtual(function* () {
    const v = yield* action<string>((resolve) => {
      const id = setTimeout(() => resolve("host"), 10);
      return () => clearTimeout(id);
    });
    return [v, now()];
  });
  assert.deepEqual(result, ["host", 0]);
});

// ── real work under virtual time: the auto-jump threshold ────────────────────
// While a task waits on the host the clock stands still, for up to
// `autojumpThreshold` real ms without a host callback (250 by default). These
// tests never depend on how fast the host runs: a real promise armed before the
// idle timer, with an earlier deadline, settles first even on a stalled host
// (timers fire in deadline order, and a settle that already asked for a step
// makes the idle timer stand down).

test("a real promise that settles in a few real ms wins against a 60 s virtual timeout (default threshold)", {
  timeout: 30_000,
}, async () => {
  const result = await runVirtual(function* () {
    const value = yield* withTimeoutOpt(60_000, () => call((signal) => realDelay(5, "real", signal)));
    return { value, at: now() };
  });
  assert.deepEqual(result, { value: "real", at: 0 });
});

test("a sleeper beside a pending promise: the clock waits for the promise, then jumps to the sleeper's deadline", {
  timeout: 30_000,
}, async () => {
  const log = new Log();
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        const v = yield* call((signal) => realDelay(20, "promise", signal));
        log.add(`${v}@${now()}`);
      });
      group.startSoon(function* () {
        yield* sleep(1000);
        log.add(`sleeper@${now()}`);
      });
    });
  });
  assert.deepEqual(log.entries, ["promise@0", "sleeper@1000"]);
});

test("a chain of real promises keeps the clock still as long as each settles within the threshold of the last", {
  timeout: 30_000,
}, async () => {
  const result = await runVirtual(
    function* () {
      return yield* withTimeoutOpt(1_000, function* () {
        for (let i = 0; i < 10; i++) yield* until(realDelay(10, i));
        return now();
      });
    },
    { autojumpThreshold: 200 },
  );
  assert.equal(result, 0);
});

test("pure virtual code still jumps at once whatever the threshold, Infinity included", { timeout: 30_000 }, async () => {
  for (const autojumpThreshold of [undefined, 0, 10_000, Infinity]) {
    const at = await runVirtual(
      function* () {
        for (let i = 0; i < 100; i++) yield* sleep(3_600_000);
        return now();
      },
      { autojumpThreshold },
    );
    assert.equal(at, 360_000_000);
  }
  // Waiting for a threshold here would never end (Infinity) or take 1000 s (10 s × 100): the test's limit catches either.
});

test("with nothing from the host for the threshold, the clock jumps: a timeout around a promise that never settles fires", {
  timeout: 30_000,
}, async () => {
  let signalSeen: AbortSignal | undefined;
  const started = Date.now();
  const error = await rejectionOf(
    runVirtual(
      function* () {
        yield* withTimeout(60_000, () =>
          call((signal) => {
            signalSeen = signal;
            return new Promise<never>(() => {});
          }),
        );
      },
      { autojumpThreshold: 30 },
    ),
  );
  assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${String(error)}`);
  assert.equal(signalSeen?.aborted, true);
  assert.ok(signalSeen?.reason instanceof Cancelled);
  // The clock did wait for the threshold in real time first (a stall only makes this longer).
  assert.ok(Date.now() - started >= 25, `jumped after ${Date.now() - started} ms`);
});

test("autojumpThreshold 0 jumps at once even while a real promise is pending (the behaviour before the threshold)", {
  timeout: 30_000,
}, async () => {
  let signalSeen: AbortSignal | undefined;
  const error = await rejectionOf(
    runVirtual(
      function* () {
        yield* withTimeout(60_000, () =>
          call((signal) => {
            signalSeen = signal;
            return realDelay(20, "too late", signal);
          }),
        );
      },
      { autojumpThreshold: 0 },
    ),
  );
  assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${String(error)}`);
  assert.equal(signalSeen?.aborted, true);
});

test("autojumpThreshold 0: a ticking virtual timer does not starve a pending promise: the run completes when it settles", {
  timeout: 30_000,
}, async () => {
  let ticks = 0;
  const result = await runVirtual(
    function* () {
      return yield* withTaskGroup<{ value: string; at: number }>(function* (group) {
        group.startSoon(
          function* () {
            for (;;) {
              yield* sleep(1000);
              ticks++;
            }
          },
          { daemon: true },
        );
        const value = yield* until(realDelay(10, "arrived"));
        return { value, at: now() };
      });
    },
    { autojumpThreshold: 0 },
  );
  assert.equal(result.value, "arrived");
  // Time raced ahead in whole ticks while the promise was pending.
  assert.ok(result.at >= 1000, `expected the clock to have moved, it is at ${result.at}`);
  assert.equal(result.at % 1000, 0);
  assert.ok(ticks === result.at / 1000 || ticks === result.at / 1000 - 1, `ticks ${ticks} at ${result.at}`);
});

test("autojumpThreshold Infinity: the clock never moves while a promise is pending, however long it takes", {
  timeout: 30_000,
}, async () => {
  const result = await runVirtual(
    function* () {
      return yield* withTaskGroup<{ value: string; at: number }>(function* (group) {
        group.startSoon(
          function* () {
            for (;;) yield* sleep(1);
          },
          { daemon: true },
        );
        const value = yield* withTimeoutOpt(1, () => until(realDelay(50, "arrived")));
        return { value: value ?? "timed out", at: now() };
      });
    },
    { autojumpThreshold: Infinity },
  );
  assert.deepEqual(result, { value: "arrived", at: 0 });
});

test("runVirtual checks its options", { timeout: 30_000 }, () => {
  const body = function* () {};
  assert.throws(() => runVirtual(body, 5 as unknown as { autojumpThreshold: number }), {
    name: "TypeError",
    message: /^runVirtual\(\): options must be an object, got number 5/,
  });
  assert.throws(() => runVirtual(body, { autojumpThreshold: "1" as unknown as number }), {
    name: "TypeError",
    message: /^runVirtual\(\): options\.autojumpThreshold must be a number/,
  });
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
    assert.throws(() => runVirtual(body, { autojumpThreshold: bad }), {
      name: "RangeError",
      message: /^runVirtual\(\): options\.autojumpThreshold must be an integer number of milliseconds/,
    });
  }
});

// ── deadlocks ─────────────────────────────────────────────────────────────────

test("blocked forever with no timer: runVirtual rejects with DeadlockError and the handler gets the report", async () => {
  await withQuietDeadlocks(async (reports) => {
    const error = await rejectionOf(
      runVirtual(function* () {
        yield* new Queue<number>().get();
        return "never";
      }),
    );
    assert.ok(error instanceof DeadlockError, `expected DeadlockError, got ${String(error)}`);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.blocked, 1);
    assert.equal(error.blocked, 1);
    assert.deepEqual([...error.locations], reports[0]!.locations);
  });
});

test("a deadlock after virtual time has passed: the sleeps run first, then the run rejects", async () => {
  await withQuietDeadlocks(async (reports) => {
    const log = new Log();
    await assert.rejects(
      runVirtual(function* () {
        yield* sleep(500);
        log.add(`slept@${now()}`);
        yield* sleep(250);
        log.add(`slept@${now()}`);
        yield* new CondVar().wait();
        log.add("woken (wrong)");
      }),
      DeadlockError,
    );
    assert.deepEqual(log.entries, ["slept@500", "slept@750"]);
    assert.equal(reports.length, 1);
  });
});

test("an unobserved Timer does not count as a pending timer: still a deadlock", async () => {
  await withQuietDeadlocks(async (reports) => {
    await assert.rejects(
      runVirtual(function* () {
        const timer = new Timer(1000);
        void timer;
        yield* new Queue<void>().get();
      }),
      DeadlockError,
    );
    assert.equal(reports.length, 1);
  });
});

test("two tasks each waiting for the other's queue: DeadlockError counting every blocked task", async () => {
  await withQuietDeadlocks(async (reports) => {
    const error = await rejectionOf(
      runVirtual(function* () {
        const a = new Queue<number>();
        const b = new Queue<number>();
        yield* withTaskGroup<void>(function* (group) {
          group.startSoon(function* () {
            const v = yield* a.get();
            yield* b.put(v);
          });
          group.startSoon(function* () {
            const v = yield* b.get();
            yield* a.put(v);
          });
        });
      }),
    );
    assert.ok(error instanceof DeadlockError, `expected DeadlockError, got ${String(error)}`);
    // The root task (waiting on its group) and the two children.
    assert.equal(error.blocked, 3);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.blocked, 3);
    assert.equal(reports[0]!.locations.length, 3);
  });
});

test("a run blocked on a pending external promise is not a deadlock: it completes when the promise settles", async () => {
  await withQuietDeadlocks(async (reports) => {
    const result = await runVirtual(function* () {
      const a = yield* call((signal) => realDelay(30, "call", signal));
      const b = yield* until(realDelay(30, "until"));
      return [a, b, now()];
    });
    assert.deepEqual(result, ["call", "until", 0]);
    assert.deepEqual(reports, []);
  });
});

test("a task blocked forever is reported once the pending promise it waited beside has settled", async () => {
  await withQuietDeadlocks(async (reports) => {
    const log = new Log();
    await assert.rejects(
      runVirtual(function* () {
        yield* withTaskGroup<void>(function* (group) {
          group.startSoon(function* () {
            yield* new Queue<void>().get(); // nobody ever puts
          });
          group.startSoon(function* () {
            log.add(yield* call((signal) => realDelay(15, "settled", signal)));
          });
        });
      }),
      DeadlockError,
    );
    assert.deepEqual(log.entries, ["settled"]);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.blocked, 2); // the root and the queue reader
  });
});

test("a deadlocked virtual run does not disturb another virtual run going on at the same time", async () => {
  await withQuietDeadlocks(async (reports) => {
    const [dead, alive] = await Promise.allSettled([
      runVirtual(function* () {
        yield* sleep(100);
        yield* new Queue<void>().get();
      }),
      runVirtual(function* () {
        const seen: number[] = [];
        for (let i = 0; i < 5; i++) {
          yield* sleep(300);
          seen.push(now());
        }
        return seen;
      }),
    ]);
    assert.equal(dead.status, "rejected");
    assert.ok(dead.status === "rejected" && dead.reason instanceof DeadlockError);
    assert.equal(alive.status, "fulfilled");
    assert.deepEqual(alive.status === "fulfilled" ? alive.value : undefined, [300, 600, 900, 1200, 1500]);
    assert.equal(reports.length, 1);
  });
});

// ── independent clocks ───────────────────────────────────────────────────────

test("two runVirtual runs at once keep separate clocks", async () => {
  const [a, b] = await Promise.all([
    runVirtual(function* () {
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        yield* sleep(1000);
        seen.push(now());
      }
      return seen;
    }),
    runVirtual(function* () {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        yield* sleep(300);
        seen.push(now());
      }
      return seen;
    }),
  ]);
  assert.deepEqual(a, [1000, 2000, 3000]);
  assert.deepEqual(b, [300, 600, 900, 1200, 1500]);
});

test("interleaved runVirtual runs started at different moments each start their clock at 0", async () => {
  const first = runVirtual(function* () {
    yield* until(realDelay(15, null)); // still at 0 when the second run starts
    yield* sleep(70);
    return now();
  });
  const second = runVirtual(function* () {
    yield* sleep(5_000);
    return now();
  });
  assert.deepEqual(await Promise.all([first, second]), [70, 5_000]);
});

test("a real-time run beside a virtual one is not moved by the virtual clock", async () => {
  const [real, virtual] = await Promise.all([
    run(function* () {
      const start = now();
      yield* sleep(30);
      return now() - start;
    }),
    runVirtual(function* () {
      yield* sleep(3_600_000);
      return now();
    }),
  ]);
  assert.equal(virtual, 3_600_000);
  assert.ok(real >= 25, `a real 30 ms sleep took ${real} ms`);
  assert.ok(real < 10_000, `a real 30 ms sleep took ${real} ms`);
});
