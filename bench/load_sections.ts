/**
 * The load sections of `npm run bench`: workloads that are not a cell of the
 * host × peer matrix because something outside the runtime drives them (wrk
 * against a server in its own process, a `ws` client against a WebSocket
 * server in its own process) and they measure more than ns/op (requests or
 * messages per second, and the server's CPU per request or message). They
 * run on Node only, after the cells, when the run includes Node and the
 * section (every full run does; `--workloads http_server` runs only that
 * one). Each gives a table for the report, or the reason it could not run.
 */
import { BURST_CHUNKS } from "./fairness/workload.ts";
import { FAIRNESS_HEADER, FAIRNESS_SIZES, fairnessBench, fairnessRows } from "./fairness/run.ts";
import { httpServerLoad } from "./http/server_load.ts";
import { MESSAGE_SIZE } from "./ws/echo_load.ts";
import { WS_BENCH_SIZES, wsBench, wsBenchRows } from "./ws/run.ts";

/** One section's table, as it goes into latest.json and the report. */
export interface LoadSectionResult {
  name: string;
  title: string;
  /** What was measured and how, for the report. */
  method: string;
  header: string[];
  rows: string[][];
  /** Why there is no table (a tool missing, a failure). */
  unavailable?: string;
}

interface LoadSection {
  name: string;
  run(quick: boolean): Promise<LoadSectionResult>;
}

const count = (n: number): string => Math.round(n).toLocaleString("en-US");

const httpServer: LoadSection = {
  name: "http_server",
  async run(quick) {
    const duration = quick ? 2 : 10;
    const result: LoadSectionResult = {
      name: "http_server",
      title: "http_server on Node (wrk -t2, hello world)",
      method:
        "A hello-world handler (13 bytes, Content-Length, keep-alive) served by weft (`listenHttp` + `serve`) and by `node:http`, " +
        `each in a fresh process, driven by \`wrk -t2\` for ${duration} s after a 1 s warm-up. CPU per request is the server process's ` +
        "utime + stime from `/proc` over the requests it answered; wrk and the server share the machine's cores, so requests/s is " +
        "bounded by both. Target: weft at least 1.0× node:http's requests/s, and no more CPU per request.",
      header: ["server", "connections", "requests/s", "÷ node:http", "CPU per request", "requests", "errors"],
      rows: [],
    };
    for (const connections of [64, 256]) {
      const measured = [];
      for (const kind of ["weft", "node"] as const) {
        const load = await httpServerLoad(kind, { threads: 2, connections, duration, warmup: 1 });
        if ("skipped" in load) return { ...result, rows: [], unavailable: load.skipped };
        measured.push({ kind, load });
      }
      const node = measured[1]!.load;
      for (const { kind, load } of measured) {
        result.rows.push([
          kind === "weft" ? "weft" : "node:http",
          String(connections),
          count(load.requestsPerSecond),
          kind === "weft" ? `${(load.requestsPerSecond / node.requestsPerSecond).toFixed(2)}×` : "",
          `${(load.cpuNsPerRequest / 1000).toFixed(1)} µs`,
          count(load.requests),
          String(load.errors),
        ]);
      }
    }
    return result;
  },
};

