/**
 * The bare trampoline: the smallest generator scheduler that can run the
 * workloads (a ready ring, pause, spawn + join, sleep on one host timer, a
 * bounded queue, a semaphore and a condition variable) with no cancellation,
 * no groups, no error propagation and no debug support. It stands for the
 * practical limit of weft's design: what is left when the features are gone.
 */
import { check, hostSetTimeout, type BenchEnv, type PeerWorkloads } from "../peer.ts";

type Op<T> = Generator<unknown, T, unknown>;
interface Task {
  gen: Op<unknown>;
  value: unknown;
  done: boolean;
  result: unknown;
  joiner: Task | null;
}
interface Sleeper {
  at: number;
  task: Task;
}
const PAUSE = 0;
const PARK = 1;
/** What a paused task is resumed with: the shared pause iterator then completes. */
const RESUME = {};
const PAUSED: IteratorResult<unknown, void> = { done: false, value: PAUSE };
const RESUMED: IteratorResult<unknown, void> = { done: true, value: undefined };

// ── the trampoline ──────────────────────────────────────────────────────────
let ring: (Task | undefined)[] = new Array(1024);
let head = 0;
let tail = 0;
let current: Task;
const timers: Sleeper[] = []; // a binary min-heap on `at`
let clock: () => number = () => performance.now();

function ready(task: Task, value?: unknown): void {
  task.value = value;
  ring[tail] = task;
  tail = (tail + 1) & (ring.length - 1);
  if (tail === head) {
    ring = [...ring.slice(head), ...ring.slice(0, head), ...new Array<undefined>(ring.length)];
    head = 0;
    tail = ring.length / 2;
  }
}
function spawn(body: () => Op<unknown>): Task {
  const task: Task = { gen: body(), value: undefined, done: false, result: undefined, joiner: null };
  ready(task);
  return task;
}
/** A shared, stateless iterator (as weft's own pause is): no generator allocated per pause. */
const pauseOp: Op<void> = {
  next: (value: unknown) => (value === RESUME ? RESUMED : PAUSED),
  return: (value: void) => ({ done: true, value }),
  throw: (error: unknown) => {
    throw error;
  },
  [Symbol.iterator]() {
    return this;
  },
} as unknown as Op<void>;
const pause = (): Op<void> => pauseOp;
function* join(task: Task): Op<unknown> {
  if (!task.done) {
    task.joiner = current;
    yield PARK;
  }
  return task.result;
}
function* sleep(ms: number): Op<void> {
  let i = timers.push({ at: clock() + ms, task: current }) - 1;
  for (let p = (i - 1) >> 1; i > 0 && timers[p]!.at > timers[i]!.at; i = p, p = (i - 1) >> 1)
    [timers[p], timers[i]] = [timers[i]!, timers[p]!];
  yield PARK;
}
function popTimer(): Task {
  const top = timers[0]!;
  const last = timers.pop()!;
  if (timers.length > 0) {
    timers[0] = last;
    for (let i = 0, c = 1; c < timers.length; i = c, c = 2 * i + 1) {
      if (c + 1 < timers.length && timers[c + 1]!.at < timers[c]!.at) c++;
      if (timers[c]!.at >= timers[i]!.at) break;
      [timers[c], timers[i]] = [timers[i]!, timers[c]!];
    }
  }
  return top.task;
}
/** Runs until nothing is ready; returns the next timer deadline, if any. */
function drain(): number | undefined {
  for (;;) {
    while (head !== tail) {
      const task = (current = ring[head]!);
      ring[head] = undefined;
      head = (head + 1) & (ring.length - 1);
      const r = task.gen.next(task.value);
      if (r.done) {
        task.done = true;
        task.result = r.value;
        if (task.joiner !== null) ready(task.joiner, undefined);
      } else if (r.value === PAUSE) ready(task, RESUME);
    }
    const now = clock();
    while (timers.length > 0 && timers[0]!.at <= now) ready(popTimer());
    if (head === tail) return timers.length > 0 ? timers[0]!.at : undefined;
  }
}
/** Runs `body` to its end: one host timer for the earliest sleep, or a spin where the host has no timer. */
function runMain<T>(body: () => Op<T>, setTimer: ((cb: () => void, ms: number) => unknown) | undefined): Promise<T> {
  const main = spawn(body);
  return new Promise<T>((resolve, reject) => {
    const tick = (): void => {
      let next: number | undefined;
      try {
        next = drain();
      } catch (error) {
        reject(error);
        return;
      }
      if (main.done) resolve(main.result as T);
      else if (next === undefined) reject(new Error("trampoline: tasks are blocked with no timer"));
      else if (setTimer !== undefined) setTimer(tick, Math.max(0, Math.ceil(next - clock())));
      else {
        while (clock() < next);
        tick();
      }
    };
    tick();
  });
}
class TQueue<T> {
  private readonly items: T[] = [];
  private readonly getters: Task[] = [];
  private readonly putters: { task: Task; value: T }[] = [];
  constructor(private readonly capacity: number) {}
  *put(value: T): Op<void> {
    const getter = this.getters.shift();
    if (getter !== undefined) ready(getter, value);
    else if (this.items.length < this.capacity) this.items.push(value);
    else {
      this.putters.push({ task: current, value });
      yield PARK;
    }
  }
  *get(): Op<T> {
    const putter = this.putters.shift();
    if (this.items.length > 0) {
      const item = this.items.shift()!;
      if (putter !== undefined) {
        this.items.push(putter.value);
        ready(putter.task);
      }
      return item;
    }
    if (putter !== undefined) {
      ready(putter.task);
      return putter.value;
    }
    this.getters.push(current);
    return (yield PARK) as T;
  }
}
class TSemaphore {
  private readonly waiters: Task[] = [];
  constructor(private permits: number) {}
  *acquire(): Op<void> {
    if (this.permits > 0) this.permits--;
    else {
      this.waiters.push(current);
      yield PARK;
    }
  }
  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) ready(next);
    else this.permits++;
  }
}
class TCondVar {
  private readonly waiters: Task[] = [];
  *wait(): Op<void> {
    this.waiters.push(current);
    yield PARK;
  }
  signal(): void {
    const w = this.waiters.shift();
    if (w !== undefined) ready(w);
  }
}
// ── the workloads ───────────────────────────────────────────────────────────

