/**
 * Test helpers for scenarios that need a separate Node process: a script that
 * imports the built library, started with pipes, watched line by line, and
 * signalled at a known moment. Not a test file (no `_test` suffix).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** From dist/test/<area>/*.js: the built entry points, as file URLs for `import`. */
export const WEFT_URL = new URL("../../src/index.js", import.meta.url).href;
export const NODE_URL = new URL("../../src/node.js", import.meta.url).href;

/** A temporary folder for scripts and files, removed by `remove()`. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes an ES module to `dir` with `@WEFT@` and `@NODE@` replaced by the library's URLs; returns its path. */
export function writeScript(dir: string, name: string, source: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source.replaceAll("@WEFT@", WEFT_URL).replaceAll("@NODE@", NODE_URL));
  return file;
}

/** How a child ended and what it printed. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started child with its output collected as it comes. */
export class Started {
  stdout = "";
  stderr = "";
  readonly done: Promise<Finished>;
  readonly #lineWaiters: { text: string; resolve: () => void }[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
      for (const waiter of [...this.#lineWaiters]) {
        if (this.stdout.split("\n").includes(waiter.text)) {
          this.#lineWaiters.splice(this.#lineWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.done = new Promise((resolve) => {
      child.on("close", (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Resolves once stdout has a line equal to `text`; rejects if the child ends first. */
  line(text: string): Promise<void> {
    if (this.stdout.split("\n").includes(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#lineWaiters.push({ text, resolve });
      void this.done.then((f) =>
        reject(
          new Error(
            `the child ended (${f.code ?? f.signal}) before printing ${JSON.stringify(text)}\nstdout:\n${f.stdout}\nstderr:\n${f.stderr}`,
          ),
        ),
      );
    });
  }
}

/**
 * Starts `node file args…` with all three stdio piped and a hard time limit
 * (SIGKILL), so a hung child fails the test instead of hanging it.
 */
export function startNode(file: string, args: string[] = [], env: Record<string, string> = {}, limitMs = 20_000): Started {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  delete childEnv["NODE_TEST_CONTEXT"];
  delete childEnv["NODE_OPTIONS"];
  if (!("WEFT_DEBUG" in env)) delete childEnv["WEFT_DEBUG"];
  const child = spawn(process.execPath, [file, ...args], { env: childEnv, stdio: "pipe" });
  const limit = setTimeout(() => child.kill("SIGKILL"), limitMs);
  child.on("close", () => clearTimeout(limit));
  child.stdin!.on("error", () => {});
  return new Started(child);
}

/** True once no process has id `pid` (the ESRCH from `kill(pid, 0)`). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === "ESRCH";
  }
}

/** Counts the active handles of these kinds (ProcessWrap, PipeWrap, …). */
export function countResources(...kinds: string[]): number {
  return process.getActiveResourcesInfo().filter((kind) => kinds.includes(kind)).length;
}

/** Like {@link countResources}, after letting Node finish closing handles (a closed handle goes away a turn later). */
export async function countSettled(...kinds: string[]): Promise<number> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  return countResources(...kinds);
}

/** Polls `done` until it holds or `limitMs` has passed; true if it held. */
export async function eventually(done: () => boolean, limitMs = 15_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
