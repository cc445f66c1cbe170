/**
 * The ws_echo benchmark (Node only): `node dist/bench/ws/run.js [--quick]`
 * prints a Markdown report. 32-byte binary messages in strict ping-pong over
 * 1 and 64 connections, the weft echo server (`listenHttp` +
 * `acceptWebSocket`) against the `ws` package's server, and an echo written
 * by hand on raw `node:net` callbacks as the floor of what any server on
 * Node's sockets costs; the same `ws` client drives all three (see
 * echo_load.ts). Each row is the median of `runs` timed runs, each on a
 * fresh server process after a warm-up; the servers' runs are interleaved
 * (see {@link runOrder}), so load on a shared machine falls on all of them.
 * Compare the ratios, not absolute numbers across invocations.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { echoLoad, type EchoLoadResult, MESSAGE_SIZE } from "./echo_load.ts";
import type { EchoServerKind } from "./echo_server.ts";

/** What a run of the benchmark measured: per server and connection count, every timed run. */
export interface WsBenchReport {
  rows: Array<{ kind: EchoServerKind; connections: number; runs: EchoLoadResult[] }>;
}

/** Round trips per connection in a timed run, for a total of about `messages` round trips. */
function perClient(messages: number, connections: number): number {
  return Math.max(1, Math.round(messages / connections));
}

/** One timed run against a fresh server of `kind` (what {@link echoLoad} does; a test may stand in for it). */
export type EchoRun = (
  kind: EchoServerKind,
  options: { connections: number; perClient: number; warmup: number },
) => Promise<EchoLoadResult>;

/** The servers the benchmark compares, in the order of its rows. */
export const ECHO_SERVER_KINDS: readonly EchoServerKind[] = ["weft", "ws", "raw"];

/**
 * The order of the servers' runs in round `run`: even rounds rotate `kinds`
 * by one more place each time, and each odd round runs the round before it
 * backwards (weft ws raw, raw ws weft, ws raw weft, weft raw ws, ...). Load
 * that drifts steadily over a pair of rounds then falls on every server
 * alike, and no server is always first or last.
 */
export function runOrder(kinds: readonly EchoServerKind[], run: number): EchoServerKind[] {
  const shift = (run >> 1) % kinds.length;
  const order = [...kinds.slice(shift), ...kinds.slice(0, shift)];
  return run % 2 === 0 ? order : order.reverse();
}

/**
 * The benchmark; `messages` round trips in all per timed run, for each of
 * `kinds` (all three unless told). The servers' runs are interleaved, one
 * of each per round, in the order {@link runOrder} gives: whatever the
 * machine does between runs falls on all alike rather than always on the one
 * that runs last.
 */
export async function wsBench(
  options: { messages: number; runs: number; connections?: readonly number[]; kinds?: readonly EchoServerKind[] },
  load: EchoRun = echoLoad,
): Promise<WsBenchReport> {
  const kinds = options.kinds ?? ECHO_SERVER_KINDS;
  const report: WsBenchReport = { rows: [] };
  for (const connections of options.connections ?? [1, 64]) {
    const rows = new Map<EchoServerKind, EchoLoadResult[]>(kinds.map((kind) => [kind, []]));
    for (let run = 0; run < options.runs; run++) {
      for (const kind of runOrder(kinds, run)) {
        const count = perClient(options.messages, connections);
        rows.get(kind)!.push(await load(kind, { connections, perClient: count, warmup: Math.max(1, Math.round(count / 10)) }));
      }
    }
    for (const kind of kinds) report.rows.push({ kind, connections, runs: rows.get(kind)! });
  }
  return report;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The size of a full run and of a `--quick` one: round trips per timed run, and timed runs per row. */
export const WS_BENCH_SIZES = { full: { messages: 100_000, runs: 8 }, quick: { messages: 20_000, runs: 4 } } as const;

/**
 * A server's rate over ws's in each pair of runs made in the same round (the
 * i-th of each row): the median and the range. Load on a shared machine
 * drifts over minutes, and a pair shares it, so the spread of these says how
 * far the machine moved the ratio while the benchmark ran.
 */
function pairRatios(runs: readonly EchoLoadResult[], ws: readonly EchoLoadResult[]): string {
  const ratios = runs.slice(0, ws.length).map((run, i) => run.messagesPerSecond / ws[i]!.messagesPerSecond);
  if (ratios.length === 0) return "";
  return `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

/** How each server is named in the report. */
const SERVER_LABELS: Record<EchoServerKind, string> = {
  weft: "weft (listenHttp + acceptWebSocket)",
  ws: "ws WebSocketServer",
  raw: "raw node:net callbacks (no library)",
};

/**
 * One table row per server and connection count: the server, connections,
 * messages/s (median), its median messages/s over ws's, its rate over ws's
 * per pair of runs (median and range), server CPU per message (median). The
 * ratio columns are empty on ws's own rows.
 */
export function wsBenchRows(report: WsBenchReport): string[][] {
  const rate = (row: WsBenchReport["rows"][number]): number => median(row.runs.map((r) => r.messagesPerSecond));
  return report.rows.map((row) => {
    const cpus = row.runs.map((r) => r.cpuNsPerMessage).filter((n): n is number => n !== undefined);
    const cpu = cpus.length === 0 ? "n/a" : `${(median(cpus) / 1000).toFixed(1)} µs`;
    const ws = row.kind !== "ws" ? report.rows.find((r) => r.kind === "ws" && r.connections === row.connections) : undefined;
    const ratio = ws !== undefined ? `${(rate(row) / rate(ws)).toFixed(2)}×` : "";
    const pairs = ws !== undefined ? pairRatios(row.runs, ws.runs) : "";
    return [SERVER_LABELS[row.kind], String(row.connections), Math.round(rate(row)).toLocaleString("en-US"), ratio, pairs, cpu];
  });
}

/** The report as Markdown, with each server's messages/s over ws's for each connection count. */
export function formatWsBench(report: WsBenchReport): string {
  const lines = [
    `## ws_echo (${MESSAGE_SIZE}-byte binary messages, strict ping-pong, the same ws client driving every server)`,
    "",
    "| server | connections | messages/s (median) | ÷ ws | ÷ ws per run pair: median (range) | server CPU per message |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const row of wsBenchRows(report)) lines.push(`| ${row.join(" | ")} |`);
  return `${lines.join("\n")}\n`;
}

// Run as a program (not imported by the smoke test).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const report = await wsBench(WS_BENCH_SIZES[process.argv.includes("--quick") ? "quick" : "full"]);
  console.log(formatWsBench(report));
}
