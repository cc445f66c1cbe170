/**
 * What a task parked in `sleep` costs in heap (Node only: it forces garbage
 * collections through V8's flag). The figure is deterministic for a given V8:
 * the same objects are allocated whatever the host's speed.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { pause, run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap bytes after full collections, typed-array backing stores included. */
function heapBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

let started = 0;
let cleaned = 0;

// One shared body: the figure is weft's cost per task, not a closure's.
function* sleeper(): Operation<void> {
  started++;
  try {
    yield* sleep(1e9);
  } finally {
    cleaned++;
  }
}

/** Bytes per task while `n` tasks of one group are parked in sleep(1e9). */
async function bytesPerSleepingTask(n: number): Promise<number> {
  started = cleaned = 0;
  let grown = 0;
  const baseline = heapBytes();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < n; i++) group.startSoon(sleeper);
      while (started < n) yield* pause();
      grown = heapBytes() - baseline;
      group.returnImmediately(undefined);
    });
  });
  assert.equal(cleaned, n, "every finally ran");
  return grown / n;
}

test("a task parked in sleep in a task group costs at most 310 bytes of heap", { timeout: 120_000 }, async () => {
  // Warm up first: the ready ring and the timer heap grow to hold n tasks once
  // and keep that room, so the second run measures the tasks alone...
  await bytesPerSleepingTask(100_000);
  const perTask = await bytesPerSleepingTask(100_000);
  // ...which are, per task: the coroutine record (96 B on 64-bit V8), the
  // body's generator and its register file (about 184 B) and the timer heap's
  // slot (24 B). A sleep used to add an entry object of 56 B.
  assert.ok(perTask <= 310, `${perTask.toFixed(1)} B per sleeping task`);
});
