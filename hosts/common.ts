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
 * The test areas, one folder each under `test/`. Which hosts run a file
 * follows from its folder: `test/node` holds the tests of `weft/node` and
 * those that start child Node processes, and runs on Node only; every other
 * area is portable.
 */
export const portableAreas: readonly string[] = ["bench", "core", "drivers", "group", "interop", "io", "sync", "web", "ws"];
export const nodeOnlyAreas: readonly string[] = ["node"];

function testFilesIn(areas: readonly string[]): string[] {
  const files: string[] = [];
  for (const area of areas) {
    for (const name of readdirSync(join(root, "test", area))) if (name.endsWith("_test.ts")) files.push(`${area}/${name}`);
  }
  return files.sort();
}

/** True for a test file (`area/name_test.ts`) that runs only on Node. */
export function isNodeOnly(file: string): boolean {
  return nodeOnlyAreas.includes(file.split("/")[0] ?? "");
}

/** The Node-only test files, as `area/name_test.ts`, sorted. */
export function nodeOnlyTestFiles(): string[] {
  return testFilesIn(nodeOnlyAreas);
}

/** The portable test files, as `area/name_test.ts` (`core/pause_test.ts`, …), sorted. */
export function portableTestFiles(): string[] {
  const found = readdirSync(join(root, "test"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const area of found) {
    if (!portableAreas.includes(area) && !nodeOnlyAreas.includes(area))
      throw new Error(`test/${area}: an area no host list names (add it to hosts/common.ts)`);
  }
  return testFilesIn(portableAreas);
}

/** A local binary installed by npm. */
export function bin(name: string): string {
  return join(root, "node_modules", ".bin", name);
}

let signalsHandled = false;

/** Ctrl-C or SIGTERM ends this process through `exit`, whose listeners end the commands' process groups. */
function endOnSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
}

/**
 * Runs a command, echoing its output as it comes; resolves with all of it and
 * the exit code. Past `timeoutMs` (10 minutes by default) the command and
 * every process it started are killed.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // Its own process group, so the time limit ends what it started too (a `node --test` runner's
    // file processes), not just the child: a grandchild left running would hold the pipes open.
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: process.platform !== "win32",
    });
    const killGroup = (): void => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        if (process.platform === "win32") child.kill("SIGKILL");
        else process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    // Detached, the group no longer gets the terminal's Ctrl-C: pass the end of this process on.
    endOnSignals();
    process.once("exit", killGroup);
    let output = "";
    const take = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      const text = chunk.toString("utf8");
      output += text;
      to.write(text);
    };
    child.stdout.on("data", (c: Buffer) => take(c, process.stdout));
    child.stderr.on("data", (c: Buffer) => take(c, process.stderr));
    const timer = setTimeout(() => {
      output += `\n[${command} killed after ${options.timeoutMs} ms, with the processes it started]\n`;
      killGroup();
    }, options.timeoutMs ?? 600_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      process.off("exit", killGroup);
      resolve({ code: null, output: output + `\n[could not start ${command}: ${error.message}]\n` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      process.off("exit", killGroup);
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
