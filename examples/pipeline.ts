/**
 * A runnable tour of weft's programming model: generators and `yield*`,
 * a task group whose tasks fail together, cancellation as an error thrown at
 * the suspension point, cleanup in `finally`, and a timeout.
 *
 * Run it with `npm run example`.
 */
import { Cancelled, Semaphore, run, sleep, withTaskGroup, withTimeout, withTimeoutOpt, type Operation } from "../src/index.ts";

/** Pretends to fetch a page: takes `ms`, may fail. */
function* fetchPage(id: number, ms: number): Operation<string> {
  yield* sleep(ms);
  if (id === 13) throw new Error(`page ${id} is unlucky`);
  return `page ${id}`;
}

/** Fetches pages, at most `limit` at a time, and returns them in order. */
function* fetchAll(ids: number[], limit: number): Operation<string[]> {
  const slots = new Semaphore(limit);
  const pages: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    ids.forEach((id, i) => {
      group.startSoon(function* () {
        yield* slots.acquire();
        try {
          pages[i] = yield* fetchPage(id, 10 + (id % 3) * 10);
        } finally {
          slots.release();
        }
      });
    });
  });
  return pages;
}

/** A worker that never ends by itself: cancellation stops it at a `yield*`. */
function* heartbeat(log: string[]): Operation<void> {
  try {
    for (;;) {
      yield* sleep(15);
      log.push("beat");
    }
  } finally {
    log.push("heartbeat stopped"); // runs when the group cancels it
  }
}

const summary = await run(function* () {
  const lines: string[] = [];

  // 1. Concurrency with a limit; results keep their order.
  const pages = yield* fetchAll([1, 2, 3, 4, 5], 2);
  lines.push(`fetched: ${pages.join(", ")}`);

  // 2. One failure cancels the siblings, and the group waits for their cleanup.
  const log: string[] = [];
  try {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => heartbeat(log));
      group.startSoon(function* () {
        yield* fetchPage(13, 40);
      });
    });
  } catch (error) {
    lines.push(`group failed with "${(error as Error).message}" after ${log.join(" / ")}`);
  }

  // 3. Timeouts: an error, or `undefined` with the Opt flavour.
  try {
    yield* withTimeout(20, () => fetchPage(7, 1000));
  } catch (error) {
    lines.push(`withTimeout: ${(error as Error).name}`);
  }
  const maybe = yield* withTimeoutOpt(20, () => fetchPage(8, 1000));
  lines.push(`withTimeoutOpt: ${String(maybe)}`);

  // 4. Cancellation is an error at the suspension point.
  yield* withTaskGroup<void>(function* (group) {
    const task = group.spawn(function* () {
      try {
        yield* sleep(10_000);
      } catch (error) {
        lines.push(`sleeper saw ${error instanceof Cancelled ? "Cancelled" : String(error)}`);
        throw error;
      }
    });
    yield* sleep(5);
    task.cancel();
  });

  return lines.join("\n");
});

console.log(summary);
