/**
 * Node, Bun and Deno: each cell is a fresh process running the compiled
 * `dist/bench/cell.js` (Bun and Deno run the ESM output with its `node:`
 * imports as it is).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../../hosts/common.ts";
import { bunBinary, denoBinary, denoEnv } from "../../hosts/launch.ts";
import type { HostId } from "../catalog.ts";
import type { CellOutcome, CellSpec } from "../measure.ts";
import { parseCellOutput, type BenchHost, type HostStart } from "./bench_host.ts";

const cellScript = join(root, "dist", "bench", "cell.js");

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\n[could not start ${command}: ${error.message}]` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function version(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<HostStart> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout) => {
      if (error !== null) resolve({ unavailable: `${command} ${args.join(" ")} failed: ${error.message.split("\n")[0]}` });
      else resolve({ version: stdout.trim().split("\n")[0]! });
    });
  });
}

export class ProcessHost implements BenchHost {
  private denoDir: string | undefined;
  constructor(readonly id: Extract<HostId, "node" | "bun" | "deno">) {}

  private command(): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
    if (this.id === "node") return { command: process.execPath, args: [], env: {} };
    if (this.id === "bun") return { command: bunBinary, args: ["run"], env: { NO_COLOR: "1" } };
    this.denoDir ??= mkdtempSync(join(tmpdir(), "weft-bench-deno-"));
    return { command: denoBinary, args: ["run", "--no-check", "-A"], env: denoEnv(this.denoDir) };
  }

  async start(): Promise<HostStart> {
    if (this.id === "node") return { version: `Node ${process.version}` };
    const { command, env } = this.command();
    const found = await version(command, ["--version"], env);
    return "version" in found ? { version: `${this.id === "bun" ? "Bun " : ""}${found.version}` } : found;
  }

  async runCell(spec: CellSpec, timeoutMs: number): Promise<CellOutcome> {
    const { command, args, env } = this.command();
    const { code, output } = await run(command, [...args, cellScript, JSON.stringify(spec)], env, timeoutMs);
    return parseCellOutput(output, code);
  }

  async close(): Promise<void> {
    if (this.denoDir !== undefined) rmSync(this.denoDir, { recursive: true, force: true });
  }
}
