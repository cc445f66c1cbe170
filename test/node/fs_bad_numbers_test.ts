/**
 * Every number the fs functions accept, given -0, NaN, ±Infinity, a
 * fraction or a huge value: a TypeError/RangeError naming the argument, or
 * the value normalised (-0 is 0), never a crash of the process. Node itself
 * aborts the process (a failed C++ assertion) on some of these, so the cases
 * run in a child process whose exit status is checked too.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tempDir, writeScript } from "./child.ts";

/** What one case did in the child: "ok" or the error's name and message. */
interface Outcome {
  name: string;
  ok?: boolean;
  error?: string;
  message?: string;
}

const SCRIPT = String.raw`
import { run } from "@WEFT@";
import { appendFile, mkdir, openFile, walk, writeFile } from "@NODE@";
import { join } from "node:path";
import * as fs from "node:fs";
const dir = process.argv[2];
const existing = join(dir, "existing.txt");
fs.writeFileSync(existing, "abc\n");
let n = 0;
const fresh = () => join(dir, "f" + n++);
function* withFile(body) {
  const file = yield* openFile(existing);
  try {
    yield* body(file);
  } finally {
    file.close();
  }
}
const cases = {
  "openFile mode -0": () => openFile(fresh(), "w", -0),
  "openFile mode NaN": () => openFile(fresh(), "w", NaN),
  "openFile mode Infinity": () => openFile(fresh(), "w", Infinity),
  "openFile mode -Infinity": () => openFile(fresh(), "w", -Infinity),
  "openFile mode 0.5": () => openFile(fresh(), "w", 0.5),
  "openFile mode 2**40": () => openFile(fresh(), "w", 2 ** 40),
  "openFile mode 2**31": () => openFile(fresh(), "w", 2 ** 31),
  "openFile flags -0": () => openFile(existing, -0),
  "openFile flags NaN": () => openFile(existing, NaN),
  "openFile flags Infinity": () => openFile(existing, Infinity),
  "openFile flags 1.5": () => openFile(existing, 1.5),
  "openFile flags 2**31": () => openFile(existing, 2 ** 31),
  "openFile flags 2**40": () => openFile(existing, 2 ** 40),
  "openFile flags -1": () => openFile(existing, -1),
  "writeFile mode -0": () => writeFile(fresh(), "x", { mode: -0 }),
  "writeFile mode NaN": () => writeFile(fresh(), "x", { mode: NaN }),
  "writeFile mode 2**40": () => writeFile(fresh(), "x", { mode: 2 ** 40 }),
  "writeFile mode -Infinity": () => writeFile(fresh(), "x", { mode: -Infinity }),
  "appendFile mode -0": () => appendFile(fresh(), "x", { mode: -0 }),
  "mkdir mode -0": () => mkdir(fresh(), { mode: -0 }),
  "mkdir recursive mode -0": () => mkdir(join(fresh(), "a", "b"), { recursive: true, mode: -0 }),
  "mkdir mode 1.5": () => mkdir(fresh(), { mode: 1.5 }),
  "mkdir mode Infinity": () => mkdir(fresh(), { mode: Infinity }),
  "seek -0": () => withFile(function* (file) {
    file.seek(-0);
    if (!Object.is(file.readPosition, 0) || !Object.is(file.writePosition, 0)) throw new Error("seek(-0) left -0");
    if ((yield* file.readLine()) !== "abc") throw new Error("seek(-0) did not read from the start");
  }),
  "seek NaN": () => withFile(function* (file) { file.seek(NaN); }),
  "seek Infinity": () => withFile(function* (file) { file.seek(Infinity); }),
  "seek -Infinity": () => withFile(function* (file) { file.seek(-Infinity); }),
  "seek 0.5": () => withFile(function* (file) { file.seek(0.5); }),
  "seek 2**53": () => withFile(function* (file) { file.seek(2 ** 53); }),
  "seek 2**53-1 then read": () => withFile(function* (file) {
    file.seek(2 ** 53 - 1);
    if ((yield* file.readLine()) !== undefined) throw new Error("read beyond the end gave data");
  }),
  "walk maxConcurrency -0": () => walk(dir, function* () {}, { maxConcurrency: -0 }),
  "walk maxConcurrency NaN": () => walk(dir, function* () {}, { maxConcurrency: NaN }),
  "walk maxConcurrency Infinity": () => walk(dir, function* () {}, { maxConcurrency: Infinity }),
  "walk maxConcurrency 1.5": () => walk(dir, function* () {}, { maxConcurrency: 1.5 }),
  "walk maxConcurrency 2**60": () => walk(dir, function* () {}, { maxConcurrency: 2 ** 60 }),
};
for (const [name, body] of Object.entries(cases)) {
  try {
    const value = await run(body);
    value?.close?.();
    console.log(JSON.stringify({ name, ok: true }));
  } catch (error) {
    console.log(JSON.stringify({ name, error: error?.name, message: String(error?.message) }));
  }
}
`;

