/**
 * Deadlines beyond what a host timer can hold (2^31 - 1 ms, about 24.8 days).
 * Node clamps a longer `setTimeout` to 1 ms and warns, so a driver that passed
 * the delay through would re-arm about once per millisecond and print a
 * `TimeoutOverflowWarning` each time. Each case runs in a child Node process
 * whose `setTimeout` is wrapped to count how often it is called.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { startNode, tempDir, writeScript } from "./child.ts";

let dir: { path: string; remove(): void };
before(() => {
  dir = tempDir("weft-long-timer-");
});
after(() => dir.remove());

/**
 * Counts every host `setTimeout` call and every TimeoutOverflowWarning, keeps
 * the tasks asleep until the parent has seen "ready" and let some real time
 * pass, then cancels them and prints the counts.
 */
const LONG_SLEEPERS = `
const counts = { setTimeout: 0, overflow: 0 };
const original = globalThis.setTimeout;
globalThis.setTimeout = function (callback, ms, ...rest) {
  counts.setTimeout++;
  return original.call(this, callback, ms, ...rest);
};
process.on("warning", (warning) => {
  if (warning.name === "TimeoutOverflowWarning") counts.overflow++;
});
const { run, sleep, Timer, withTimeout, withTaskGroup } = await import("@WEFT@");
// Far enough past 2^31 - 1 ms that even a re-arm after some real time is still too long for the host.
const LONG = 2 ** 32;
const controller = new AbortController();
const done = run(function* () {
  yield* withTaskGroup(function* (group) {
    group.spawn(() => sleep(LONG));
    group.spawn(() => new Timer(LONG * 4).wait());
    group.spawn(() => withTimeout(LONG * 1000, () => sleep(LONG * 2)));
  });
}, { signal: controller.signal });
process.stdout.write("ready\\n");
// The parent says when to stop (a line on stdin), after some real time went by.
process.stdin.once("data", () => {
  process.stdin.destroy();
  controller.abort();
});
await done.catch(() => {});
process.stdout.write(JSON.stringify(counts) + "\\n");
`;

test("sleep, Timer and withTimeout far beyond 2^31-1 ms arm few host timers and print no TimeoutOverflowWarning", {
  timeout: 60_000,
}, async () => {
  const child = startNode(writeScript(dir.path, "long", LONG_SLEEPERS));
  await child.line("ready");
  // Real time for a clamped timer to fire many times; the fixed driver must not care how long this is.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.child.stdin!.write("stop\n");
  const done = await child.done;
  assert.equal(done.code, 0, done.stderr);
  const counts = JSON.parse(done.stdout.trim().split("\n").at(-1)!) as { setTimeout: number; overflow: number };
  // One arm per deadline change, a few at most; a clamped 1 ms timer gives hundreds in 300 ms.
  assert.ok(counts.setTimeout <= 10, `host setTimeout was called ${counts.setTimeout} times`);
  assert.equal(counts.overflow, 0, "TimeoutOverflowWarnings");
  assert.ok(!done.stderr.includes("TimeoutOverflowWarning"), "a TimeoutOverflowWarning was printed");
});
