/**
 * weft on QuickJS compiled to WebAssembly: an embedded engine with no event
 * loop (no setTimeout, no console, no performance; promise jobs run only when
 * the embedder asks). This runner is the embedder, and runs two things:
 *
 * A. The portable test files (`test/<area>/*_test.ts`, as on Node, Bun, Deno
 *    and Chromium). Each is bundled by esbuild with the same shims as for
 *    Chromium (`hosts/bundling.ts`), plus `hosts/quickjs/guest_globals.ts`:
 *    the small globals an embedder gives (timers on the embedder's real
 *    clock, queueMicrotask as a QuickJS job, TextEncoder/TextDecoder,
 *    AbortController, EventTarget, console, performance.now). Each file gets
 *    a fresh QuickJS runtime; its tests run one after the other through
 *    `hosts/browser/page_harness.ts`, each with the harness's time limit,
 *    the file with a wall limit, and every call into the guest with the
 *    interrupt handler's limit. The embedder runs pending jobs, fires due
 *    timers one at a time (jobs in between), and sleeps for real until the
 *    next timer. weft finds no setImmediate and no MessageChannel there, so
 *    its event-loop driver takes host turns through setTimeout(0).
 *
 * B. The embedding-contract checks (`hosts/quickjs/embedding_checks.ts`):
 *    what a test file cannot script. One `createHost({ now, onWake })` in the
 *    guest, driven the way an embedder would: pump; pump again while tasks
 *    are ready; otherwise sleep (really) until the next timer deadline or the
 *    next scripted host callback, deliver the callbacks that are due, and
 *    pump again; with nothing ready, no timer and no callback to come, the
 *    tasks left are blocked forever and fail. The host clock is the real
 *    clock, read live on every `now()`; only the extra "idle" pump the
 *    embedder makes to check that an idle pump changes nothing runs with the
 *    clock held at its last reading.
 *
 * Run: `npx tsc -p . && node dist/hosts/quickjs.js [area/name_test.ts …]`
 * from the repository root (with file names, only those files and no checks).
 * Options: `--verbose` (a line per passing check too), `--trace` (every pump
 * and real sleep of B), `--lanes N` (test files, and checks, running at once,
 * default 4). The last line of output is `RESULT {"passed":N,"failed":M}`;
 * the exit code is 0 only if nothing failed.
 */
import { build } from "esbuild";
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from "quickjs-emscripten-core";
import { join } from "node:path";
import { quickjsVariant } from "./launch.ts";
import { finish, root } from "./common.ts";
import { runTestFiles } from "./quickjs/test_files.ts";

const scenariosEntry = join(root, "hosts", "quickjs", "embedding_checks.ts");

const verbose = process.argv.includes("--verbose");
/** Print every pump's report and every real sleep (`--trace`). */
const trace = process.argv.includes("--trace");
/** How many scenarios run at once (`--lanes N`). */
const LANES = ((): number => {
  const i = process.argv.indexOf("--lanes");
  const n = i >= 0 ? Number(process.argv[i + 1]) : 4;
  return Number.isInteger(n) && n >= 1 ? n : 4;
})();
/** Rounds per pump: small, so the "ready > 0 → pump again" path is exercised. */
const MAX_ROUNDS = 16;
/** The whole run must end within this much wall time. */
const WALL_LIMIT_MS = 60_000;
/** One call into the guest may run this long before the interrupt handler stops it. */
const CALL_LIMIT_MS = 5_000;
const MEMORY_LIMIT = 128 * 1024 * 1024;
const STACK_LIMIT = 2 * 1024 * 1024;
/** Iterations per warm-up task (see Embedder.begin). */
const WARM_UP_STEPS = 30;

interface Outcome {
  name: string;
  status: "running" | "passed" | "failed";
  error?: string;
}

interface GuestPumpReport {
  blocked: number;
  nextDeadline?: number;
  ready: number;
  finished: number;
  total: number;
  pumps: number;
}

