/**
 * Runs one test file inside a Chromium page (or a QuickJS context). The Chromium host bundles, per
 * test file, an entry that calls `runFile(name, () => import(file))`: the
 * file registers its tests through the `node:test` shim, then they run one
 * after the other, each with a timeout. Problems the unhandled-rejection
 * guard saw while a test ran (or just after) fail that test. The outcome is
 * left in `window.__weftResult` for the host to read. Progress goes out as
 * `console.debug` messages starting with `weft:` (and in
 * `window.__weftProgress`), so the host knows how far a file got even if the
 * page stops answering.
 */
import { formatValue } from "./assert_shim.ts";
import { registeredTests } from "./node_test_shim.ts";
import { takeProblems } from "./unhandled_guard_browser.ts";

/** One test's outcome. */
export interface TestOutcome {
  name: string;
  status: "pass" | "fail" | "skip" | "todo";
  ms: number;
  error?: string;
}

/** What a page reports for its test file. */
export interface PageResult {
  file: string;
  /** The file could not be loaded (an error while its module was evaluated). */
  loadError?: string;
  registered: number;
  tests: TestOutcome[];
  /** Problems seen after the last test ended (an unhandled rejection, an uncaught exception). */
  afterAll: string[];
  /** What the page offers weft's event-loop driver (it must pick MessageChannel here). */
  globals: { setImmediate: string; MessageChannel: string; process: string; queueMicrotask: string };
  ms: number;
}

/** A progress message, sent as `console.debug("weft:" + JSON.stringify(message))`. */
export type ProgressMessage = { event: "start"; name: string; registered: number } | { event: "end"; outcome: TestOutcome };

function report(message: ProgressMessage): void {
  console.debug(`weft:${JSON.stringify(message)}`);
}

/** Progress while the file runs. */
export interface PageProgress {
  current: string | undefined;
  done: TestOutcome[];
  registered: number;
}

declare global {
  interface Window {
    __weftResult?: PageResult;
    __weftProgress?: PageProgress;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const head = `${error.name}: ${error.message}`;
    const frames =
      typeof error.stack === "string"
        ? error.stack
            .split("\n")
            .filter((l) => /^\s+at /.test(l))
            .slice(0, 4)
        : [];
    return frames.length === 0 ? head : `${head}\n${frames.join("\n")}`;
  }
  return `thrown value: ${formatValue(error)}`;
}

/** A macrotask later (and one more), so events queued by the test (unhandledrejection) have fired. */
function settle(): Promise<void> {
  return new Promise<void>((resolve) => {
    // An embedded engine (QuickJS) has timers from its embedder but no MessageChannel.
    if (typeof MessageChannel !== "function") {
      setTimeout(() => setTimeout(resolve, 0), 0);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      setTimeout(resolve, 0);
    };
    channel.port2.postMessage(undefined);
  });
}

async function runOne(
  name: string,
  fn: (t: { name: string; signal: AbortSignal; diagnostic(m: string): void }) => unknown,
  timeoutMs: number,
): Promise<void> {
  if (fn.length >= 2) throw new Error("callback-style tests (t, done) are not supported by the browser node:test shim");
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`test timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const context = { name, signal: controller.signal, diagnostic: (m: string) => console.log(`# ${name}: ${m}`) };
    await Promise.race([Promise.resolve().then(() => fn(context)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Loads a test file, runs its tests and publishes the result. */
export async function runFile(file: string, load: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  const progress: PageProgress = { current: undefined, done: [], registered: 0 };
  // globalThis rather than window: the QuickJS host runs this harness too, and has no window.
  const published = globalThis as { __weftProgress?: PageProgress; __weftResult?: PageResult };
  published.__weftProgress = progress;
  const g = globalThis as Record<string, unknown>;
  const result: PageResult = {
    file,
    registered: 0,
    tests: progress.done,
    afterAll: [],
    globals: {
      setImmediate: typeof g.setImmediate,
      MessageChannel: typeof g.MessageChannel,
      process: typeof g.process,
      queueMicrotask: typeof g.queueMicrotask,
    },
    ms: 0,
  };
  try {
    await load();
  } catch (error) {
    result.loadError = describeError(error);
  }
  const tests = registeredTests();
  // Tests the host runner leaves out (by name, with the reason), set before the bundle runs.
  const hostSkips = (globalThis as { __weftSkipTests?: Record<string, string> }).__weftSkipTests ?? {};
  // Tests may register more tests while running; the loop picks them up.
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i]!;
    progress.registered = tests.length;
    progress.current = t.name;
    report({ event: "start", name: t.name, registered: tests.length });
    const outcome: TestOutcome = { name: t.name, status: "pass", ms: 0 };
    // A name stands for the test itself and for its copies per driver ("name [virtual time]", …).
    const hostSkip = hostSkips[t.name] ?? hostSkips[t.name.replace(/ \[[^\]]+\]$/, "")];
    if (hostSkip !== undefined) {
      outcome.status = "skip";
      outcome.error = `left out on this host: ${hostSkip}`;
    } else if (t.skip !== false || t.todo !== false) {
      outcome.status = t.skip !== false ? "skip" : "todo";
    } else {
      const start = performance.now();
      try {
        await runOne(t.name, t.fn, t.timeout ?? DEFAULT_TIMEOUT_MS);
      } catch (error) {
        outcome.status = "fail";
        outcome.error = describeError(error);
      }
      outcome.ms = Math.round(performance.now() - start);
      await settle();
      const problems = takeProblems();
      if (problems.length > 0) {
        outcome.status = "fail";
        outcome.error = [outcome.error, ...problems].filter((x) => x !== undefined).join("\n");
      }
    }
    progress.done.push(outcome);
    report({ event: "end", outcome });
  }
  progress.current = undefined;
  result.registered = tests.length;
  // Late problems: give pending rejections a moment to be reported.
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
  await settle();
  result.afterAll = takeProblems();
  result.ms = Math.round(performance.now() - started);
  published.__weftResult = result;
}
