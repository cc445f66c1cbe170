/**
 * The benchmark workloads, each written three ways: weft on the event-loop
 * driver, weft on the host-pump driver, and plain async/await with
 * hand-written minimal primitives. Every workload checks its own result, so a
 * broken run cannot report a time.
 */
import { CondVar, Queue, QueueClosed, Semaphore, pause, run, sleep, withTaskGroup, type Operation } from "../src/index.ts";
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
const ITEMS = 1_000_000;
const ACQUISITIONS = 500_000;
const SIGNALS = 500_000;

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

/** One producer, one consumer; the consumer checks that items arrive in order. */
function queueThroughput(capacity: number): () => Operation<number> {
  return function* () {
    const q = new Queue<number>({ kind: "blocking", capacity });
    let received = 0;
    yield* withTaskGroup<void>(function* (group) {
      group.spawnBg(function* () {
        for (let i = 0; i < ITEMS; i++) yield* q.put(i);
        q.close();
      });
      try {
        for (;;) {
          const item = yield* q.get();
          if (item !== received) throw new Error(`aqueue: got ${item}, expected ${received}`);
          received++;
        }
      } catch (error) {
        if (!(error instanceof QueueClosed)) throw error;
      }
    });
    return received;
  };
}

function* semaphoreThroughput(): Operation<number> {
  const lock = new Semaphore(1);
  let acquisitions = 0;
  let inside = 0;
  yield* withTaskGroup<void>(function* (group) {
    for (let t = 0; t < 2; t++) {
      group.spawnBg(function* () {
        for (let i = 0; i < ACQUISITIONS / 2; i++) {
          yield* lock.acquire();
          if (++inside !== 1) throw new Error("semaphore: two holders");
          acquisitions++;
          yield* pause();
          inside--;
          lock.release();
        }
      });
    }
  });
  return acquisitions;
}

function* condVarSignal(): Operation<number> {
  const changed = new CondVar();
  let produced = 0;
  let consumed = 0;
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      for (let i = 0; i < SIGNALS; i++) {
        yield* pause();
        produced++;
        changed.signal();
      }
    });
    while (consumed < SIGNALS) {
      while (consumed === produced) yield* changed.wait();
      consumed = produced;
    }
  });
  return consumed;
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

/** A minimal bounded async queue on promises, as one would write it by hand. */
class PlainQueue<T> {
  private readonly items: T[] = [];
  private readonly getters: ((value: T) => void)[] = [];
  private readonly putters: { value: T; resolve: () => void }[] = [];
  constructor(private readonly capacity: number) {}
  async put(value: T): Promise<void> {
    const getter = this.getters.shift();
    if (getter !== undefined) return getter(value);
    if (this.items.length < this.capacity) {
      this.items.push(value);
      return;
    }
    return new Promise<void>((resolve) => this.putters.push({ value, resolve }));
  }
  async get(): Promise<T> {
    if (this.items.length > 0) {
      const item = this.items.shift()!;
      const putter = this.putters.shift();
      if (putter !== undefined) {
        this.items.push(putter.value);
        putter.resolve();
      }
      return item;
    }
    const putter = this.putters.shift();
    if (putter !== undefined) {
      putter.resolve();
      return putter.value;
    }
    return new Promise<T>((resolve) => this.getters.push(resolve));
  }
}

/** A minimal FIFO async semaphore on promises. */
class PlainSemaphore {
  private readonly waiters: (() => void)[] = [];
  constructor(private permits: number) {}
  async acquire(): Promise<void> {
    if (this.permits > 0) {
      this.permits--;
      return;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else this.permits++;
  }
}

/** A minimal condition variable on promises. */
class PlainCondVar {
  private readonly waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  signal(): void {
    this.waiters.shift()?.();
  }
}

function plainQueueThroughput(capacity: number): () => Promise<number> {
  return async () => {
    const q = new PlainQueue<number>(capacity);
    let received = 0;
    const producer = (async () => {
      for (let i = 0; i < ITEMS; i++) await q.put(i);
    })();
    for (let i = 0; i < ITEMS; i++) {
      const item = await q.get();
      if (item !== received) throw new Error(`plain aqueue: got ${item}, expected ${received}`);
      received++;
    }
    await producer;
    return received;
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
  {
    name: "aqueue_cap1",
    ops: ITEMS,
    plainApi: "promise queue, capacity 1",
    weft: queueThroughput(1),
    plain: plainQueueThroughput(1),
  },
  {
    name: "aqueue_cap64",
    ops: ITEMS,
    plainApi: "promise queue, capacity 64",
    weft: queueThroughput(64),
    plain: plainQueueThroughput(64),
  },
  {
    name: "semaphore_throughput",
    ops: ACQUISITIONS,
    plainApi: "promise semaphore, await null as the pause",
    weft: semaphoreThroughput,
    plain: async () => {
      const lock = new PlainSemaphore(1);
      let acquisitions = 0;
      let inside = 0;
      const worker = async (): Promise<void> => {
        for (let i = 0; i < ACQUISITIONS / 2; i++) {
          await lock.acquire();
          if (++inside !== 1) throw new Error("plain semaphore: two holders");
          acquisitions++;
          await null;
          inside--;
          lock.release();
        }
      };
      await Promise.all([worker(), worker()]);
      return acquisitions;
    },
  },
  {
    name: "cond_var_signal",
    ops: SIGNALS,
    plainApi: "promise condvar, await null as the pause",
    weft: condVarSignal,
    plain: async () => {
      const changed = new PlainCondVar();
      let produced = 0;
      let consumed = 0;
      const producer = (async () => {
        for (let i = 0; i < SIGNALS; i++) {
          await null;
          produced++;
          changed.signal();
        }
      })();
      while (consumed < SIGNALS) {
        while (consumed === produced) await changed.wait();
        consumed = produced;
      }
      await producer;
      return consumed;
    },
  },
];

const expected: Record<string, number> = {
  pause_loop: PAUSES,
  pause_pingpong: PAUSES,
  spawn_wait: SPAWNS,
  timer_burst: TIMERS,
  aqueue_cap1: ITEMS,
  aqueue_cap64: ITEMS,
  semaphore_throughput: ACQUISITIONS,
  cond_var_signal: SIGNALS,
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
