/**
 * Plain async/await with hand-written minimal promise primitives: what one
 * writes without a library. Two peers share this code and differ only in the
 * yield: `await-microtask` awaits an already-settled value (a microtask turn),
 * `await-immediate` awaits a macrotask (`setImmediate`, or a MessageChannel
 * message where there is no setImmediate).
 */
import { check, hostSetTimeout, type PeerWorkloads } from "../peer.ts";

type Yield = () => Promise<void> | null;

/** A "group": a counter and a promise that resolves when it reaches zero. */
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

/** A minimal bounded queue on promises. */
class PromiseQueue<T> {
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

/** A minimal FIFO semaphore on promises. */
class PromiseSemaphore {
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
class PromiseCondVar {
  private readonly waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  signal(): void {
    this.waiters.shift()?.();
  }
}

function workloads(pause: Yield, yieldApi: string): PeerWorkloads {
  const setTimer = hostSetTimeout();
  const noTimer = { unavailable: "the host has no timer (no setTimeout)" };
  // QuickJS has neither: the plain equivalents of a scope and a timeout need AbortController.
  const noAbortController =
    typeof (globalThis as { AbortController?: unknown }).AbortController !== "function"
      ? { unavailable: "the host has no AbortController" }
      : undefined;
  const timerBurst = (ms: number): PeerWorkloads[string] =>
    setTimer === undefined
      ? noTimer
      : {
          api: `new Promise(r => setTimeout(r, ${ms})), counter+promise group`,
          run: async (n) => {
            let fired = 0;
            const group = counterGroup(n);
            const child = async (): Promise<void> => {
              await new Promise<void>((r) => setTimer(r, ms));
              fired++;
              group.finish();
            };
            for (let i = 0; i < n; i++) void child();
            await group.done;
            return fired;
          },
        };
  const queueThroughput = (capacity: number): PeerWorkloads[string] => ({
    api: `promise queue cap ${capacity} (async put/get; no explicit yield)`,
    run: async (n) => {
      const q = new PromiseQueue<number>(capacity);
      let received = 0;
      const producer = (async () => {
        for (let i = 0; i < n; i++) await q.put(i);
      })();
      for (let i = 0; i < n; i++) {
        const item = await q.get();
        if (item !== received) throw new Error(`aqueue: got ${item}, expected ${received}`);
        received++;
      }
      await producer;
      return received;
    },
  });
  return {
    pause_loop: {
      api: yieldApi,
      run: async (n) => {
        let count = 0;
        for (let i = 0; i < n; i++) {
          await pause();
          count++;
        }
        return count;
      },
    },
    pause_pingpong: {
      api: `2 async fns, ${yieldApi}`,
      run: async (n) => {
        let turns = 0;
        let last = -1;
        let alternations = 0;
        const player = async (who: number): Promise<void> => {
          for (let i = 0; i < n / 2; i++) {
            if (last !== who) alternations++;
            last = who;
            turns++;
            await pause();
          }
        };
        await Promise.all([player(0), player(1)]);
        check("pause_pingpong alternations", alternations, n);
        return turns;
      },
    },
    spawn_wait: {
      api: `async fn + ${yieldApi}, counter+promise group`,
      run: async (n) => {
        let finished = 0;
        const group = counterGroup(n);
        const child = async (): Promise<void> => {
          await pause();
          finished++;
          group.finish();
        };
        for (let i = 0; i < n; i++) void child();
        await group.done;
        return finished;
      },
    },
    aqueue_cap1: queueThroughput(1),
    aqueue_cap64: queueThroughput(64),
    semaphore_throughput: {
      api: `promise semaphore, ${yieldApi} while holding`,
      run: async (n) => {
        const lock = new PromiseSemaphore(1);
        let acquisitions = 0;
        let inside = 0;
        const worker = async (): Promise<void> => {
          for (let i = 0; i < n / 2; i++) {
            await lock.acquire();
            if (++inside !== 1) throw new Error("semaphore: two holders");
            acquisitions++;
            await pause();
            inside--;
            lock.release();
          }
        };
        await Promise.all([worker(), worker()]);
        return acquisitions;
      },
    },
    cond_var_signal: {
      api: `promise condvar, ${yieldApi} before each signal`,
      run: async (n) => {
        const changed = new PromiseCondVar();
        let produced = 0;
        let consumed = 0;
        const producer = (async () => {
          for (let i = 0; i < n; i++) {
            await pause();
            produced++;
            changed.signal();
          }
        })();
        while (consumed < n) {
          while (consumed === produced) await changed.wait();
          consumed = produced;
        }
        await producer;
        return consumed;
      },
    },
    timer_burst_sleep0: timerBurst(0),
    timer_burst_sleep1: timerBurst(1),
    group_overhead: noAbortController ?? {
      api: `an AbortController per scope (what its children would watch), async body with ${yieldApi}`,
      run: async (n) => {
        let entered = 0;
        const body = async (signal: AbortSignal): Promise<void> => {
          if (signal.aborted) throw signal.reason;
          entered++;
          await pause();
        };
        for (let i = 0; i < n; i++) {
          const scope = new AbortController();
          try {
            await body(scope.signal);
          } finally {
            scope.abort();
          }
        }
        return entered;
      },
    },
    timeout_overhead:
      setTimer === undefined
        ? noTimer
        : (noAbortController ?? {
            api: `Promise.race(body, setTimeout reject) + clearTimeout, an AbortController the timeout aborts; body ${yieldApi}`,
            run: async (n) => {
              const clear = (globalThis as { clearTimeout: (handle: unknown) => void }).clearTimeout;
              let completed = 0;
              const body = async (signal: AbortSignal): Promise<number> => {
                await pause();
                if (signal.aborted) throw signal.reason;
                return 1;
              };
              for (let i = 0; i < n; i++) {
                const controller = new AbortController();
                let timer: unknown;
                const timeout = new Promise<never>((_, reject) => {
                  timer = setTimer(() => {
                    controller.abort();
                    reject(new Error("timed out"));
                  }, 1000);
                });
                try {
                  completed += await Promise.race([body(controller.signal), timeout]);
                } finally {
                  clear(timer);
                }
              }
              return completed;
            },
          }),
    cancel_1m:
      setTimer === undefined
        ? noTimer
        : {
            // One AbortSignal with n listeners would be quadratic here (Node's EventTarget walks its
            // listener list on every add), so the sleepers register with a plain list of cancel callbacks.
            api: "n async fns each awaiting setTimeout(1 h) in try/finally (the rejection propagates to the group), registered in a hand-rolled cancel list; cancelling calls each",
            run: async (n) => {
              const clear = (globalThis as { clearTimeout: (handle: unknown) => void }).clearTimeout;
              const cancels: (() => void)[] = [];
              const group = counterGroup(n);
              let cleaned = 0;
              let asleep = 0;
              const cancelled = new Error("cancelled");
              const sleepCancellably = (ms: number): Promise<void> =>
                new Promise<void>((resolve, reject) => {
                  const timer = setTimer(resolve, ms);
                  cancels.push(() => {
                    clear(timer);
                    reject(cancelled);
                  });
                });
              // As weft's sleeper: try/finally, the cancellation propagates out of the function, and the
              // group hears each one end (a catch here would spare the await side the rethrow weft pays).
              const sleeper = async (): Promise<void> => {
                asleep++;
                try {
                  await sleepCancellably(3_600_000);
                } finally {
                  cleaned++;
                }
              };
              const ended = (error: unknown): void => {
                if (error !== cancelled) throw error;
                group.finish();
              };
              for (let i = 0; i < n; i++) sleeper().then(group.finish, ended);
              check("cancel_1m sleepers parked", asleep, n);
              for (const cancel of cancels) cancel();
              await group.done;
              return cleaned;
            },
          },
  };
}

/** `await-microtask`: the yield is `await null`. */
export function microtaskPeer(): PeerWorkloads {
  return workloads(() => null, "await null");
}

interface MacrotaskGlobals {
  setImmediate?: (callback: () => void) => unknown;
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null }; port2: { postMessage(message: unknown): void } };
}

/** `await-immediate`: the yield is a macrotask turn, the cheapest the host has. */
export function macrotaskPeer(): PeerWorkloads {
  const g = globalThis as MacrotaskGlobals;
  const setImmediate = g.setImmediate;
  if (typeof setImmediate === "function") {
    return workloads(() => new Promise<void>((resolve) => setImmediate(resolve)), "await new Promise(r => setImmediate(r))");
  }
  const Channel = g.MessageChannel;
  if (typeof Channel === "function") {
    // One channel; each message wakes the oldest waiter, so yields stay FIFO.
    const channel = new Channel();
    let waiting: (() => void)[] = [];
    let head = 0;
    channel.port1.onmessage = () => {
      const resolve = waiting[head++]!;
      if (head === waiting.length) {
        waiting = [];
        head = 0;
      }
      resolve();
    };
    const pause = (): Promise<void> =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(null);
      });
    return workloads(pause, "await a MessageChannel message (no setImmediate)");
  }
  const reason = "the host has no macrotask source (no setImmediate, no MessageChannel)";
  const out: PeerWorkloads = {};
  for (const name of Object.keys(workloads(() => null, ""))) out[name] = { unavailable: reason };
  return out;
}
