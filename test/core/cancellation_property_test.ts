/**
 * The cancellation property: random task trees (groups, timeouts, retry,
 * all/any, Task.wait, sibling and outside cancellation, returnImmediately)
 * around every Queue kind, Semaphore, Mutex, CondVar, Lazy and a fake IO
 * action completed by a host callback. Nothing put is lost or duplicated,
 * permits are conserved, every finally runs once, no task outlives its group,
 * and a composite whose body returned returns that value. The invariants are
 * in `cancellation_model.ts`; they hold whatever the host's stalls, so the
 * real-clock runs assert no ordering.
 *
 * WEFT_PROPERTY_RUNS=<n> runs n trees per driver instead (a soak run).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import { checkTaskTrees } from "./cancellation_model.ts";

/** The override, where the host has an environment (browsers have none). */
const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];

function runs(defaultRuns: number): number {
  const text = override;
  if (text === undefined || text === "") return defaultRuns;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`WEFT_PROPERTY_RUNS must be an integer >= 1, got ${JSON.stringify(text)}`);
  return n;
}

const soak = override !== undefined && override !== "";
const limit = (ms: number): number => (soak ? 24 * 3_600_000 : ms);

test("cancellation loses nothing, leaks nothing and keeps returned values: random task trees on virtual time", {
  timeout: limit(180_000),
}, async () => {
  await checkTaskTrees({ runs: runs(4000), driver: "virtual time" });
});

test("cancellation loses nothing, leaks nothing and keeps returned values: random task trees on the host pump", {
  timeout: limit(120_000),
}, async () => {
  await checkTaskTrees({ runs: runs(2000), driver: "host pump" });
});

test("cancellation loses nothing, leaks nothing and keeps returned values: random task trees on the event loop's real clock", {
  timeout: limit(180_000),
}, async () => {
  await checkTaskTrees({ runs: runs(500), driver: "event loop" });
});
