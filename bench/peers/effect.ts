/**
 * Effect 4 (pinned 4.1.0), through its public API only, on its default
 * runtime (`Effect.runPromise`, the default `MixedScheduler`). Its cheapest
 * yield is `Effect.yieldNow`, which puts the fiber on the scheduler's queue;
 * the queue is flushed on a macrotask (setImmediate, else setTimeout(0), else
 * a microtask). Effect has no condition variable: a closed `Latch` whose
 * `release` wakes the waiting fibers without opening is the nearest, a
 * broadcast (one waiter here).
 */
import { Effect, Fiber, Latch, Queue, Semaphore } from "effect";
import { check, hostSetTimeout, type PeerWorkloads } from "../peer.ts";

type Eff<A> = Effect.Effect<A>;

function spawnAll(n: number, child: Eff<void>): Eff<void> {
  return Effect.gen(function* () {
    const fibers: Fiber.Fiber<void>[] = new Array(n);
    for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(child);
    for (let i = 0; i < n; i++) yield* Fiber.join(fibers[i]!);
  });
}

/** How the default scheduler flushes its queue on this host (what one yieldNow costs). */
function schedulerFlush(): string {
  const g = globalThis as { setImmediate?: unknown };
  if (typeof g.setImmediate === "function") return "setImmediate";
  if (hostSetTimeout() !== undefined) return "setTimeout(0)";
  return "a microtask (no host timer)";
}

