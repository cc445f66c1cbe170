/**
 * The fairness section of `npm run bench` (Node only): the workload of
 * `workload.ts` in fresh processes, the light client alone and next to the
 * flooder with the cooperative budget on and off, the three interleaved so
 * that load on a shared machine falls on all of them. Each row gives the
 * medians over its processes. `node dist/bench/fairness/run.js [--quick]`
 * prints the table alone.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FairnessMode, FairnessResult } from "./workload.ts";

/** Processes per configuration and how long each measures (the first quarter, at most 500 ms, is warm-up). */
export const FAIRNESS_SIZES = { full: { processes: 3, durationMs: 3000 }, quick: { processes: 1, durationMs: 1000 } } as const;

const MODES: readonly FairnessMode[] = ["alone", "on", "off"];

/** Every process's result, by configuration. */
export type FairnessReport = Record<FairnessMode, FairnessResult[]>;

const WORKLOAD = join(dirname(fileURLToPath(import.meta.url)), "workload.js");

/** One configuration in a fresh process. */
function runProcess(mode: FairnessMode, durationMs: number): FairnessResult {
  const child = spawnSync(process.execPath, [WORKLOAD, mode, String(durationMs)], { encoding: "utf8", timeout: durationMs + 60_000 });
  const line = child.stdout?.split("\n").find((l) => l.startsWith("FAIRNESS "));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`the ${mode} process failed: ${(child.stderr || String(child.error ?? child.status)).trim().split("\n")[0]}`);
  }
  return JSON.parse(line.slice("FAIRNESS ".length)) as FairnessResult;
}

/** Runs the three configurations `processes` times each, interleaved. */
export function fairnessBench(size: { processes: number; durationMs: number }): FairnessReport {
  const report: FairnessReport = { alone: [], on: [], off: [] };
  for (let p = 0; p < size.processes; p++) for (const mode of MODES) report[mode].push(runProcess(mode, size.durationMs));
  return report;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The table's columns. */
export const FAIRNESS_HEADER = ["configuration", "light p50", "light p90", "light p99", "light max", "pings", "flooder lines/s"];

const LABELS: Record<FairnessMode, string> = {
  alone: "light client alone",
  on: "next to the flooder, budget on",
  off: "next to the flooder, budget off",
};

/** One row per configuration: medians over its processes (max: the largest). */
export function fairnessRows(report: FairnessReport): string[][] {
  const us = (n: number): string => `${Math.round(n).toLocaleString("en-US")} µs`;
  return MODES.map((mode) => {
    const runs = report[mode];
    const m = (pick: (r: FairnessResult) => number): number => median(runs.map(pick));
    return [
      LABELS[mode],
      us(m((r) => r.p50Us)),
      us(m((r) => r.p90Us)),
      us(m((r) => r.p99Us)),
      us(Math.max(...runs.map((r) => r.maxUs))),
      Math.round(m((r) => r.roundTrips)).toLocaleString("en-US"),
      mode === "alone" ? "" : Math.round(m((r) => r.floodLinesPerSecond)).toLocaleString("en-US"),
    ];
  });
}

// Run as a program (not imported by the report's tests).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const rows = fairnessRows(fairnessBench(FAIRNESS_SIZES[process.argv.includes("--quick") ? "quick" : "full"]));
  console.log(`| ${FAIRNESS_HEADER.join(" | ")} |`);
  console.log(`|${FAIRNESS_HEADER.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}
