/**
 * The embedder of one test file in QuickJS (see `hosts/quickjs.ts`, part A):
 * a fresh QuickJS module and runtime, the globals of `guest_globals.ts`
 * backed by a timer list on the real clock, and the loop that runs pending
 * jobs, fires due timers one at a time and sleeps for real until the next.
 * Runs in a lane worker (`lane_worker.ts`), so a file that keeps the engine
 * busy delays no other file's timers.
 */
import { randomBytes } from "node:crypto";
import { relative, resolve } from "node:path";
import { SourceMap } from "node:module";
import { newQuickJSWASMModuleFromVariant, type QuickJSContext, type QuickJSHandle } from "quickjs-emscripten-core";
import { quickjsVariant } from "../launch.ts";
import type { PageProgress, PageResult, ProgressMessage, TestOutcome } from "../browser/page_harness.ts";

/**
 * One call into the guest may run this long (and never past the file's limit)
 * before the interrupt handler stops it. A synchronous property test is one
 * call: queue_property_test's took over 60 s in QuickJS on a loaded machine,
 * so the limit is a guard against a hang, not a speed check.
 */
const CALL_LIMIT_MS = 300_000;
const MEMORY_LIMIT = 256 * 1024 * 1024;
const STACK_LIMIT = 4 * 1024 * 1024;
/** Let Node's own timers (the real sleeps) have a turn at least this often. */
const YIELD_EVERY_MS = 20;

/** A bundled test file as the lane gets it. */
export interface FileJob {
  name: string;
  js: string;
  mapText: string | undefined;
  limitMs: number;
  /** Tests of the file left out on QuickJS: name → reason. */
  skipTests: Record<string, string>;
  /** Where the bundle's source map paths are relative to, and what they are shown relative to. */
  outDir: string;
  realRoot: string;
}

