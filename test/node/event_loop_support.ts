/**
 * Shared by the event-loop driver's tests: tasks woken from `setImmediate`
 * callbacks queued in host turns, and the order in which callbacks and
 * tasks ran.
 */
import { action, run, withTaskGroup, type Operation } from "../../src/index.ts";

/**
 * Parks the task until it is resumed by a macrotask drain, which has just
 * given the allowance back in full (the task is the only one it finds
 * ready), whatever earlier host activity left of it. Each try wakes the task
 * from one `setImmediate` callback and looks, on resuming, whether the
 * callback queued after that one has run: if not, the task ran right after
 * its callback and spent a unit of the allowance, so it tries again (at most
 * eight times); if so, it was batched into the macrotask.
 */
export function* resumeInMacrotask(): Operation<void> {
  for (;;) {
    let nextCallbackRan = false;
    yield* action<void>((resolve) => {
      setImmediate(() => resolve());
      setImmediate(() => {
        nextCallbackRan = true;
      });
    });
    if (nextCallbackRan) return;
  }
}

/**
 * Runs one task per callback in `turns` (how many callbacks each host turn
 * has), each parked until woken from outside weft; once all are parked, from
 * a macrotask drain (so the whole allowance is there, see
 * {@link resumeInMacrotask}), queues the turns' `setImmediate` callbacks, each
 * waking its task. Returns the order in
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
      // Every child parks meanwhile.
      yield* resumeInMacrotask();
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
