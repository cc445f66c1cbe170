/**
 * The benchmark workloads, each written three ways: weft on the event-loop
 * driver, weft on the host-pump driver, and plain async/await with
 * hand-written minimal primitives. Every workload checks its own result, so a
 * broken run cannot report a time.
 */
import { pause, run, sleep, withTaskGroup, type Operation } from "../src/index.ts";
import { createHost } from "../src/host.ts";

export type Driver = "event-loop" | "pump" | "plain-await";

export interface Workload {
  name: string;
  /** Operations per run (what ns/op divides by). */
  ops: number;
  /** What the plain version uses, for the report. */
  plainApi: string;
  weft: () => Operation<number>;
  plain: () => Promise<number>;
}

function check(name: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${name}: result ${actual}, expected ${expected}: the run is broken`);
}

const PAUSES = 1_000_000;
const SPAWNS = 100_000;
const TIMERS = 100_000;

function* pauseLoop(): Operation<number> {
  let count = 0;
  for (let i = 0; i < PAUSES; i++) {
    yield* pause();
    count++;
  }
  return count;
}

function* pingPong(): Operation<number> {
  let turns = 0;
  let last = -1;
  let alternations = 0;
  yield* withTaskGroup<void>(function* (group) {
    for (let who = 0; who < 2; who++) {
      group.spawnBg(function* () {
        for (let i = 0; i < PAUSES / 2; i++) {
          if (last !== who) alternations++;
          last = who;
          turns++;
          yield* pause();
        }
      });
    }
  });
  // Strict alternation: every turn switches to the other task.
  check("pause_pingpong alternation", alternations, PAUSES);
  return turns;
}

function* spawnWait(): Operation<number> {
  let finished = 0;
  function* child(): Operation<void> {
    yield* pause();
    finished++;
  }
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < SPAWNS; i++) group.spawnBg(child);
  });
  return finished;
}

function* timerBurst(): Operation<number> {
  let fired = 0;
  function* child(): Operation<void> {
    yield* sleep(1);
    fired++;
  }
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < TIMERS; i++) group.spawnBg(child);
  });
  return fired;
}

/** A hand-written "group" for the plain versions: a counter and a promise. */
function counterGroup(n: number): { done: Promise<void>; finish: () => void } {
  let pending = n;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    done,
    finish: () => {
      if (--pending === 0) resolve();
    },
  };
}

export const workloads: Workload[] = [
  {
    name: "pause_loop",
    ops: PAUSES,
    plainApi: "await null",
    weft: pauseLoop,
    plain: async () => {
      let count = 0;
      for (let i = 0; i < PAUSES; i++) {
        await null;
        count++;
      }
      return count;
    },
  },
  {
    name: "pause_pingpong",
    ops: PAUSES,
    plainApi: "2 async fns, await null",
    weft: pingPong,
    plain: async () => {
      let turns = 0;
      let last = -1;
      let alternations = 0;
      const player = async (who: number): Promise<void> => {
        for (let i = 0; i < PAUSES / 2; i++) {
          if (last !== who) alternations++;
          last = who;
          turns++;
          await null;
        }
      };
      await Promise.all([player(0), player(1)]);
      check("plain pause_pingpong alternation", alternations, PAUSES);
      return turns;
    },
  },
  {
    name: "spawn_wait",
    ops: SPAWNS,
    plainApi: "async fn + await null, counter+promise group",
    weft: spawnWait,
    plain: async () => {
      let finished = 0;
      const group = counterGroup(SPAWNS);
      const child = async (): Promise<void> => {
        await null;
        finished++;
        group.finish();
      };
      for (let i = 0; i < SPAWNS; i++) void child();
      await group.done;
      return finished;
    },
  },
  {
    name: "timer_burst",
    ops: TIMERS,
    plainApi: "setTimeout(1) promise, counter+promise group",
    weft: timerBurst,
    plain: async () => {
      let fired = 0;
      const group = counterGroup(TIMERS);
      const child = async (): Promise<void> => {
        await new Promise<void>((r) => setTimeout(r, 1));
        fired++;
        group.finish();
      };
      for (let i = 0; i < TIMERS; i++) void child();
      await group.done;
      return fired;
    },
  },
];

const expected: Record<string, number> = {
  pause_loop: PAUSES,
  pause_pingpong: PAUSES,
  spawn_wait: SPAWNS,
  timer_burst: TIMERS,
};

// One host for the whole process, as an embedder would have (and as `run` has one scheduler).
let pumpHost: ReturnType<typeof createHost> | null = null;

/** Drives a weft body on a host pump, as an embedder would: pump, then wait for the next deadline. */
function runOnPump<T>(body: () => Operation<T>): T {
  const host = (pumpHost ??= createHost());
  const task = host.spawn(body);
  for (;;) {
    const { nextDeadline, ready } = host.pump();
    if (task.done) return task.tryWait() as T;
    if (ready > 0) continue;
    if (nextDeadline === undefined) throw new Error("pump: tasks are blocked with no timer");
    while (host.now() < nextDeadline) {
      // An embedder would sleep here; a benchmark spins to stay in one thread.
    }
  }
}

/** Runs `workload` once on `driver`; returns elapsed milliseconds. */
export async function runOnce(workload: Workload, driver: Driver): Promise<number> {
  const start = performance.now();
  let result: number;
  if (driver === "event-loop") result = await run(workload.weft);
  else if (driver === "pump") result = runOnPump(workload.weft);
  else result = await workload.plain();
  const elapsed = performance.now() - start;
  check(`${workload.name} on ${driver}`, result, expected[workload.name]!);
  return elapsed;
}