/** A scripted host event: the guest asked for `deliver(key)` at `due` on the host clock. */
interface HostEvent {
  key: string;
  due: number;
  seq: number;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ""}`;
  return String(error);
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ── 1. bundle ──────────────────────────────────────────────────────────────

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [scenariosEntry],
    bundle: true,
    format: "iife",
    platform: "neutral",
    target: "es2020",
    write: false,
    logLevel: "silent",
    sourcemap: false,
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error("esbuild produced no output");
  return file.text;
}

// ── 2 and 3. the embedder ──────────────────────────────────────────────────

class Embedder {
  /** When the host clock was 0 (reset by begin()). */
  private t0 = performance.now();
  /** The last host-clock value the guest (or the embedder) read: the clock never goes back. */
  private lastRead = 0;
  /** Set while the clock is held still (the idle-pump check). */
  private frozenAt: number | undefined = undefined;
  /** onWake was called since the last pump began. */
  woken = false;
  inPump = false;
  events: HostEvent[] = [];
  private seq = 0;
  callDeadline = Infinity;
  guestLog: string[] = [];
  /** Problems the embedder itself saw (each one becomes a failing host check). */
  wakesDuringPump = 0;
  deliveriesWithoutWake: string[] = [];
  idlePumpChanges: string[] = [];
  jobErrors: string[] = [];
  jobsRun = 0;
  pumpCount = 0;
  delivered = 0;
  dropped = 0;
  realSleeps = 0;

  private readonly handles: QuickJSHandle[] = [];
  private readonly api: QuickJSHandle;
  private readonly pumpFn: QuickJSHandle;
  private readonly deliverFn: QuickJSHandle;
  private readonly resultsFn: QuickJSHandle;
  private readonly warmUpFn: QuickJSHandle;
  private readonly startFn: QuickJSHandle;

  constructor(
    readonly rt: QuickJSRuntime,
    readonly vm: QuickJSContext,
    code: string,
  ) {
    rt.setMemoryLimit(MEMORY_LIMIT);
    rt.setMaxStackSize(STACK_LIMIT);
    rt.setInterruptHandler(() => performance.now() > this.callDeadline);

    try {
      // The host API object the guest gets in start().
      const api = vm.newObject();
      this.handles.push(api);
      this.api = api;
      this.setFunction(api, "now", () => vm.newNumber(this.readClock()));
      this.setFunction(api, "wake", () => {
        this.woken = true;
        if (this.inPump) this.wakesDuringPump++;
      });
      this.setFunction(api, "log", (text) => {
        this.guestLog.push(vm.getString(text));
      });
      this.setFunction(api, "schedule", (key, afterMs) => {
        this.events.push({ key: vm.getString(key), due: this.readClock() + vm.getNumber(afterMs), seq: this.seq++ });
      });

      this.guarded(() => vm.unwrapResult(vm.evalCode(code, "weft-scenarios.js")).dispose());
      const entry = vm.getProp(vm.global, "weftScenarios");
      this.handles.push(entry);
      if (vm.typeof(entry) !== "object") throw new Error("the bundle did not install globalThis.weftScenarios");
      this.pumpFn = this.method(entry, "pump");
      this.deliverFn = this.method(entry, "deliver");
      this.resultsFn = this.method(entry, "results");
      this.warmUpFn = this.method(entry, "warmUp");
      this.startFn = this.method(entry, "start");
    } catch (error) {
      this.disposeHandles();
      throw error;
    }
  }

  private disposeHandles(): void {
    for (const h of this.handles.splice(0)) if (h.alive) h.dispose();
  }

  /**
   * Lets the engine settle, then starts the scenarios with the host clock at 0.
   * V8 first runs the QuickJS WebAssembly module on its baseline compiler and
   * swaps in optimised code for the hot functions a little later; the first
   * timer after that swap was seen to fire 70-130 ms late. A short warm-up in
   * the guest, then a few real sleeps, take that stall before the clock starts.
   */
  async begin(): Promise<void> {
    const warmStart = performance.now();
    const steps = this.vm.newNumber(WARM_UP_STEPS);
    try {
      this.call(this.warmUpFn, steps).dispose();
    } finally {
      steps.dispose();
    }
    if (verbose) console.log(`quickjs: warm-up took ${(performance.now() - warmStart).toFixed(0)} ms`);
    for (let i = 0; i < 10; i++) {
      const before = performance.now();
      await realSleep(2);
      const late = performance.now() - before - 2;
      if (verbose) console.log(`quickjs: settling, a 2 ms sleep took ${(late + 2).toFixed(1)} ms`);
      if (late < 5) break;
    }
    this.t0 = performance.now();
    this.lastRead = 0;
    const lanes = this.vm.newNumber(LANES);
    try {
      const total = this.call(this.startFn, this.api, lanes);
      if (verbose) console.log(`quickjs: ${this.vm.getNumber(total)} scenarios and checks registered`);
      total.dispose();
    } finally {
      lanes.dispose();
    }
  }

  private setFunction(target: QuickJSHandle, name: string, fn: (...args: QuickJSHandle[]) => QuickJSHandle | void): void {
    const handle = this.vm.newFunction(name, fn);
    this.vm.setProp(target, name, handle);
    handle.dispose();
  }

  private method(target: QuickJSHandle, name: string): QuickJSHandle {
    const handle = this.vm.getProp(target, name);
    this.handles.push(handle);
    if (this.vm.typeof(handle) !== "function") throw new Error(`weftScenarios.${name} is not a function`);
    return handle;
  }

  /** Runs guest code with the interrupt handler armed. */
  private guarded<T>(fn: () => T): T {
    this.callDeadline = performance.now() + CALL_LIMIT_MS;
    try {
      return fn();
    } finally {
      this.callDeadline = Infinity;
    }
  }

  private call(fn: QuickJSHandle, ...args: QuickJSHandle[]): QuickJSHandle {
    return this.guarded(() => this.vm.unwrapResult(this.vm.callFunction(fn, this.vm.undefined, ...args)));
  }

  realNow(): number {
    return performance.now() - this.t0;
  }

  /** The host clock: real time (or the held value), never earlier than a previous reading. */
  readClock(): number {
    const t = Math.max(this.frozenAt ?? this.realNow(), this.lastRead);
    this.lastRead = t;
    return t;
  }

  /** Runs the promise jobs the guest may have queued (weft's pump driver needs none). */
  runJobs(): void {
    const result = this.guarded(() => this.rt.executePendingJobs());
    if (result.error !== undefined) {
      const dumped: unknown = this.vm.dump(result.error);
      result.error.dispose();
      this.jobErrors.push(JSON.stringify(dumped));
    } else {
      this.jobsRun += result.value;
    }
  }

  pump(): GuestPumpReport {
    const began = this.realNow();
    const rounds = this.vm.newNumber(MAX_ROUNDS);
    this.woken = false;
    this.inPump = true;
    this.pumpCount++;
    let out: QuickJSHandle;
    try {
      out = this.call(this.pumpFn, rounds);
    } finally {
      this.inPump = false;
      rounds.dispose();
    }
    const text = this.vm.getString(out);
    out.dispose();
    this.runJobs();
    if (trace) console.log(`pump ${this.pumpCount} at ${began.toFixed(1)} took ${(this.realNow() - began).toFixed(1)} ms: ${text}`);
    return JSON.parse(text) as GuestPumpReport;
  }

  deliver(key: string, payload: string): boolean {
    const k = this.vm.newString(key);
    const p = this.vm.newString(payload);
    try {
      const out = this.call(this.deliverFn, k, p);
      const accepted = this.vm.dump(out) === true;
      out.dispose();
      return accepted;
    } finally {
      k.dispose();
      p.dispose();
    }
  }

  results(): Outcome[] {
    const out = this.call(this.resultsFn);
    const text = this.vm.getString(out);
    out.dispose();
    return JSON.parse(text) as Outcome[];
  }

  /** The earliest scripted event, if any. */
  nextEventDue(): number | undefined {
    let due: number | undefined;
    for (const e of this.events) if (due === undefined || e.due < due) due = e.due;
    return due;
  }

  /**
   * Delivers the events due at the current clock, earliest first (ties in
   * request order), but only those due before `timerDeadline`: a timer that
   * fell due first gets its pump first, so after a stall timers and host
   * callbacks still happen in the order of their due times.
   */
  deliverDue(timerDeadline: number | undefined): void {
    const t = this.readClock();
    const limit = timerDeadline ?? Infinity;
    const isDue = (e: HostEvent): boolean => e.due <= t && e.due < limit;
    const due = this.events.filter(isDue).sort((a, b) => a.due - b.due || a.seq - b.seq);
    if (due.length === 0) return;
    this.events = this.events.filter((e) => !isDue(e));
    for (const e of due) {
      const accepted = this.deliver(e.key, `payload:${e.key}`);
      if (accepted) {
        this.delivered++;
        // The callback made a task ready: the guest must have asked for a pump.
        if (!this.woken) this.deliveriesWithoutWake.push(e.key);
      } else {
        this.dropped++;
      }
    }
  }

  /** Drives the guest to the end. Returns why it stopped early, if it did. */
  async drive(): Promise<string | undefined> {
    for (;;) {
      if (this.realNow() > WALL_LIMIT_MS) return `did not finish within ${WALL_LIMIT_MS} ms`;
      const report = this.pump();
      if (report.finished === report.total) return undefined;
      if (report.ready > 0 || this.woken) continue;

      // Idle: a second pump with the clock held and no wake must change nothing.
      this.frozenAt = this.lastRead;
      let again: GuestPumpReport;
      try {
        again = this.pump();
      } finally {
        this.frozenAt = undefined;
      }
      const same =
        again.blocked === report.blocked &&
        again.ready === 0 &&
        again.nextDeadline === report.nextDeadline &&
        again.finished === report.finished;
      if (!same) this.idlePumpChanges.push(`${JSON.stringify(report)} then ${JSON.stringify(again)}`);
      if (again.finished === again.total) return undefined;
      if (again.ready > 0 || this.woken) continue;

      const deadline = again.nextDeadline;
      const eventDue = this.nextEventDue();
      if (deadline === undefined && eventDue === undefined) {
        return `blocked forever: ${again.blocked} task(s) blocked, no timer set and no host callback to come`;
      }
      const target = Math.min(deadline ?? Infinity, eventDue ?? Infinity);
      while (this.realNow() < target) {
        if (this.realNow() > WALL_LIMIT_MS) return `did not finish within ${WALL_LIMIT_MS} ms`;
        this.realSleeps++;
        const ms = Math.max(1, Math.ceil(target - this.realNow()));
        const before = this.realNow();
        await realSleep(ms);
        if (trace) console.log(`sleep ${ms} ms took ${(this.realNow() - before).toFixed(1)} ms`);
      }
      this.deliverDue(deadline);
    }
  }

  /** The embedder's own observations, as checks. */
  hostChecks(): Outcome[] {
    const checks: Outcome[] = [];
    const add = (name: string, problems: string[]): void => {
      checks.push(
        problems.length === 0
          ? { name: `[embedder] ${name}`, status: "passed" }
          : { name: `[embedder] ${name}`, status: "failed", error: problems.slice(0, 5).join("; ") },
      );
    };
    add("onWake is never called during a pump", this.wakesDuringPump > 0 ? [`${this.wakesDuringPump} call(s)`] : []);
    add(
      "a host callback that makes a task ready calls onWake before the next pump",
      this.deliveriesWithoutWake.map((k) => `no onWake after delivering ${k}`),
    );
    add("an idle pump (clock held, no wake) changes nothing", this.idlePumpChanges);
    add("the guest queues no failing promise jobs", this.jobErrors);
    add(
      "the scripted host callbacks were all delivered",
      this.delivered + this.dropped > 0 && this.events.length === 0
        ? []
        : [`delivered ${this.delivered}, dropped ${this.dropped}, still pending ${this.events.length}`],
    );
    add(
      "the guest saw no onWake during a pump either",
      this.guestLog.filter((l) => l.includes("onWake")),
    );
    return checks;
  }

  dispose(): string[] {
    const problems: string[] = [];
    this.disposeHandles();
    try {
      this.vm.dispose();
    } catch (error) {
      problems.push(`vm.dispose() failed: ${errorText(error)}`);
    }
    try {
      this.rt.dispose();
    } catch (error) {
      problems.push(`rt.dispose() failed: ${errorText(error)}`);
    }
    return problems;
  }
}

/** Bundles the scenarios, evaluates the bundle in a runtime of its own and starts the scenarios. */
async function startHost(QuickJS: QuickJSWASMModule): Promise<Embedder> {
  const code = await bundle();
  const rt = QuickJS.newRuntime();
  const vm = rt.newContext();
  let embedder: Embedder;
  try {
    embedder = new Embedder(rt, vm, code);
  } catch (error) {
    try {
      vm.dispose();
      rt.dispose();
    } catch {
      // The start failed part-way (handles may be left); the explanation matters more.
    }
    throw error;
  }
  try {
    await embedder.begin();
  } catch (error) {
    embedder.dispose();
    throw error;
  }
  return embedder;
}

/** Part B: the embedding-contract checks. */
async function runEmbeddingChecks(QuickJS: QuickJSWASMModule): Promise<{ passed: number; failed: number }> {
  const started = performance.now();
  let embedder: Embedder;
  try {
    embedder = await startHost(QuickJS);
  } catch (error) {
    console.log(`quickjs: the embedding checks could not start: ${errorText(error)}`);
    return { passed: 0, failed: 1 };
  }

  let stopReason: string | undefined;
  let outcomes: Outcome[] = [];
  try {
    stopReason = await embedder.drive();
    outcomes = embedder.results();
  } catch (error) {
    stopReason = `the guest failed: ${errorText(error)}`;
    try {
      outcomes = embedder.results();
    } catch {
      outcomes = [];
    }
  }
  if (stopReason !== undefined) {
    for (const o of outcomes) {
      if (o.status === "running") {
        o.status = "failed";
        o.error = stopReason;
      }
    }
    if (outcomes.length === 0) outcomes.push({ name: "[embedder] run the scenarios", status: "failed", error: stopReason });
  }
  outcomes.push(...embedder.hostChecks());
  const stats =
    `${LANES} lanes, ${embedder.pumpCount} pumps, ${embedder.realSleeps} real sleeps, ${embedder.delivered} host callbacks delivered ` +
    `(${embedder.dropped} dropped), ${embedder.jobsRun} promise jobs, ${Math.round(performance.now() - started)} ms`;
  for (const line of embedder.guestLog) console.log(`quickjs: guest: ${line}`);
  for (const line of embedder.dispose()) console.log(`quickjs: warning: ${line}`);

  let passed = 0;
  let failed = 0;
  for (const o of outcomes) {
    if (o.status === "passed") {
      passed++;
      if (verbose) console.log(`ok   ${o.name}`);
    } else {
      failed++;
      console.log(`FAIL ${o.name}\n     ${o.error ?? "(no error recorded)"}`);
    }
  }
  if (stopReason !== undefined) console.log(`quickjs: stopped early: ${stopReason}`);
  console.log(`quickjs: embedding checks: ${passed} passed, ${failed} failed (${stats})`);
  return { passed, failed };
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--lanes");
  let QuickJS: QuickJSWASMModule;
  try {
    QuickJS = await newQuickJSWASMModuleFromVariant(quickjsVariant());
  } catch (error) {
    console.log(`quickjs: the engine could not load: ${errorText(error)}`);
    finish(0, 1);
  }
  // The checks first and alone: their deadlines are on the real clock, and other lanes would delay them.
  const checks = requested.length === 0 ? await runEmbeddingChecks(QuickJS) : { passed: 0, failed: 0 };
  const files = await runTestFiles(requested, LANES);
  finish(checks.passed + files.passed, checks.failed + files.failed);
}

await main();