export function effectPeer(): PeerWorkloads {
  const go = (effect: Eff<number>): Promise<number> => Effect.runPromise(effect);
  const yieldApi = `Effect.yieldNow (scheduler flushes on ${schedulerFlush()})`;
  const timerBurst = (ms: number): PeerWorkloads[string] =>
    hostSetTimeout() === undefined
      ? { unavailable: "Effect.sleep needs setTimeout, which the host lacks" }
      : {
          api: `Effect.sleep(${ms}), forkChild + Fiber.join`,
          run: (n) =>
            go(
              Effect.gen(function* () {
                let fired = 0;
                yield* spawnAll(
                  n,
                  Effect.gen(function* () {
                    yield* Effect.sleep(ms);
                    fired++;
                  }),
                );
                return fired;
              }),
            ),
        };
  const queueThroughput = (capacity: number): PeerWorkloads[string] => ({
    api: `Queue.bounded(${capacity}), Queue.offer/Queue.take, forkChild`,
    run: (n) =>
      go(
        Effect.gen(function* () {
          const q = yield* Queue.bounded<number>(capacity);
          let received = 0;
          const producer = yield* Effect.forkChild(
            Effect.gen(function* () {
              for (let i = 0; i < n; i++) yield* Queue.offer(q, i);
            }),
          );
          for (let i = 0; i < n; i++) {
            const item = yield* Queue.take(q);
            if (item !== received) throw new Error(`aqueue: got ${item}, expected ${received}`);
            received++;
          }
          yield* Fiber.join(producer);
          return received;
        }),
      ),
  });
  return {
    pause_loop: {
      api: yieldApi,
      run: (n) =>
        go(
          Effect.gen(function* () {
            let count = 0;
            for (let i = 0; i < n; i++) {
              yield* Effect.yieldNow;
              count++;
            }
            return count;
          }),
        ),
    },
    pause_pingpong: {
      api: `${yieldApi}, 2 fibers (forkChild + Fiber.join)`,
      run: (n) =>
        go(
          Effect.gen(function* () {
            let turns = 0;
            let last = -1;
            let alternations = 0;
            const player = (who: number): Eff<void> =>
              Effect.gen(function* () {
                for (let i = 0; i < n / 2; i++) {
                  if (last !== who) alternations++;
                  last = who;
                  turns++;
                  yield* Effect.yieldNow;
                }
              });
            const a = yield* Effect.forkChild(player(0));
            const b = yield* Effect.forkChild(player(1));
            yield* Fiber.join(a);
            yield* Fiber.join(b);
            check("pause_pingpong alternations", alternations, n);
            return turns;
          }),
        ),
    },
    spawn_wait: {
      api: "Effect.forkChild + Effect.yieldNow, Fiber.join each",
      run: (n) =>
        go(
          Effect.gen(function* () {
            let finished = 0;
            yield* spawnAll(
              n,
              Effect.gen(function* () {
                yield* Effect.yieldNow;
                finished++;
              }),
            );
            return finished;
          }),
        ),
    },
    aqueue_cap1: queueThroughput(1),
    aqueue_cap64: queueThroughput(64),
    semaphore_throughput: {
      api: `Semaphore.make(1), Semaphore.take/release, ${yieldApi} while holding`,
      run: (n) =>
        go(
          Effect.gen(function* () {
            const lock = yield* Semaphore.make(1);
            let acquisitions = 0;
            let inside = 0;
            const worker = Effect.gen(function* () {
              for (let i = 0; i < n / 2; i++) {
                yield* Semaphore.take(lock, 1);
                if (++inside !== 1) throw new Error("semaphore: two holders");
                acquisitions++;
                yield* Effect.yieldNow;
                inside--;
                yield* Semaphore.release(lock, 1);
              }
            });
            const a = yield* Effect.forkChild(worker);
            const b = yield* Effect.forkChild(worker);
            yield* Fiber.join(a);
            yield* Fiber.join(b);
            return acquisitions;
          }),
        ),
    },
    cond_var_signal: {
      api: `closed Latch: await / release (a broadcast), ${yieldApi} before each signal`,
      run: (n) =>
        go(
          Effect.gen(function* () {
            const changed = yield* Latch.make(false);
            let produced = 0;
            let consumed = 0;
            const producer = yield* Effect.forkChild(
              Effect.gen(function* () {
                for (let i = 0; i < n; i++) {
                  yield* Effect.yieldNow;
                  produced++;
                  yield* changed.release;
                }
              }),
            );
            while (consumed < n) {
              while (consumed === produced) yield* changed.await;
              consumed = produced;
            }
            yield* Fiber.join(producer);
            return consumed;
          }),
        ),
    },
    timer_burst_sleep0: timerBurst(0),
    timer_burst_sleep1: timerBurst(1),
    group_overhead: {
      api: `Effect.scoped(body), body ${yieldApi}`,
      run: (n) =>
        go(
          Effect.gen(function* () {
            let entered = 0;
            const body = Effect.scoped(
              Effect.gen(function* () {
                entered++;
                yield* Effect.yieldNow;
              }),
            );
            for (let i = 0; i < n; i++) yield* body;
            return entered;
          }),
        ),
    },
    timeout_overhead:
      hostSetTimeout() === undefined
        ? { unavailable: "Effect's timeouts need setTimeout, which the host lacks" }
        : {
            api: `Effect.timeoutOption(body, "1 second"), body ${yieldApi}`,
            run: (n) =>
              go(
                Effect.gen(function* () {
                  let completed = 0;
                  const body = Effect.timeoutOption(
                    Effect.gen(function* () {
                      yield* Effect.yieldNow;
                      return 1;
                    }),
                    "1 second",
                  );
                  for (let i = 0; i < n; i++) {
                    const outcome = yield* body;
                    if (outcome._tag === "Some") completed += outcome.value;
                  }
                  return completed;
                }),
              ),
          },
    cancel_1m:
      hostSetTimeout() === undefined
        ? { unavailable: "Effect.sleep needs setTimeout, which the host lacks" }
        : {
            api: 'forkChild n fibers in Effect.sleep("1 hour") with ensuring, then Fiber.interruptAll',
            run: (n) =>
              go(
                Effect.gen(function* () {
                  let cleaned = 0;
                  let asleep = 0;
                  const sleeper = Effect.ensuring(
                    Effect.gen(function* () {
                      asleep++;
                      yield* Effect.sleep("1 hour");
                    }),
                    Effect.sync(() => {
                      cleaned++;
                    }),
                  );
                  const fibers: Fiber.Fiber<void>[] = new Array(n);
                  for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(sleeper);
                  while (asleep < n) yield* Effect.yieldNow;
                  yield* Fiber.interruptAll(fibers);
                  return cleaned;
                }),
              ),
          },
  };
}