export interface FileOutcome {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  lines: string[];
  ms: number;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nodeTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Rewrites `area/name_test.js:L[:C]` positions in a QuickJS stack to the TypeScript source. */
function mapStack(text: string, job: FileJob, map: SourceMap | undefined, jsName: string): string {
  const escaped = jsName.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return text.replace(new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`, "g"), (whole, line: string, column: string | undefined) => {
    const entry = map?.findEntry(Number(line) - 1, Math.max(0, Number(column ?? 1) - 1)) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (entry?.originalSource === undefined || entry.originalLine === undefined) return whole;
    const source = entry.originalSource;
    const shown = source.includes(":") ? source : relative(job.realRoot, resolve(job.outDir, source));
    return `${shown}:${entry.originalLine + 1}`;
  });
}

/** The embedder of one test file: a runtime, its timer list, its output. */
export async function runFile(job: FileJob): Promise<FileOutcome> {
  const { name, limitMs } = job;
  const jsName = name.replace(/\.ts$/, ".js");
  const map = job.mapText === undefined ? undefined : new SourceMap(JSON.parse(job.mapText));
  const outcome: FileOutcome = { name, passed: 0, failed: 0, skipped: 0, lines: [], ms: 0 };
  const readable = (text: string): string => mapStack(text, job, map, jsName);
  const fail = (line: string): void => {
    outcome.failed++;
    outcome.lines.push(line);
  };
  const t0 = performance.now();
  const clock = (): number => performance.now() - t0;
  const progress: PageProgress = { current: undefined, done: [], registered: 0 };
  const errorsSeen: string[] = [];
  /** The embedder's timer list: the guest keeps the callbacks, the embedder only (id → due, order). */
  const timers = new Map<number, { due: number; seq: number }>();
  let seq = 0;
  let callDeadline = Infinity;
  /**
   * When the current turn (a batch of jobs, or a timer callback and its jobs)
   * began. Timers set during a turn count from its start, as libuv's cached
   * loop time does in Node: an interpreter runs a turn slowly, and counting
   * from each call would spread deadlines set together by the turn's length.
   */
  let turnStart = 0;

  // A module of its own: an engine abort (QuickJS asserts when a runtime is freed with objects left) ends only this file's engine.
  const QuickJS = await newQuickJSWASMModuleFromVariant(quickjsVariant());
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(MEMORY_LIMIT);
  rt.setMaxStackSize(STACK_LIMIT);
  rt.setInterruptHandler(() => performance.now() > callDeadline);
  const vm: QuickJSContext = rt.newContext();
  const guarded = <T>(fn: () => T): T => {
    callDeadline = Math.min(performance.now() + CALL_LIMIT_MS, t0 + limitMs);
    try {
      return fn();
    } finally {
      callDeadline = Infinity;
    }
  };
  const handles: QuickJSHandle[] = [];
  try {
    const bridge = vm.newObject();
    handles.push(bridge);
    const setFunction = (fnName: string, fn: (...args: QuickJSHandle[]) => QuickJSHandle | void): void => {
      const h = vm.newFunction(fnName, fn);
      vm.setProp(bridge, fnName, h);
      h.dispose();
    };
    setFunction("now", () => vm.newNumber(clock()));
    setFunction("log", (level, text) => {
      const l = vm.getString(level);
      const t = vm.getString(text);
      if (l === "debug" && t.startsWith("weft:{")) {
        const message = JSON.parse(t.slice(5)) as ProgressMessage;
        if (message.event === "start") {
          progress.current = message.name;
          progress.registered = message.registered;
        } else {
          progress.current = undefined;
          progress.done.push(message.outcome);
        }
      } else if (l === "error" || l === "warn") {
        if (errorsSeen.length < 20) errorsSeen.push(`[console.${l}] ${readable(t)}`);
      }
    });
    setFunction("setTimer", (id, ms) => {
      timers.set(vm.getNumber(id), { due: turnStart + vm.getNumber(ms), seq: seq++ });
    });
    setFunction("clearTimer", (id) => {
      timers.delete(vm.getNumber(id));
    });
    // 32 bits from the embedder's random source, for the guest's crypto.getRandomValues.
    setFunction("random32", () => vm.newNumber(randomBytes(4).readUInt32LE(0)));
    vm.setProp(vm.global, "__weftHost", bridge);
    const skips = vm.newString(JSON.stringify(job.skipTests));
    vm.setProp(vm.global, "__weftSkipTestsJson", skips);
    skips.dispose();
    vm.unwrapResult(vm.evalCode("globalThis.__weftSkipTests = JSON.parse(globalThis.__weftSkipTestsJson);", "skips.js")).dispose();

    const evaluated = guarded(() => vm.evalCode(job.js, jsName));
    if (evaluated.error !== undefined) {
      fail(`${name}: evaluating the bundle failed: ${readable(JSON.stringify(vm.dump(evaluated.error)))}`);
      evaluated.error.dispose();
      return outcome;
    }
    evaluated.value.dispose();
    const fire = vm.getProp(vm.global, "__weftFireTimer");
    handles.push(fire);

    const resultNow = (): PageResult | undefined => {
      const h = vm.getProp(vm.global, "__weftResult");
      try {
        return vm.typeof(h) === "object" ? (vm.dump(h) as PageResult) : undefined;
      } finally {
        h.dispose();
      }
    };
    const runJobs = (): void => {
      const r = guarded(() => rt.executePendingJobs(-1));
      if (r.error !== undefined) {
        const dumped = vm.dump(r.error) as unknown;
        r.error.dispose();
        fail(`${name}: a promise job failed (or was interrupted at its time limit): ${readable(JSON.stringify(dumped))}`);
      } else r.dispose();
    };

    let result: PageResult | undefined;
    let stop: string | undefined;
    let lastYield = performance.now();
    for (;;) {
      // The jobs a timer callback queued belong to its turn (turnStart was set when it fired).
      runJobs();
      result = resultNow();
      if (result !== undefined) break;
      if (clock() > limitMs) {
        stop = `no result after ${limitMs} ms`;
        break;
      }
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await nodeTurn();
        lastYield = performance.now();
      }
      // The earliest due timer, ties in the order they were set; one at a time, jobs in between.
      let next: { id: number; due: number; seq: number } | undefined;
      for (const [id, t] of timers)
        if (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq)) next = { id, ...t };
      if (next === undefined) {
        if (rt.hasPendingJob()) continue;
        stop = "blocked forever: no promise job and no timer left, and the file has not finished";
        break;
      }
      const wait = next.due - clock();
      if (wait > 0) {
        await realSleep(Math.min(Math.ceil(wait), Math.max(1, limitMs - clock() + 1)));
        lastYield = performance.now();
        continue;
      }
      timers.delete(next.id);
      const id = vm.newNumber(next.id);
      try {
        turnStart = clock();
        const r = guarded(() => vm.callFunction(fire, vm.undefined, id));
        if (r.error !== undefined) {
          fail(`${name}: a timer callback failed: ${readable(JSON.stringify(vm.dump(r.error)))}`);
          r.error.dispose();
        } else r.value.dispose();
      } finally {
        id.dispose();
      }
    }

    if (result === undefined) {
      tally(outcome, name, progress.done, readable);
      const notRun = Math.max(0, progress.registered - progress.done.length - (progress.current === undefined ? 0 : 1));
      fail(
        `${name}: ${stop}; ` +
          (progress.current !== undefined ? `stuck in "${progress.current}"` : "no test was running") +
          (notRun > 0 ? `; ${notRun} more tests not run (counted as failed)` : ""),
      );
      outcome.failed += notRun;
    } else {
      const { globals } = result;
      if (globals.setImmediate !== "undefined" || globals.MessageChannel !== "undefined" || globals.process !== "undefined") {
        fail(
          `${name}: the guest is not a bare embedded engine (setImmediate: ${globals.setImmediate}, MessageChannel: ${globals.MessageChannel}, process: ${globals.process})`,
        );
      }
      if (result.loadError !== undefined) fail(`${name}: loading the file failed: ${readable(result.loadError)}`);
      if (result.registered === 0) fail(`${name}: the file registered no tests`);
      if (result.tests.length !== result.registered) fail(`${name}: ${result.registered} tests registered but ${result.tests.length} ran`);
      tally(outcome, name, result.tests, readable);
      for (const problem of result.afterAll) fail(`${name} (after its last test): ${readable(problem)}`);
    }
    if (outcome.failed > 0) outcome.lines.push(...errorsSeen.map((l) => `  ${l}`));
  } catch (error) {
    fail(`${name}: the embedder failed: ${errorText(error)}`);
  } finally {
    for (const h of handles) if (h.alive) h.dispose();
    try {
      vm.dispose();
      rt.dispose();
    } catch (error) {
      // A runtime left with live objects (a leak in the embedder, not a test failure) cannot be freed.
      outcome.lines.push(`  warning: disposing the runtime failed: ${errorText(error)}`);
    }
    outcome.ms = Math.round(clock());
  }
  return outcome;
}

function tally(outcome: FileOutcome, name: string, tests: readonly TestOutcome[], readable: (t: string) => string): void {
  for (const t of tests) {
    if (t.status === "pass") outcome.passed++;
    else if (t.status === "fail") {
      outcome.failed++;
      outcome.lines.push(`not ok ${name} › ${t.name}\n      ${readable(t.error ?? "(no message)").replace(/\n/g, "\n      ")}`);
    } else outcome.skipped++;
  }
}
