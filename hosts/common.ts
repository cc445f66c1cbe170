/**
 * What the host runners share: where the repository is, which test files are
 * portable, how to run a command while showing its output, and the RESULT
 * line each runner ends with.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root (runners are compiled to dist/hosts/). */
export const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Test files that need Node itself (they start child Node processes). Tests of
 * `weft/node` are named `node_*_test.ts` and are Node-only too.
 */
export const nodeOnly: readonly string[] = ["deadlock_test.ts", "timer_exit_test.ts"];

/** True for a test file that runs only on Node. */
export function isNodeOnly(name: string): boolean {
  return nodeOnly.includes(name) || name.startsWith("node_");
}

/** The Node-only test files, by name, sorted. */
export function nodeOnlyTestFiles(): string[] {
  return readdirSync(join(root, "test"))
    .filter((name) => name.endsWith("_test.ts") && isNodeOnly(name))
    .sort();
}

/** The portable test files, by name (`pause_test.ts`, …), sorted. */
export function portableTestFiles(): string[] {
  return readdirSync(join(root, "test"))
    .filter((name) => name.endsWith("_test.ts") && !isNodeOnly(name))
    .sort();
}

/** A local binary installed by npm. */
export function bin(name: string): string {
  return join(root, "node_modules", ".bin", name);
}

/** Runs a command, echoing its output as it comes; resolves with all of it and the exit code. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      const text = chunk.toString("utf8");
      output += text;
      to.write(text);
    };
    child.stdout.on("data", (c: Buffer) => take(c, process.stdout));
    child.stderr.on("data", (c: Buffer) => take(c, process.stderr));
    const timer = setTimeout(() => {
      output += `\n[${command} killed after ${options.timeoutMs} ms]\n`;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 600_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: output + `\n[could not start ${command}: ${error.message}]\n` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The last match of `pattern` in `text` as a number, or undefined. */
export function lastNumber(text: string, pattern: RegExp): number | undefined {
  let found: number | undefined;
  for (const m of text.matchAll(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g"))) {
    found = Number(m[1]);
  }
  return found;
}

/**
 * Ends a runner from a test runner's summary counts: a missing summary or a
 * failing exit code with no failure counted is still a failure.
 */
export function finishFromSummary(host: string, code: number | null, passed: number | undefined, failed: number | undefined): never {
  if (passed === undefined || failed === undefined) {
    console.log(`${host}: no test summary found (exit code ${code})`);
    finish(passed ?? 0, Math.max(1, failed ?? 0));
  }
  finish(passed, code === 0 ? failed : Math.max(1, failed));
}

/** Prints the line the orchestrator reads and exits accordingly. */
export function finish(passed: number, failed: number): never {
  console.log(`RESULT ${JSON.stringify({ passed, failed })}`);
  process.exit(failed === 0 ? 0 : 1);
}
