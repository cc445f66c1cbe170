/**
 * http_server: a hello-world handler served by weft (`listenHttp` + `serve`)
 * and by `node:http`, each in its own fresh process (`hello_server.ts`),
 * driven by `wrk` from outside. wrk reports the requests it completed and
 * the requests per second; the CPU the server spent is read from
 * `/proc/<pid>/stat` (utime + stime) just before and just after the load,
 * and divided by the requests: CPU per request shows what throughput alone
 * hides on a machine where wrk and the server share two cores.
 *
 * Linux only (`/proc`) and only with `wrk` installed: otherwise the workload
 * reports itself skipped, with the reason, instead of failing.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServerProcess, type ServerProcess } from "../server_process.ts";
import type { HelloServerKind } from "./hello.ts";

const serverScript = fileURLToPath(new URL("./hello_server.js", import.meta.url));

/** A running hello server: its port and process id; `stop()` ends it. */
export type HelloServer = ServerProcess;

/** Starts a hello server of `kind` in its own process; it also exits when this process does (its stdin ends). */
export function startHelloServer(kind: HelloServerKind): Promise<HelloServer> {
  return startServerProcess(serverScript, [kind], `the ${kind} hello server`);
}

/** Why wrk cannot run here, or undefined when it can. */
export function wrkMissing(): string | undefined {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (error) {
    // wrk --version prints its version and exits with 1: only a missing command is a reason.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "wrk is not installed";
  }
  try {
    readFileSync("/proc/self/stat");
  } catch {
    return "no /proc/<pid>/stat to read the server's CPU time from (Linux only)";
  }
  return undefined;
}

let ticksPerSecond: number | undefined;

/** utime + stime of process `pid`, in seconds. */
export function cpuSeconds(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** How wrk drives the server. */
export interface WrkOptions {
  threads: number;
  connections: number;
  /** seconds */
  duration: number;
}

/** What one wrk run measured. */
export interface ServerLoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** the server process's CPU time (user + system) over the requests it answered */
  cpuNsPerRequest: number;
  /** non-2xx answers and socket errors wrk counted: a correct run has none */
  errors: number;
}

/** Parses wrk's summary: "N requests in 2.00s, …", socket errors and non-2xx answers. */
export function parseWrk(output: string): { requests: number; seconds: number; errors: number } {
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)\b/.exec(output);
  if (total === null) throw new Error(`wrk: no "requests in" line in its output:\n${output}`);
  const unit = total[3] === "ms" ? 1e-3 : total[3] === "m" ? 60 : 1;
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  if (socket !== null) errors += socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (non2xx !== null) errors += Number(non2xx[1]);
  return { requests: Number(total[1]), seconds: Number(total[2]) * unit, errors };
}

/** Runs wrk against `server` (asynchronously: this process stays free) and measures the server's CPU around it. */
export async function wrkLoad(server: HelloServer, options: WrkOptions): Promise<ServerLoadResult> {
  const args = [`-t${options.threads}`, `-c${options.connections}`, `-d${options.duration}s`, `http://127.0.0.1:${server.port}/`];
  const before = cpuSeconds(server.pid);
  const output = await new Promise<string>((resolve, reject) => {
    const wrk = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    wrk.stdout.setEncoding("utf8").on("data", (data: string) => (text += data));
    wrk.once("error", reject);
    wrk.once("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk ${args.join(" ")} exited with ${code}:\n${text}`))));
  });
  const cpu = cpuSeconds(server.pid) - before;
  const { requests, seconds, errors } = parseWrk(output);
  if (requests === 0) throw new Error(`wrk: no request completed:\n${output}`);
  return { requests, seconds, requestsPerSecond: requests / seconds, cpuNsPerRequest: (cpu * 1e9) / requests, errors };
}

/** One http_server measurement: a fresh server of `kind`, a warm-up wrk run of a second, then the timed one. */
export async function httpServerLoad(
  kind: HelloServerKind,
  options: WrkOptions & { warmup?: number },
): Promise<ServerLoadResult | { skipped: string }> {
  const missing = wrkMissing();
  if (missing !== undefined) return { skipped: missing };
  const server = await startHelloServer(kind);
  try {
    if ((options.warmup ?? 1) > 0) await wrkLoad(server, { ...options, duration: options.warmup ?? 1 });
    return await wrkLoad(server, options);
  } finally {
    server.stop();
  }
}
