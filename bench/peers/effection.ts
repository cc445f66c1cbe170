/**
 * Effection 4 (pinned 4.1.1), through its public API only. Its cheapest
 * yield that lets other tasks run is an action that resolves at once: the
 * routine goes to the back of Effection's run queue (`sleep(0)` would cost a
 * host timer per yield). Effection has no bounded queue, semaphore or
 * condition variable, so those are built from its own `createQueue` and
 * `withResolvers`, as an Effection user would; the API strings say so.
 */
import { action, createQueue, race, run, scoped, sleep, spawn, withResolvers, type Operation, type Task } from "effection";
import { check, hostSetTimeout, type PeerWorkloads } from "../peer.ts";

/** One shared operation: actions are re-evaluated each time they are yielded to. */
const YIELD: Operation<void> = action<void>((resolve) => {
  resolve();
  return () => {};
});
const YIELD_API = "action(resolve ⇒ resolve())";

function* spawnAll(n: number, body: () => Operation<void>): Operation<void> {
  const tasks: Task<void>[] = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = yield* spawn(body);
  for (let i = 0; i < n; i++) yield* tasks[i]!;
}

/** A bounded queue: items in one `createQueue`, free slots as tokens in another. */
class BoundedQueue<T> {
  private readonly items = createQueue<T, never>();
  private readonly slots = createQueue<void, never>();
  constructor(capacity: number) {
    for (let i = 0; i < capacity; i++) this.slots.add();
  }
  *put(value: T): Operation<void> {
    yield* this.slots.next();
    this.items.add(value);
  }
  *get(): Operation<T> {
    const next = yield* this.items.next();
    this.slots.add();
    if (next.done === true) throw new Error("queue closed");
    return next.value;
  }
}

/** A semaphore: permits as tokens in a `createQueue`. */
class TokenSemaphore {
  private readonly tokens = createQueue<void, never>();
  constructor(permits: number) {
    for (let i = 0; i < permits; i++) this.tokens.add();
  }
  *acquire(): Operation<void> {
    yield* this.tokens.next();
  }
  release(): void {
    this.tokens.add();
  }
}

/** A condition variable: one `withResolvers()` per wait, signalled in FIFO order. */
class ResolverCondVar {
  private readonly waiters: (() => void)[] = [];
  *wait(): Operation<void> {
    const { operation, resolve } = withResolvers<void>();
    this.waiters.push(() => resolve());
    yield* operation;
  }
  signal(): void {
    this.waiters.shift()?.();
  }
}