function* spawnAll(n: number, body: () => Op<unknown>): Op<void> {
  const tasks: Task[] = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = spawn(body);
  for (let i = 0; i < n; i++) yield* join(tasks[i]!);
}

/** `trampoline`: every workload on the trampoline above. */
export function trampolinePeer(env: BenchEnv): PeerWorkloads {
  clock = env.now;
  const setTimer = hostSetTimeout();
  const timerApi = setTimer === undefined ? "one spin-wait on the clock (no host timer)" : "one host setTimeout";
  const go = <T>(body: () => Op<T>): Promise<T> => runMain(body, setTimer);
  const timerBurst = (ms: number): PeerWorkloads[string] => ({
    api: `sleep(${ms}) (binary heap, ${timerApi}), spawn + join`,
    run: (n) =>
      go(function* () {
        let fired = 0;
        yield* spawnAll(n, function* () {
          yield* sleep(ms);
          fired++;
        });
        return fired;
      }),
  });
  const queueThroughput = (capacity: number): PeerWorkloads[string] => ({
    api: `bounded queue cap ${capacity} put/get (waiter arrays)`,
    run: (n) =>
      go(function* () {
        const q = new TQueue<number>(capacity);
        let received = 0;
        const producer = spawn(function* () {
          for (let i = 0; i < n; i++) yield* q.put(i);
        });
        for (let i = 0; i < n; i++) {
          const item = yield* q.get();
          if (item !== received) throw new Error(`aqueue: got ${item}, expected ${received}`);
          received++;
        }
        yield* join(producer);
        return received;
      }),
  });
  return {
    pause_loop: {
      api: "pause() (a shared iterator)",
      run: (n) =>
        go(function* () {
          let count = 0;
          for (let i = 0; i < n; i++) {
            yield* pause();
            count++;
          }
          return count;
        }),
    },
    pause_pingpong: {
      api: "pause(), spawn + join",
      run: (n) =>
        go(function* () {
          let turns = 0;
          let last = -1;
          let alternations = 0;
          const a = spawn(function* () {
            for (let i = 0; i < n / 2; i++) {
              if (last !== 0) alternations++;
              last = 0;
              turns++;
              yield* pause();
            }
          });
          const b = spawn(function* () {
            for (let i = 0; i < n / 2; i++) {
              if (last !== 1) alternations++;
              last = 1;
              turns++;
              yield* pause();
            }
          });
          yield* join(a);
          yield* join(b);
          check("pause_pingpong alternations", alternations, n);
          return turns;
        }),
    },
    spawn_wait: {
      api: "spawn + pause(), join each",
      run: (n) =>
        go(function* () {
          let finished = 0;
          yield* spawnAll(n, function* () {
            yield* pause();
            finished++;
          });
          return finished;
        }),
    },
    aqueue_cap1: queueThroughput(1),
    aqueue_cap64: queueThroughput(64),
    semaphore_throughput: {
      api: "semaphore acquire/release (waiter array), pause()",
      run: (n) =>
        go(function* () {
          const lock = new TSemaphore(1);
          let acquisitions = 0;
          let inside = 0;
          const worker = function* (): Op<void> {
            for (let i = 0; i < n / 2; i++) {
              yield* lock.acquire();
              if (++inside !== 1) throw new Error("semaphore: two holders");
              acquisitions++;
              yield* pause();
              inside--;
              lock.release();
            }
          };
          const a = spawn(worker);
          const b = spawn(worker);
          yield* join(a);
          yield* join(b);
          return acquisitions;
        }),
    },
    cond_var_signal: {
      api: "condvar wait/signal (waiter array), pause()",
      run: (n) =>
        go(function* () {
          const changed = new TCondVar();
          let produced = 0;
          let consumed = 0;
          const producer = spawn(function* () {
            for (let i = 0; i < n; i++) {
              yield* pause();
              produced++;
              changed.signal();
            }
          });
          while (consumed < n) {
            while (consumed === produced) yield* changed.wait();
            consumed = produced;
          }
          yield* join(producer);
          return consumed;
        }),
    },
    timer_burst_sleep0: timerBurst(0),
    timer_burst_sleep1: timerBurst(1),
    group_overhead: { unavailable: NO_SCOPES },
    timeout_overhead: { unavailable: NO_SCOPES },
    cancel_1m: { unavailable: NO_SCOPES },
  };
}

/** Why the trampoline has no group, timeout or cancellation workloads. */
const NO_SCOPES = "the bare trampoline has spawn, join and pause only: no scopes, timeouts or cancellation to measure";
