/**
 * The load sections of `npm run bench`: workloads that are not a cell of the
 * host × peer matrix because something outside the runtime drives them (wrk
 * against a server in its own process) and they measure more than ns/op
 * (requests/s and the server's CPU per request). They run on Node only, after
 * the cells, when the run includes Node and the section (every full run
 * does; `--workloads http_server` runs only it). Each gives a table for the
 * report, or the reason it could not run.
 */
import { httpServerLoad } from "./http/server_load.ts";

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

/** Every load section, in report order. */
export const loadSections: readonly LoadSection[] = [httpServer];

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