function runCases(): Promise<{ code: number | null; signal: string | null; outcomes: Map<string, Outcome>; stderr: string }> {
  const dir = tempDir("weft-fs-numbers-");
  const script = writeScript(dir.path, "cases", SCRIPT);
  const child = spawn(process.execPath, [script, dir.path], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      dir.remove();
      const outcomes = new Map<string, Outcome>();
      for (const line of stdout.split("\n")) {
        if (line === "") continue;
        const outcome = JSON.parse(line) as Outcome;
        outcomes.set(outcome.name, outcome);
      }
      resolve({ code, signal, outcomes, stderr });
    });
  });
}

test("-0, NaN, Infinity, fractions and huge numbers never crash the fs functions", { timeout: 60_000 }, async () => {
  const { code, signal, outcomes, stderr } = await runCases();
  assert.equal(signal, null, `the child was killed by ${signal}: ${stderr}`);
  assert.equal(code, 0, `the child crashed: ${stderr}`);

  const succeeds = [
    "openFile mode -0",
    "openFile flags -0",
    "writeFile mode -0",
    "appendFile mode -0",
    "mkdir mode -0",
    "mkdir recursive mode -0",
    "seek -0",
    "seek 2**53-1 then read",
    "walk maxConcurrency 2**60",
  ];
  // Each rejected case: the error class and the argument its message must name.
  const rejected: Record<string, [string, string]> = {
    "openFile mode NaN": ["TypeError", "openFile(): mode"],
    "openFile mode Infinity": ["TypeError", "openFile(): mode"],
    "openFile mode -Infinity": ["TypeError", "openFile(): mode"],
    "openFile mode 0.5": ["TypeError", "openFile(): mode"],
    "openFile mode 2**40": ["RangeError", "openFile(): mode"],
    "openFile mode 2**31": ["RangeError", "openFile(): mode"],
    "openFile flags NaN": ["TypeError", "openFile(): flags"],
    "openFile flags Infinity": ["TypeError", "openFile(): flags"],
    "openFile flags 1.5": ["TypeError", "openFile(): flags"],
    "openFile flags 2**31": ["RangeError", "openFile(): flags"],
    "openFile flags 2**40": ["RangeError", "openFile(): flags"],
    "openFile flags -1": ["RangeError", "openFile(): flags"],
    "writeFile mode NaN": ["TypeError", "writeFile(): options.mode"],
    "writeFile mode 2**40": ["RangeError", "writeFile(): options.mode"],
    "writeFile mode -Infinity": ["TypeError", "writeFile(): options.mode"],
    "mkdir mode 1.5": ["TypeError", "mkdir(): options.mode"],
    "mkdir mode Infinity": ["TypeError", "mkdir(): options.mode"],
    "seek NaN": ["TypeError", "File.seek(): position"],
    "seek Infinity": ["TypeError", "File.seek(): position"],
    "seek -Infinity": ["TypeError", "File.seek(): position"],
    "seek 0.5": ["TypeError", "File.seek(): position"],
    "seek 2**53": ["TypeError", "File.seek(): position"],
    "walk maxConcurrency -0": ["RangeError", "walk(): options.maxConcurrency"],
    "walk maxConcurrency NaN": ["RangeError", "walk(): options.maxConcurrency"],
    "walk maxConcurrency Infinity": ["RangeError", "walk(): options.maxConcurrency"],
    "walk maxConcurrency 1.5": ["RangeError", "walk(): options.maxConcurrency"],
  };
  assert.equal(outcomes.size, succeeds.length + Object.keys(rejected).length, "every case reported");
  for (const name of succeeds) {
    assert.deepEqual(outcomes.get(name), { name, ok: true }, name);
  }
  for (const [name, [errorName, prefix]] of Object.entries(rejected)) {
    const outcome = outcomes.get(name);
    assert.equal(outcome?.error, errorName, `${name}: ${JSON.stringify(outcome)}`);
    assert.ok(outcome?.message?.startsWith(prefix), `${name} names the argument: ${outcome?.message}`);
  }
});