export function effectionPeer(): PeerWorkloads {
  const go = <T>(body: () => Operation<T>): Promise<T> => Promise.resolve(run(body));
  const timerBurst = (ms: number): PeerWorkloads[string] =>
    hostSetTimeout() === undefined
      ? { unavailable: "Effection's sleep needs setTimeout, which the host lacks" }
      : {
          api: `sleep(${ms}), spawn + yield* task`,
          run: (n) =>
            go(function* () {
              let fired = 0;
              yield* spawnAll(n, function* () {
                yield* sleep(ms);
                fired++;
              });
              return fired;
            }),
        };
  const queueThroughput = (capacity: number): PeerWorkloads[string] => ({
    api: `bounded queue cap ${capacity} from 2 createQueue (items + slot tokens), spawn`,
    run: (n) =>
      go(function* () {
        const q = new BoundedQueue<number>(capacity);
        let received = 0;
        const producer = yield* spawn(function* () {
          for (let i = 0; i < n; i++) yield* q.put(i);
        });
        for (let i = 0; i < n; i++) {
          const item = yield* q.get();
          if (item !== received) throw new Error(`aqueue: got ${item}, expected ${received}`);
          received++;
        }
        yield* producer;
        return received;
      }),
  });
  return {
    pause_loop: {
      api: YIELD_API,
      run: (n) =>
        go(function* () {
          let count = 0;
          for (let i = 0; i < n; i++) {
            yield* YIELD;
            count++;
          }
          return count;
        }),
    },
    pause_pingpong: {
      api: `${YIELD_API}, 2 spawned tasks`,
      run: (n) =>
        go(function* () {
          let turns = 0;
          let last = -1;
          let alternations = 0;
          const player = (who: number) =>
            function* (): Operation<void> {
              for (let i = 0; i < n / 2; i++) {
                if (last !== who) alternations++;
                last = who;
                turns++;
                yield* YIELD;
              }
            };
          const a = yield* spawn(player(0));
          const b = yield* spawn(player(1));
          yield* a;
          yield* b;
          check("pause_pingpong alternations", alternations, n);
          return turns;
        }),
    },
    spawn_wait: {
      api: `spawn + ${YIELD_API}, yield* task for each`,
      run: (n) =>
        go(function* () {
          let finished = 0;
          yield* spawnAll(n, function* () {
            yield* YIELD;
            finished++;
          });
          return finished;
        }),
    },
    aqueue_cap1: queueThroughput(1),
    aqueue_cap64: queueThroughput(64),
    semaphore_throughput: {
      api: `semaphore from createQueue (permit tokens), ${YIELD_API} while holding`,
      run: (n) =>
        go(function* () {
          const lock = new TokenSemaphore(1);
          let acquisitions = 0;
          let inside = 0;
          const worker = function* (): Operation<void> {
            for (let i = 0; i < n / 2; i++) {
              yield* lock.acquire();
              if (++inside !== 1) throw new Error("semaphore: two holders");
              acquisitions++;
              yield* YIELD;
              inside--;
              lock.release();
            }
          };
          const a = yield* spawn(worker);
          const b = yield* spawn(worker);
          yield* a;
          yield* b;
          return acquisitions;
        }),
    },
    cond_var_signal: {
      api: `condvar from withResolvers() per wait, ${YIELD_API} before each signal`,
      run: (n) =>
        go(function* () {
          const changed = new ResolverCondVar();
          let produced = 0;
          let consumed = 0;
          const producer = yield* spawn(function* () {
            for (let i = 0; i < n; i++) {
              yield* YIELD;
              produced++;
              changed.signal();
            }
          });
          while (consumed < n) {
            while (consumed === produced) yield* changed.wait();
            consumed = produced;
          }
          yield* producer;
          return consumed;
        }),
    },
    timer_burst_sleep0: timerBurst(0),
    timer_burst_sleep1: timerBurst(1),
    group_overhead: {
      api: `scoped(body), body ${YIELD_API}`,
      run: (n) =>
        go(function* () {
          let entered = 0;
          const body = function* (): Operation<void> {
            entered++;
            yield* YIELD;
          };
          for (let i = 0; i < n; i++) yield* scoped(body);
          return entered;
        }),
    },
    timeout_overhead:
      hostSetTimeout() === undefined
        ? { unavailable: "Effection's sleep needs setTimeout, which the host lacks" }
        : {
            api: `race([body, sleep(1000)]) (Effection 4 has no timeout of its own), body ${YIELD_API}`,
            run: (n) =>
              go(function* () {
                let completed = 0;
                const body = function* (): Operation<number> {
                  yield* YIELD;
                  return 1;
                };
                const timeout = function* (): Operation<number> {
                  yield* sleep(1000);
                  return 0;
                };
                for (let i = 0; i < n; i++) completed += yield* race([body(), timeout()]);
                return completed;
              }),
          },
    cancel_1m:
      hostSetTimeout() === undefined
        ? { unavailable: "Effection's sleep needs setTimeout, which the host lacks" }
        : {
            api: "spawn n tasks each in sleep(1 h) with try/finally, then halt their parent task",
            run: (n) =>
              go(function* () {
                let cleaned = 0;
                let asleep = 0;
                const sleeper = function* (): Operation<void> {
                  asleep++;
                  try {
                    yield* sleep(3_600_000);
                  } finally {
                    cleaned++;
                  }
                };
                const parent = yield* spawn(function* () {
                  for (let i = 0; i < n; i++) void (yield* spawn(sleeper)); // the parent's halt ends them
                  yield* sleep(3_600_000);
                });
                // A resolved action does not let the spawned tasks start; a host turn does.
                while (asleep < n) yield* sleep(0);
                yield* parent.halt();
                return cleaned;
              }),
          },
  };
}
