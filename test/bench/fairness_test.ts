/**
 * The fairness section of the bench (bench/fairness/): a short run of each
 * configuration in this process measures something and checks its echoes,
 * the budget is left on afterwards, and the rows say what the report shows.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { fairnessRun, type FairnessResult } from "../../bench/fairness/workload.ts";
import { FAIRNESS_HEADER, fairnessRows } from "../../bench/fairness/run.ts";
import { budgetEnabled } from "../../src/core/budget.ts";

test("each configuration answers pings, the flooder floods only next to the light client, and the budget is back on", {
  timeout: 60_000,
}, async () => {
  for (const mode of ["alone", "on", "off"] as const) {
    const result = await fairnessRun(mode, 400, 100);
    assert.equal(result.mode, mode);
    assert.ok(result.roundTrips > 0, `${mode}: no ping was answered`);
    assert.ok(result.p50Us <= result.p90Us && result.p90Us <= result.p99Us && result.p99Us <= result.maxUs);
    if (mode === "alone") assert.equal(result.floodLinesPerSecond, 0);
    else assert.ok(result.floodLinesPerSecond > 0, `${mode}: the flooder published nothing`);
    assert.equal(budgetEnabled(), true);
  }
});

test("the fairness rows: one per configuration, medians over the processes, the largest max", { timeout: 10_000 }, () => {
  const r = (mode: FairnessResult["mode"], p99Us: number, maxUs: number): FairnessResult => ({
    mode,
    roundTrips: 1000,
    p50Us: 5,
    p90Us: 10,
    p99Us,
    maxUs,
    floodLinesPerSecond: mode === "alone" ? 0 : 2_000_000,
  });
  const rows = fairnessRows({
    alone: [r("alone", 20, 100)],
    on: [r("on", 50, 300), r("on", 70, 900), r("on", 60, 400)],
    off: [r("off", 4000, 5000), r("off", 3000, 6000), r("off", 3500, 5500)],
  });
  assert.deepEqual(
    rows.map((row) => row.length),
    [FAIRNESS_HEADER.length, FAIRNESS_HEADER.length, FAIRNESS_HEADER.length],
  );
  assert.deepEqual(rows[0], ["light client alone", "5 µs", "10 µs", "20 µs", "100 µs", "1,000", ""]);
  assert.deepEqual(rows[1], ["next to the flooder, budget on", "5 µs", "10 µs", "60 µs", "900 µs", "1,000", "2,000,000"]);
  assert.deepEqual(rows[2], ["next to the flooder, budget off", "5 µs", "10 µs", "3,500 µs", "6,000 µs", "1,000", "2,000,000"]);
});
