/**
 * The portable test files in headless Chromium (Debian's `/usr/bin/chromium`,
 * driven by playwright-core). In a browser there is no `setImmediate`, so
 * weft's event-loop driver takes its host turns through MessageChannel: that
 * is what this host exercises.
 *
 * Each test file is bundled by esbuild from its TypeScript source, with
 * `node:test`, `node:assert/strict` and `./unhandled_guard.ts` replaced by the
 * shims in `hosts/browser/`, and runs in a fresh page (its own realm, as Node
 * gives each file its own process). Files that need Node (child processes,
 * Node streams, …) are left out, and the list says why. A small `node:http`
 * server on 127.0.0.1 serves the pages from memory; Chromium resolves no
 * other host name. The weft/web tests talk to a weft server
 * (hosts/web_server.ts) on another port, whose URL each page gets as
 * `globalThis.__weftWebServer` before its test file loads.
 *
 * Usage: node dist/hosts/chromium.js [area/name_test.ts …]   (default: every portable file)
 * Environment: WEFT_CHROMIUM=/path/to/chromium (default /usr/bin/chromium).
 * The last line of output is `RESULT {"passed":N,"failed":M}`.
 */
import { createServer, type Server } from "node:http";
import { join, relative, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { type Bundle, type BundleTarget, bundleTestFile, type Esbuild, nodeNeeds, realRoot, shimDir } from "./bundling.ts";
import { finish, nodeOnlyTestFiles, portableTestFiles } from "./common.ts";
import { chromiumLaunchOptions, chromiumPath, listenOnLoopback, within } from "./launch.ts";
import type { PageProgress, PageResult, ProgressMessage, TestOutcome } from "./browser/page_harness.ts";
import { startWebTestServer, type WebTestServer } from "./web_server.ts";

const CHROMIUM = chromiumPath;
const RUN_BUDGET_MS = 420_000; // a safety net for the whole run: about 60 s on a quiet machine, 115 s (40 s of it starting the browser) with four busy loops on 2 cores
const FILE_TIMEOUT_MS = 60_000; // one page
const outDir = join(realRoot, "dist", "hosts", "chromium-bundles"); // only names the bundles: nothing is written
const target: BundleTarget = { harness: join(shimDir, "page_harness.ts"), format: "esm", target: "chrome120", outDir };

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/** Rewrites `http://127.0.0.1:port/x_test.js:L:C` in a stack to the TypeScript source position. */
function mapStack(text: string, bundles: Map<string, Bundle>): string {
  return text.replace(
    /http:\/\/127\.0\.0\.1:\d+\/([\w.-]+\/[\w.-]+\.js):(\d+):(\d+)/g,
    (whole, file: string, line: string, column: string) => {
      const map = bundles.get(file)?.map;
      const entry = map?.findEntry(Number(line) - 1, Number(column) - 1) as
        | { originalSource?: string; originalLine?: number; originalColumn?: number }
        | undefined;
      if (entry?.originalSource === undefined || entry.originalLine === undefined) return whole;
      const source = entry.originalSource;
      const shown = source.includes(":") ? source : relative(realRoot, resolve(outDir, source));
      return `${shown}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
    },
  );
}

/** `mapStack`, then without the frames of the harness, the shims and esbuild's glue: what is left points at the test. */
function readable(text: string, bundles: Map<string, Bundle>): string {
  return mapStack(text, bundles)
    .split("\n")
    .filter((line) => !/^\s+at .*(hosts\/browser\/|weft-entry:|http:\/\/127\.0\.0\.1:)/.test(line))
    .join("\n");
}

function serve(bundles: Map<string, Bundle>, webServer: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.slice(1);
    const page = /^([\w.-]+\/[\w.-]+)\.html$/.exec(path);
    if (page !== null && bundles.has(`${page[1]}.js`)) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(
        `<!doctype html><meta charset="utf-8"><title>weft: ${page[1]}.ts</title>` +
          // The weft server of the weft/web tests (another port: its answers allow any origin).
          `<script>globalThis.__weftWebServer = ${JSON.stringify(webServer)};</script>` +
          `<script type="module" src="/${page[1]}.js"></script>\n`,
      );
      return;
    }
    const js = bundles.get(path)?.js;
    if (js !== undefined) {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(js);
      return;
    }
    res.writeHead(path === "favicon.ico" ? 204 : 404);
    res.end();
  });
  return listenOnLoopback(server);
}

interface FileOutcome {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  lines: string[];
  ms: number;
}

/**
 * One tab, reused from file to file: each navigation gives the next file a
 * fresh document, so a fresh realm (globals, module instances, timers). A tab
 * whose file hung or crashed is thrown away and the next file gets a new one.
 */
class Tab {
  private page: Page | undefined;
  readonly consoleLines: string[] = [];
  /** The file's progress as its page reported it (still known when the page no longer answers). */
  progress: PageProgress = { current: undefined, done: [], registered: 0 };
  constructor(private readonly browser: Browser) {}

  reset(): void {
    this.consoleLines.length = 0;
    this.progress = { current: undefined, done: [], registered: 0 };
  }

  private onProgress(message: ProgressMessage): void {
    if (message.event === "start") {
      this.progress.current = message.name;
      this.progress.registered = message.registered;
    } else {
      this.progress.current = undefined;
      this.progress.done.push(message.outcome);
    }
  }

  async get(): Promise<Page> {
    if (this.page === undefined || this.page.isClosed()) {
      const page = await this.browser.newPage();
      page.on("console", (m) => {
        const text = m.type() === "debug" ? m.text() : "";
        if (text.startsWith("weft:{")) this.onProgress(JSON.parse(text.slice(5)) as ProgressMessage);
        else if (m.type() === "error" || m.type() === "warning") this.consoleLines.push(`[console.${m.type()}] ${m.text()}`);
      });
      page.on("pageerror", (e) => this.consoleLines.push(`[pageerror] ${e.message}`));
      this.page = page;
    }
    return this.page;
  }

  async discard(): Promise<void> {
    const page = this.page;
    this.page = undefined;
    if (page !== undefined) await within(page.close({ runBeforeUnload: false }), 10_000, undefined);
  }
}

async function runPage(tab: Tab, port: number, name: string, bundles: Map<string, Bundle>, timeoutMs: number): Promise<FileOutcome> {
  const base = name.replace(/\.ts$/, "");
  const outcome: FileOutcome = { name, passed: 0, failed: 0, skipped: 0, lines: [], ms: 0 };
  const t0 = Date.now();
  const fail = (line: string): void => {
    outcome.failed++;
    outcome.lines.push(line);
  };
  tab.reset();
  try {
    const page = await tab.get();
    await page.goto(`http://127.0.0.1:${port}/${base}.html`, { timeout: 15_000 });
    let result: PageResult | undefined;
    try {
      const handle = await page.waitForFunction(
        () =>
          window.__weftResult ?? (document.readyState === "complete" && window.__weftProgress === undefined ? "not started" : undefined),
        undefined,
        { timeout: timeoutMs, polling: 25 },
      );
      const value = (await handle.jsonValue()) as PageResult | "not started";
      await handle.dispose();
      if (value === "not started") fail(`${name}: the bundle did not start in the page`);
      else result = value;
    } catch (error) {
      // What the page said as it went (asking it now may get no answer: it may be stuck in a loop).
      const answer = (await within(
        page.evaluate(() => window.__weftProgress),
        2_000,
        undefined,
      )) as PageProgress | undefined;
      const progress = answer !== undefined && answer.done.length >= tab.progress.done.length ? answer : tab.progress;
      await tab.discard();
      tally(outcome, name, progress.done, bundles);
      const notRun = Math.max(0, progress.registered - progress.done.length - (progress.current === undefined ? 0 : 1));
      fail(
        `${name}: no result after ${timeoutMs} ms (${String((error as Error).message).split("\n")[0]}); ` +
          (progress.current !== undefined ? `stuck in "${progress.current}"` : "no test was running") +
          (answer === undefined ? "; the page no longer answers (a synchronous loop?)" : "") +
          (notRun > 0 ? `; ${notRun} more tests not run (counted as failed)` : ""),
      );
      outcome.failed += notRun;
    }
    if (result !== undefined) {
      const { globals } = result;
      if (globals.setImmediate !== "undefined" || globals.MessageChannel !== "function" || globals.process !== "undefined") {
        fail(
          `${name}: the page is not a plain browser (setImmediate: ${globals.setImmediate}, MessageChannel: ${globals.MessageChannel}, process: ${globals.process})`,
        );
      }
      if (result.loadError !== undefined) fail(`${name}: loading the file failed: ${readable(result.loadError, bundles)}`);
      if (result.registered === 0) fail(`${name}: the file registered no tests`);
      if (result.tests.length !== result.registered) fail(`${name}: ${result.registered} tests registered but ${result.tests.length} ran`);
      tally(outcome, name, result.tests, bundles);
      for (const problem of result.afterAll) fail(`${name} (after its last test): ${readable(problem, bundles)}`);
    }
  } catch (error) {
    await tab.discard();
    fail(`${name}: the page failed: ${(error as Error).message}`);
  }
  if (outcome.failed > 0 && tab.consoleLines.length > 0) {
    outcome.lines.push(
      `  console output of ${name}:`,
      ...tab.consoleLines.slice(0, 20).map((l) => `    ${readable(l, bundles).replace(/\n/g, "\n      ")}`),
    );
  }
  outcome.ms = Date.now() - t0;
  return outcome;
}

function tally(outcome: FileOutcome, name: string, tests: readonly TestOutcome[], bundles: Map<string, Bundle>): void {
  for (const t of tests) {
    if (t.status === "pass") outcome.passed++;
    else if (t.status === "fail") {
      outcome.failed++;
      const error = readable(t.error ?? "(no message)", bundles).replace(/\n/g, "\n      ");
      outcome.lines.push(`not ok ${name} › ${t.name}\n      ${error}`);
    } else outcome.skipped++;
  }
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const all = portableTestFiles();
  const files = requested.length === 0 ? all : requested.map((f) => f.replace(/^(\.\/)?test\//, ""));
  for (const f of files) {
    if (!all.includes(f)) {
      console.log(`chromium: "${f}" is not a portable test file (known: ${all.join(", ")})`);
      finish(0, 1);
    }
  }
  const excluded = nodeOnlyTestFiles();
  console.log(`chromium: ${CHROMIUM}, ${files.length} test files${requested.length === 0 ? ` (of ${all.length + excluded.length})` : ""}`);
  for (const f of excluded) {
    console.log(`  excluded ${f}: Node only (weft/node, or child Node processes)`);
  }

  let esbuild: Esbuild;
  let playwright: typeof import("playwright-core");
  try {
    esbuild = await import("esbuild");
    playwright = await import("playwright-core");
  } catch (error) {
    console.log(`chromium: cannot load esbuild or playwright-core: ${(error as Error).message}`);
    finish(0, 1);
  }

  // Bundle every file (esbuild runs them in parallel); sort out the ones that need Node.
  const bundles = new Map<string, Bundle>();
  const runnable: string[] = [];
  let failed = 0;
  let passed = 0;
  const built = await Promise.all(files.map(async (name) => ({ name, ...(await bundleTestFile(esbuild, name, target)) })));
  for (const b of built) {
    const needs = nodeNeeds(b.scan);
    if (needs.length > 0) {
      console.log(`  excluded ${b.name}: ${needs.join(", ")}`);
      continue;
    }
    if (b.error !== undefined || b.bundle === undefined) {
      failed++;
      console.log(`not ok ${b.name}: bundling failed:\n      ${(b.error ?? "unknown error").replace(/\n/g, "\n      ")}`);
      continue;
    }
    const shimmed = [...b.scan.aliased, ...b.scan.shimmed];
    if (shimmed.length > 0) console.log(`  ${b.name}: uses ${shimmed.join(", ")} from Node, given by hosts/browser/node_globals_shim.ts`);
    bundles.set(b.name.replace(/\.ts$/, ".js"), b.bundle);
    runnable.push(b.name);
  }
  await esbuild.stop();
  console.log(`chromium: bundled ${runnable.length} files in ${elapsed()}`);
  if (runnable.length === 0) {
    console.log("chromium: no test file to run");
    finish(0, Math.max(1, failed));
  }

  let server: Server | undefined;
  let browser: Browser | undefined;
  let webServer: WebTestServer | undefined;
  try {
    try {
      webServer = await startWebTestServer();
      server = await serve(bundles, webServer.url);
    } catch (error) {
      console.log(`chromium: cannot start the local HTTP server: ${(error as Error).message}`);
      finish(0, 1);
    }
    const port = (server.address() as AddressInfo).port;
    try {
      browser = await playwright.chromium.launch(chromiumLaunchOptions());
    } catch (error) {
      console.log(`chromium: the browser did not start: ${(error as Error).message.split("\n").slice(0, 6).join("\n")}`);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      finish(0, 1);
    }
    console.log(`chromium: ${browser.version()} started (${elapsed()}), serving on 127.0.0.1:${port}`);

    const tab = new Tab(browser);
    for (const name of runnable) {
      const left = RUN_BUDGET_MS - (Date.now() - started);
      if (left < 2_000) {
        failed++;
        console.log(`not ok ${name}: not run, the time budget of ${RUN_BUDGET_MS / 1000} s is used up`);
        continue;
      }
      const r = await runPage(tab, port, name, bundles, Math.min(FILE_TIMEOUT_MS, left));
      passed += r.passed;
      failed += r.failed;
      const skipped = r.skipped > 0 ? `, ${r.skipped} skipped` : "";
      console.log(
        `${r.failed === 0 ? "ok    " : "FAILED"} ${name}: ${r.passed} passed, ${r.failed} failed${skipped} (${(r.ms / 1000).toFixed(1)} s)`,
      );
      for (const line of r.lines) console.log(`  ${line}`);
    }
  } finally {
    await browser?.close().catch(() => {});
    if (server !== undefined) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await webServer?.stop();
  }
  console.log(`chromium: ${runnable.length} files, ${passed} passed, ${failed} failed (${elapsed()})`);
  finish(passed, failed);
}

main().catch((error: unknown) => {
  console.log(`chromium: the runner failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  finish(0, 1);
});
