/**
 * Part A of the QuickJS host (see `hosts/quickjs.ts`): the portable test
 * files, each bundled with the shims shared with Chromium and the globals of
 * `guest_globals.ts`, each run by a lane worker (`lane_worker.ts`) in a fresh
 * QuickJS engine driven as an embedder with a timer list on the real clock.
 */
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { type Bundle, type BundleTarget, bundleTestFile, type Esbuild, nodeNeeds, realRoot, shimDir } from "../bundling.ts";
import { nodeOnlyTestFiles, portableTestFiles } from "../common.ts";
import type { FileJob, FileOutcome } from "./file_runner.ts";

/**
 * One file may run this long (its tests have the harness's own limits inside).
 * The slowest, cancellation_property_test, takes about 105 s in QuickJS with
 * four busy loops on 2 cores and 133 s with more load besides: the limits are
 * a safety net against a hang, not a speed check.
 */
const FILE_LIMIT_MS = 360_000;
/** A lane that has not answered this long after its file's limit is stuck in the engine and is ended. */
const LANE_GRACE_MS = 20_000;
/** The whole of part A must end within this. */
const RUN_BUDGET_MS = 480_000;

const outDir = join(realRoot, "dist", "hosts", "quickjs-bundles"); // only names the bundles: nothing is written
const target: BundleTarget = {
  harness: join(shimDir, "page_harness.ts"),
  preludes: [join(realRoot, "hosts", "quickjs", "guest_globals.ts")],
  format: "iife",
  target: "es2022",
  outDir,
};

/** Single tests left out on QuickJS (file → test name → reason); they count as skipped. */
const leftOutTests: Record<string, Record<string, string>> = {
  "interop/each_test.ts": {
    "each over a web ReadableStream": "QuickJS has no ReadableStream (web streams)",
    "a body error over a web ReadableStream cancels the stream's source": "QuickJS has no ReadableStream (web streams)",
  },
  "drivers/virtual_time_test.ts": {
    "a thousand tasks sleeping in loops for a virtual day each wake exactly on their own beat":
      "asserts a wall-time bound (5 s) set for JIT engines; QuickJS interprets and takes about 10 s",
  },
};

/** The files that take longest in QuickJS start first, so they do not end the run alone. */
const slowFirst = [
  "core/cancellation_property_test.ts",
  "sync/queue_property_test.ts",
  "interop/call_test.ts",
  "io/pipe_test.ts",
  "core/no_orphan_property_test.ts",
  "io/reader_property_test.ts",
  "core/waiter_list_test.ts",
  "io/memory_reader_test.ts",
];

