/**
 * The HTTP benchmarks (Node only), apart from the cell matrix of
 * `npm run bench`: `node dist/bench/http/run.js [--quick]` prints a Markdown
 * report of both workloads.
 *
 * - `http_server`: requests/s and the server's CPU per request, weft
 *   (`listenHttp` + `serve`) against `node:http`, under `wrk -t2 -c64` and
 *   `-c256` (10 s each, after a 1 s warm-up; `--quick`: 2 s). Skipped, and
 *   reported so, without wrk.
 * - `http_client`: 10,000 keep-alive GETs over 16 connections against one
 *   `node:http` server (1,000 with `--quick`), weft's `HttpClient` against
 *   undici's `request` on a `Pool`, ns/request: the median of 5 runs after a
 *   warm-up run, both clients' runs interleaved so load on a shared machine
 *   falls on both.
 *
 * Every server runs in its own fresh process; the two sides of a comparison
 * run one after the other on the same machine, so compare their ratio, not
 * absolute numbers across invocations.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIENT_CONNECTIONS, httpClientLoad, type HttpClientKind } from "./client_load.ts";
import { httpServerLoad, type ServerLoadResult } from "./server_load.ts";

/** What a run of the HTTP benchmarks measured. */
export interface HttpBenchReport {
  server: Array<{ kind: "weft" | "node"; connections: number; result: ServerLoadResult | { skipped: string } }>;
  client: Array<{ kind: HttpClientKind; requests: number; nsPerRequest: number[] }>;
}

/** Both workloads; `duration` in seconds per wrk run, `requests` per client run. */
export async function httpBench(options: {
  duration: number;
  requests: number;
  runs: number;
  connections?: readonly number[];
}): Promise<HttpBenchReport> {
  const report: HttpBenchReport = { server: [], client: [] };
  for (const connections of options.connections ?? [64, 256]) {
    for (const kind of ["weft", "node"] as const) {
      const result = await httpServerLoad(kind, {
        threads: 2,
        connections,
        duration: options.duration,
        warmup: Math.min(1, options.duration),
      });
      report.server.push({ kind, connections, result });
    }
  }
  const loads = { weft: httpClientLoad("weft"), undici: httpClientLoad("undici") };
  try {
    const samples: Record<HttpClientKind, number[]> = { weft: [], undici: [] };
    for (let run = -1; run < options.runs; run++) {
      for (const kind of ["weft", "undici"] as const) {
        const start = performance.now();
        const count = await loads[kind](options.requests);
        const ns = ((performance.now() - start) * 1e6) / options.requests;
        if (count !== options.requests) throw new Error(`http_client (${kind}): ${count} answers for ${options.requests} requests`);
        if (run >= 0) samples[kind].push(ns);
      }
    }
    for (const kind of ["weft", "undici"] as const) report.client.push({ kind, requests: options.requests, nsPerRequest: samples[kind] });
  } finally {
    loads.weft.stop();
    loads.undici.stop();
  }
  return report;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The report as Markdown. */
export function formatHttpBench(report: HttpBenchReport): string {
  const lines = [
    "## http_server (wrk -t2, hello world)",
    "",
    "| server | connections | requests/s | CPU per request | requests | errors |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const { kind, connections, result } of report.server) {
    const label = kind === "weft" ? "weft (listenHttp + serve)" : "node:http";
    if ("skipped" in result) lines.push(`| ${label} | ${connections} | skipped: ${result.skipped} | | | |`);
    else {
      lines.push(
        `| ${label} | ${connections} | ${Math.round(result.requestsPerSecond).toLocaleString("en-US")} | ${(result.cpuNsPerRequest / 1000).toFixed(1)} µs | ${result.requests.toLocaleString("en-US")} | ${result.errors} |`,
      );
    }
  }
  lines.push("", `## http_client (keep-alive GETs, ${CLIENT_CONNECTIONS} connections, node:http server)`, "");
  lines.push("| client | requests a run | median ns/request | min–max |", "|---|---:|---:|---:|");
  for (const { kind, requests, nsPerRequest } of report.client) {
    const label = kind === "weft" ? "weft HttpClient" : "undici request + Pool";
    const fmt = (ns: number): string => Math.round(ns).toLocaleString("en-US");
    lines.push(
      `| ${label} | ${requests.toLocaleString("en-US")} | ${fmt(median(nsPerRequest))} | ${fmt(Math.min(...nsPerRequest))}–${fmt(Math.max(...nsPerRequest))} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

// Run as a program (not imported by the smoke test).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const quick = process.argv.includes("--quick");
  const report = await httpBench({ duration: quick ? 2 : 10, requests: quick ? 1_000 : 10_000, runs: quick ? 3 : 5 });
  console.log(formatHttpBench(report));
}
