/**
 * Every TSDoc `@example` of src/ is typechecked and run (issue 15), so an
 * example cannot rot: test/node/doc_examples.ts turns each ```ts block into
 * the body of a generator function with every export of the entry points in
 * scope, tsc checks them all under `strict`, and each runs with `run()` in
 * its own Node process, which must succeed and then end by itself (nothing
 * left running). A block with a top-level `await run(…)` (the entry points'
 * own examples, a deadlock) runs as the module itself; `main()`'s example,
 * which runs until Ctrl-C, gets its SIGINT from a scenario below. Nothing is
 * skipped. Failures name the example by source file and line.
 *
 * `WEFT_DOC_EXAMPLES=<part of "file:line">` runs only the matching examples.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { extractExamples, generateExamples, type GeneratedExample } from "./doc_examples.ts";
import { FINISHED_MARKER } from "./doc_example_runner.ts";
import { Started } from "./child.ts";

/** dist/test/node → the repository. */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OUT = join(ROOT, "dist", "doc-examples");
const RUNNER = fileURLToPath(new URL("./doc_example_runner.js", import.meta.url));
/** A hang detector, not a speed limit: a stalled host still finishes a sub-second example well within it. */
const HANG_LIMIT_MS = 30_000;

const examples = extractExamples(ROOT);
const generated = generateExamples(ROOT, join(ROOT, "dist", "src"), OUT, examples);
const where = (g: GeneratedExample): string => `${g.example.file}:${g.example.line}`;
/** The examples tsc rejected: they are not run (code that does not typecheck may do anything). */
const illTyped = new Set<GeneratedExample>();

/**
 * Starts the runner on one example in a fresh working directory (an example
 * writing relative paths must not touch the repository), killed after
 * {@link HANG_LIMIT_MS}; the directory is removed when the child has ended.
 */
function startExample(g: GeneratedExample): Started {
  const cwd = mkdtempSync(join(tmpdir(), "weft-doc-example-"));
  const env: Record<string, string | undefined> = { ...process.env };
  delete env["NODE_TEST_CONTEXT"];
  delete env["NODE_OPTIONS"];
  delete env["WEFT_DEBUG"];
  const child = spawn(process.execPath, [RUNNER, g.path.replace(/\.ts$/, ".js")], { cwd, env, stdio: "pipe" });
  const limit = setTimeout(() => child.kill("SIGKILL"), HANG_LIMIT_MS);
  child.on("close", () => {
    clearTimeout(limit);
    rmSync(cwd, { recursive: true, force: true });
  });
  child.stdin.on("error", () => {});
  child.stdin.end(); // an example reading stdin (a filter under main) sees its end
  return new Started(child);
}

/**
 * Examples that wait for something from outside (a signal) get it here.
 * Keyed by file and a phrase of the example, so moving the example keeps it.
 */
interface Scenario {
  file: string;
  contains: string;
  /** Drives the child and checks how it ended. */
  drive(child: Started): Promise<void>;
}
const SCENARIOS: Scenario[] = [
  {
    // main() owns the process: its example loops until Ctrl-C, and its
    // finally must still print (issue 15).
    file: "src/node/process/main.ts",
    contains: "stopped cleanly",
    async drive(child) {
      await child.line("working");
      child.child.kill("SIGINT");
      const done = await child.done;
      assert.equal(done.signal, "SIGINT", `ended by ${done.code ?? done.signal}\nstderr:\n${done.stderr}`);
      assert.ok(
        done.stdout.split("\n").includes("stopped cleanly"),
        `no "stopped cleanly" on Ctrl-C; stdout:\n${done.stdout}\nstderr:\n${done.stderr}`,
      );
    },
  },
];
const scenarioOf = (g: GeneratedExample): Scenario | undefined =>
  SCENARIOS.find((s) => s.file === g.example.file && g.example.code.join("\n").includes(s.contains));

test("the TSDoc examples are found, each a ```ts block", { timeout: 10_000 }, () => {
  // A floor, so a broken extractor cannot pass by finding nothing.
  assert.ok(examples.length >= 150, `only ${examples.length} examples found`);
  const unfenced = examples.filter((e) => e.code.length === 0).map((e) => `${e.file}:${e.line}`);
  assert.deepEqual(unfenced, [], "these @example tags have no ```ts block");
  for (const scenario of SCENARIOS) {
    assert.ok(
      generated.some((g) => scenarioOf(g) === scenario),
      `no example in ${scenario.file} contains ${JSON.stringify(scenario.contains)}`,
    );
  }
});

test("every TSDoc example typechecks under strict", { timeout: 180_000 }, async () => {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  assert.ok(existsSync(tsc), `no tsc at ${tsc}`);
  const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [tsc, "-p", OUT, "--pretty", "false"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.on("close", (code) => resolve({ code, out }));
  });
  // Map "dist/doc-examples/NNN_x.ts(12,5): error …" back to the example's own line.
  const byName = new Map(generated.map((g) => [basename(g.path), g]));
  const messages = result.out
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^(.*?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
      if (match === null) return line;
      const g = byName.get(basename(match[1]!));
      if (g === undefined) return line;
      illTyped.add(g);
      const sourceLine = Number(match[2]) + g.lineOffset;
      const at = sourceLine >= g.example.line ? `${g.example.file}:${sourceLine}:${match[3]}` : `${where(g)} (imports)`;
      return `${at}: ${match[4]}`;
    });
  assert.deepEqual(messages, [], `tsc found errors in TSDoc examples:\n${messages.join("\n")}`);
  assert.equal(result.code, 0);
});

test("every TSDoc example runs with run() and leaves nothing running", { timeout: 600_000, concurrency: 4 }, async (t) => {
  // WEFT_DOC_EXAMPLES=<part of "file:line"> runs only the matching examples (while editing them).
  const only = process.env["WEFT_DOC_EXAMPLES"];
  await Promise.all(
    generated
      .filter((g) => only === undefined || where(g).includes(only))
      .map((g) =>
        t.test(where(g), { timeout: HANG_LIMIT_MS + 10_000 }, async () => {
          assert.ok(!illTyped.has(g), `not run: example at ${where(g)} does not typecheck (see the test above)`);
          const child = startExample(g);
          const scenario = scenarioOf(g);
          if (scenario !== undefined) return scenario.drive(child);
          const done = await child.done;
          const report = `example at ${where(g)}\nstdout:\n${done.stdout}\nstderr:\n${done.stderr}`;
          if (done.signal === "SIGKILL") {
            assert.fail(
              done.stderr.includes(FINISHED_MARKER)
                ? `finished, but the process did not end within ${HANG_LIMIT_MS} ms: something was left running\n${report}`
                : `did not finish within ${HANG_LIMIT_MS} ms\n${report}`,
            );
          }
          assert.equal(done.code, 0, `failed (${done.code ?? done.signal})\n${report}`);
          // main() ends the process itself, after the runner's run() has settled.
          assert.ok(
            done.stderr.includes(FINISHED_MARKER) || g.example.code.join("\n").includes("main("),
            `ended without finishing\n${report}`,
          );
        }),
      ),
  );
});
