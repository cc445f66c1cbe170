/**
 * Shared by the event-loop driver's tests: tasks woken from `setImmediate`
 * callbacks queued in host turns, and the order in which callbacks and
 * tasks ran.
 */
import { action, run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";

/**
 * Runs one task per callback in `turns` (how many callbacks each host turn
 * has), each parked until woken from outside weft; once all are parked and a
 * host timer's drain has run (a macrotask, which gives the allowance back),
 * queues the turns' `setImmediate` callbacks, each waking its task. Returns the order in
 * which callbacks ("cN") and tasks ("tN") ran.
 */
export async function wakeFromCallbacks(turns: readonly number[]): Promise<string[]> {
  const order: string[] = [];
  const count = turns.reduce((a, b) => a + b, 0);
  const wakers: Array<() => void> = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 1; i <= count; i++) {
        group.startSoon(function* (): Operation<void> {
          yield* action<void>((resolve) => {
            wakers[i] = () => resolve();
          });
          order.push(`t${i}`);
        });
      }
      // Every child parks, and the drain that resumes this body after the timer is a macrotask drain.
      yield* sleep(1);
      let next = 1;
      const queueTurn = (turn: number): void => {
        const n = turns[turn];
        if (n === undefined) return;
        for (let k = 0; k < n; k++) {
          const i = next++;
          setImmediate(() => {
            order.push(`c${i}`);
            wakers[i]!();
            // The next turn's callbacks are queued from this turn's last one: they run in the next check phase.
            if (k === n - 1) queueTurn(turn + 1);
          });
        }
      };
      queueTurn(0);
    });
  });
  return order;
}