/** Files that bundle but cannot run in QuickJS, with a reason an embedder could not fix with a small shim. */
const leftOut: Record<string, string> = {
  "io/compression_test.ts":
    "QuickJS has neither node:zlib nor the Web CompressionStream, so every compression writer and reader throws " +
    "Unsupported there: the file's tests need an engine to run",
  "interop/streams_test.ts":
    "tests weft's adapters to web streams (ReadableStream), which QuickJS lacks; QuickJS also fails to compile " +
    "`for (const n of yield* drain(chunks))` in it (InternalError: stack underflow)",
};

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Bundles and runs the portable test files (`requested`, or all), `lanes` files at a time. */
export async function runTestFiles(requested: readonly string[], lanes: number): Promise<{ passed: number; failed: number }> {
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const all = portableTestFiles();
  const files = requested.length === 0 ? all : requested.map((f) => f.replace(/^(\.\/)?test\//, ""));
  for (const f of files) {
    if (!all.includes(f)) {
      console.log(`quickjs: "${f}" is not a portable test file`);
      return { passed: 0, failed: 1 };
    }
  }
  const nodeOnly = nodeOnlyTestFiles();
  console.log(`quickjs: ${files.length} test files${requested.length === 0 ? ` (of ${all.length + nodeOnly.length})` : ""}`);
  if (requested.length === 0)
    console.log(`  excluded the ${nodeOnly.length} files of test/node: Node only (weft/node, or child Node processes)`);

  let esbuild: Esbuild;
  try {
    esbuild = await import("esbuild");
  } catch (error) {
    console.log(`quickjs: cannot load esbuild: ${errorText(error)}`);
    return { passed: 0, failed: 1 };
  }
  let passed = 0;
  let failed = 0;
  const runnable: Array<{ name: string; bundle: Bundle }> = [];
  const built = await Promise.all(files.map(async (name) => ({ name, ...(await bundleTestFile(esbuild, name, target)) })));
  for (const b of built) {
    const needs = nodeNeeds(b.scan);
    if (needs.length > 0) {
      console.log(`  excluded ${b.name}: ${needs.join(", ")}`);
      continue;
    }
    const reason = leftOut[b.name];
    if (reason !== undefined) {
      console.log(`  excluded ${b.name}: ${reason}`);
      continue;
    }
    if (b.error !== undefined || b.bundle === undefined) {
      failed++;
      console.log(`not ok ${b.name}: bundling failed:\n      ${(b.error ?? "unknown error").replace(/\n/g, "\n      ")}`);
      continue;
    }
    runnable.push({ name: b.name, bundle: b.bundle });
    for (const [test, why] of Object.entries(leftOutTests[b.name] ?? {})) console.log(`  left out ${b.name} › ${test}: ${why}`);
  }
  await esbuild.stop();
  console.log(`quickjs: bundled ${runnable.length} files in ${elapsed()}; running them ${lanes} at a time`);

  // Lanes take the next file when free; the output follows the order files end in.
  const weight = (name: string): number => {
    const i = slowFirst.indexOf(name);
    return i < 0 ? slowFirst.length : i;
  };
  const queue = [...runnable].sort((a, b) => weight(a.name) - weight(b.name));
  const results = new Map<string, FileOutcome>();
  const report = (r: FileOutcome): void => {
    results.set(r.name, r);
    const skipped = r.skipped > 0 ? `, ${r.skipped} skipped` : "";
    console.log(
      `${r.failed === 0 ? "ok    " : "FAILED"} ${r.name}: ${r.passed} passed, ${r.failed} failed${skipped} (${(r.ms / 1000).toFixed(1)} s)`,
    );
    for (const line of r.lines) console.log(`  ${line}`);
  };
  const failure = (name: string, line: string): FileOutcome => ({ name, passed: 0, failed: 1, skipped: 0, lines: [line], ms: 0 });
  const lane = async (): Promise<void> => {
    let worker: Worker | undefined;
    try {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        const left = RUN_BUDGET_MS - (performance.now() - started);
        if (left < 2_000) {
          report(failure(item.name, `not ok ${item.name}: not run, the time budget is used up`));
          continue;
        }
        worker ??= new Worker(new URL("./lane_worker.js", import.meta.url));
        const w = worker;
        const limitMs = Math.min(FILE_LIMIT_MS, left);
        const job: FileJob = {
          name: item.name,
          js: item.bundle.js,
          mapText: item.bundle.mapText,
          limitMs,
          skipTests: leftOutTests[item.name] ?? {},
          outDir,
          realRoot,
        };
        const answer = await new Promise<FileOutcome | string>((resolve) => {
          const timer = setTimeout(() => resolve(`the lane did not answer within ${limitMs + LANE_GRACE_MS} ms`), limitMs + LANE_GRACE_MS);
          const done = (value: FileOutcome | string): void => {
            clearTimeout(timer);
            w.off("message", done);
            w.off("error", onError);
            w.off("exit", onExit);
            resolve(value);
          };
          const onError = (error: Error): void => done(`the lane failed: ${error.message}`);
          const onExit = (code: number): void => done(`the lane exited (code ${code})`);
          w.on("message", done);
          w.on("error", onError);
          w.on("exit", onExit);
          w.postMessage(job);
        });
        if (typeof answer === "string") {
          report(failure(item.name, `not ok ${item.name}: ${answer}`));
          await worker.terminate();
          worker = undefined;
        } else report(answer);
      }
    } finally {
      await worker?.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, () => lane()));
  for (const r of results.values()) {
    passed += r.passed;
    failed += r.failed;
  }
  console.log(`quickjs: test files: ${results.size} files, ${passed} passed, ${failed} failed (${elapsed()})`);
  return { passed, failed };
}
