/**
 * The ws_echo benchmark (Node only): `node dist/bench/ws/run.js [--quick]`
 * prints a Markdown report. 32-byte binary messages in strict ping-pong over
 * 1 and 64 connections, the weft echo server (`listenHttp` +
 * `acceptWebSocket`) against the `ws` package's server, the same `ws` client
 * driving both (see echo_load.ts). Each row is the median of `runs` timed
 * runs, each on a fresh server process after a warm-up; the two servers'
 * runs are interleaved, taking turns going first, so load on a shared
 * machine falls on both. Compare the ratio, not absolute numbers across
 * invocations.
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

/**
 * The benchmark; `messages` round trips in all per timed run. The two servers
 * take turns going first (weft then ws, then ws then weft, ...): whatever
 * the machine does between runs falls on both alike rather than always on
 * the one that runs second.
 */
export async function wsBench(
  options: { messages: number; runs: number; connections?: readonly number[] },
  load: EchoRun = echoLoad,
): Promise<WsBenchReport> {
  const report: WsBenchReport = { rows: [] };
  for (const connections of options.connections ?? [1, 64]) {
    const rows = { weft: [] as EchoLoadResult[], ws: [] as EchoLoadResult[] };
    for (let run = 0; run < options.runs; run++) {
      for (const kind of run % 2 === 0 ? (["weft", "ws"] as const) : (["ws", "weft"] as const)) {
        const count = perClient(options.messages, connections);
        rows[kind].push(await load(kind, { connections, perClient: count, warmup: Math.max(1, Math.round(count / 10)) }));
      }
    }
    report.rows.push({ kind: "weft", connections, runs: rows.weft }, { kind: "ws", connections, runs: rows.ws });
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
 * weft's rate over ws's in each pair of runs made one after the other (the
 * i-th of each row): the median and the range. Load on a shared machine
 * drifts over minutes, and a pair shares it, so the spread of these says how
 * far the machine moved the ratio while the benchmark ran.
 */
function pairRatios(weft: readonly EchoLoadResult[], ws: readonly EchoLoadResult[]): string {
  const ratios = weft.slice(0, ws.length).map((run, i) => run.messagesPerSecond / ws[i]!.messagesPerSecond);
  if (ratios.length === 0) return "";
  return `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

/**
 * One table row per server and connection count: the server, connections,
 * messages/s (median), weft's median messages/s over ws's, weft over ws per
 * pair of runs (median and range), server CPU per message (median).
 */
export function wsBenchRows(report: WsBenchReport): string[][] {
  const rate = (row: WsBenchReport["rows"][number]): number => median(row.runs.map((r) => r.messagesPerSecond));
  return report.rows.map((row) => {
    const label = row.kind === "weft" ? "weft (listenHttp + acceptWebSocket)" : "ws WebSocketServer";
    const cpus = row.runs.map((r) => r.cpuNsPerMessage).filter((n): n is number => n !== undefined);
    const cpu = cpus.length === 0 ? "n/a" : `${(median(cpus) / 1000).toFixed(1)} µs`;
    const other = row.kind === "weft" ? report.rows.find((r) => r.kind === "ws" && r.connections === row.connections) : undefined;
    const ratio = other !== undefined ? `${(rate(row) / rate(other)).toFixed(2)}×` : "";
    const pairs = other !== undefined ? pairRatios(row.runs, other.runs) : "";
    return [label, String(row.connections), Math.round(rate(row)).toLocaleString("en-US"), ratio, pairs, cpu];
  });
}

/** The report as Markdown, with weft's messages/s over ws's for each connection count. */
export function formatWsBench(report: WsBenchReport): string {
  const lines = [
    `## ws_echo (${MESSAGE_SIZE}-byte binary messages, strict ping-pong, the same ws client driving both servers)`,
    "",
    "| server | connections | messages/s (median) | weft / ws | per run pair: median (range) | server CPU per message |",
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