const wsEcho: LoadSection = {
  name: "ws_echo",
  async run(quick) {
    const size = WS_BENCH_SIZES[quick ? "quick" : "full"];
    const report = await wsBench(size);
    return {
      name: "ws_echo",
      title: `ws_echo on Node (${MESSAGE_SIZE}-byte messages, strict ping-pong)`,
      method:
        "An echo server, weft's (`listenHttp` + `acceptWebSocket`, a task per connection doing `sendBinary(recvBytes())`), " +
        "the `ws` package's `WebSocketServer`, and one written by hand on raw `node:net` callbacks (no library: it unmasks " +
        "each frame and writes it back inside the 'data' callback that brought it, the floor of what a server on Node's " +
        "sockets costs), each in a fresh process per timed run, driven by one `ws` client process over 1 and " +
        `64 connections: each connection sends a ${MESSAGE_SIZE}-byte binary message, waits for its echo and sends the next. ` +
        `${count(size.messages)} round trips per timed run after a warm-up of a tenth of that; each row is the median of ` +
        `${size.runs} timed runs, one of each server per round, the order rotated and mirrored from round to round. CPU per ` +
        "message is the server process's utime + stime from `/proc` over the timed run. The client's cost is in every rate " +
        "alike, so the ratios understate the servers' differences; the CPU column shows them. «Per run pair» is a server's " +
        "rate over ws's in each round (median, range): a round shares whatever load the machine had then, so the range shows " +
        "how far that load moved the ratio. Target: weft at least 1.0× ws; the raw row shows how far above ws any server " +
        "could be on this machine.",
      header: ["server", "connections", "messages/s", "÷ ws", "÷ ws per run pair", "CPU per message"],
      rows: wsBenchRows(report),
    };
  },
};

const fairness: LoadSection = {
  name: "fairness",
  async run(quick) {
    const size = FAIRNESS_SIZES[quick ? "quick" : "full"];
    const report = fairnessBench(size);
    return {
      name: "fairness",
      title: "fairness on Node (a light client next to a flooding one, cooperative budget on and off)",
      method:
        "A chat server in one process on `run()`: a flooding client's connection is a `Reader` that serves " +
        `${BURST_CHUNKS} chunks of 256 64-byte lines at once per host turn (a socket whose buffer is always full); its task ` +
        "reads each line and publishes it on a `Broadcast`, which the light client's outbound task drains. The light client " +
        "gets a ping from a host timer every millisecond (once the last one was answered) and its connection task answers " +
        "it from a `Queue`; a sample is the time from the ping's arrival to its answer. Each configuration runs in a fresh " +
        `process for ${size.durationMs / 1000} s (the first ${Math.min(500, size.durationMs / 4)} ms not counted), ` +
        `${size.processes} process${size.processes === 1 ? "" : "es"} each, interleaved; each cell is the median over the ` +
        "processes (max: the largest). Budget off is `setBudgetEnabled(false)`: the behaviour before the budget, when the " +
        "flooder's turn lasted its whole burst.",
      header: FAIRNESS_HEADER,
      rows: fairnessRows(report),
    };
  },
};

/** Every load section, in report order. */
export const loadSections: readonly LoadSection[] = [httpServer, wsEcho, fairness];

/** Their names, which `--workloads` accepts beside the cells' workloads. */
export const loadSectionNames: readonly string[] = loadSections.map((s) => s.name);

/** Runs the named sections (Node only); a section that throws is reported unavailable with the error. */
export async function runLoadSections(
  names: readonly string[],
  quick: boolean,
  progress: (line: string) => void,
): Promise<LoadSectionResult[]> {
  const out: LoadSectionResult[] = [];
  for (const section of loadSections) {
    if (!names.includes(section.name)) continue;
    const started = Date.now();
    let result: LoadSectionResult;
    try {
      result = await section.run(quick);
    } catch (error) {
      result = {
        name: section.name,
        title: section.name,
        method: "",
        header: [],
        rows: [],
        unavailable: `failed: ${(error as Error).message.split("\n")[0]}`,
      };
    }
    progress(`${section.name}: ${result.unavailable ?? `${result.rows.length} rows`} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    out.push(result);
  }
  return out;
}

/** A section's Markdown. */
export function formatLoadSection(section: LoadSectionResult): string[] {
  const lines = [`## ${section.title}`, ""];
  if (section.unavailable !== undefined) return [...lines, `Not measured: ${section.unavailable}.`, ""];
  lines.push(
    section.method,
    "",
    `| ${section.header.join(" | ")} |`,
    `|${section.header.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
  );
  for (const row of section.rows) lines.push(`| ${row.join(" | ")} |`);
  lines.push("");
  return lines;
}
