/**
 * The memory section of `npm run bench` (Node only), in a fresh process run
 * with `--expose-gc`: `memory_probe.js <tasks>`. Parks `tasks` tasks of one
 * group in `sleep`, reports the heap they hold per task, then cancels them all
 * at once and reports how long that took until every `finally` had run.
 * Prints one line, `MEMORY <MemoryResult as JSON>`.
 *
 * Heap bytes are deterministic for a given V8 (the same objects whatever the
 * machine's speed); the times are not, and are quoted with the run's load.
 */
import { pause, run, sleep, withTaskGroup, type Operation } from "../src/index.ts";
import type { MemoryResult } from "./results.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("memory_probe: run with node --expose-gc");
const collect: () => void = gc;

const tasks = Number(process.argv[2]);
if (!Number.isInteger(tasks) || tasks < 1) throw new RangeError(`memory_probe: tasks must be a positive integer, got ${process.argv[2]}`);

/** Heap bytes after full collections, typed-array backing stores included. */
function heapBytes(): number {
  collect();
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

let started = 0;
let cleaned = 0;

// One shared body: the figure is weft's cost per task, not a closure's.
function* sleeper(): Operation<void> {
  started++;
  try {
    yield* sleep(3_600_000);
  } finally {
    cleaned++;
  }
}

async function measure(n: number): Promise<MemoryResult> {
  started = cleaned = 0;
  let bytesPerTask = 0;
  let spawnMs = 0;
  let cancelStart = 0;
  const baseline = heapBytes();
  const spawnStart = performance.now();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < n; i++) group.startSoon(sleeper);
      while (started < n) yield* pause();
      spawnMs = performance.now() - spawnStart;
      bytesPerTask = (heapBytes() - baseline) / n;
      cancelStart = performance.now();
      group.returnImmediately(undefined);
    });
  });
  const cancelMs = performance.now() - cancelStart;
  if (cleaned !== n) throw new Error(`memory_probe: ${cleaned} of ${n} finally blocks ran`);
  return { tasks: n, bytesPerTask, spawnMs, cancelMs };
}

// The first run grows the ready ring and the timer heap to hold n tasks, and they keep that room:
// the second run measures the tasks alone.
await measure(tasks);
console.log(`MEMORY ${JSON.stringify(await measure(tasks))}`);
