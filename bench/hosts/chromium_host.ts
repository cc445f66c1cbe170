/**
 * Headless Chromium (Debian's, through playwright-core): one browser for the
 * run, a fresh browser context (its own process-isolated page and realm) per
 * cell; with `--quick`, a fresh page (a fresh realm) in one shared context. The cell code is an esbuild bundle per peer, served from memory on
 * 127.0.0.1.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromiumLaunchOptions, listenOnLoopback, within } from "../../hosts/launch.ts";
import { peers } from "../catalog.ts";
import type { CellOutcome, CellSpec } from "../measure.ts";
import { bundleError, bundlePeer } from "./bundle.ts";
import type { BenchHost, HostStart } from "./bench_host.ts";

/** Serves `/<peer>.html` (a page loading `/<peer>.js`) and the peer's bundle. */
function serve(bundles: Map<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.slice(1);
    const html = /^(.+)\.html$/.exec(path);
    const js = /^(.+)\.js$/.exec(path);
    if (html !== null && bundles.has(html[1]!)) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><meta charset="utf-8"><title>weft bench</title><script type="module" src="/${html[1]}.js"></script>\n`);
    } else if (js !== null && bundles.has(js[1]!)) {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(bundles.get(js[1]!));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return listenOnLoopback(server);
}

export class ChromiumHost implements BenchHost {
  readonly id = "chromium" as const;
  private browser: Browser | undefined;
  private server: Server | undefined;
  private url = "";
  private shared: BrowserContext | undefined;
  /** `sharedContext`: a fresh page per cell in one context (quicker) instead of a fresh context. */
  constructor(private readonly sharedContext = false) {}

  async start(): Promise<HostStart> {
    const bundles = new Map<string, string>();
    try {
      for (const peer of peers) bundles.set(peer, await bundlePeer(peer, "browser"));
    } catch (error) {
      return { unavailable: `bundling the cell code failed: ${bundleError(error)}` };
    }
    try {
      const { chromium } = await import("playwright-core");
      this.browser = await chromium.launch(chromiumLaunchOptions());
    } catch (error) {
      return { unavailable: `the browser did not start: ${(error as Error).message.split("\n")[0]}` };
    }
    this.server = await serve(bundles);
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return { version: `Chromium ${this.browser.version()}` };
  }

  async runCell(spec: CellSpec, timeoutMs: number): Promise<CellOutcome> {
    const context = this.sharedContext ? (this.shared ??= await this.browser!.newContext()) : await this.browser!.newContext();
    let tab: Page | undefined;
    try {
      tab = await context.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(e.message));
      await tab.goto(`${this.url}${spec.peer}.html`, { timeout: 15_000 });
      await tab.waitForFunction(() => typeof window.__weftBench === "function", undefined, { timeout: 15_000 });
      const outcome = tab
        .evaluate((s) => window.__weftBench!(s), spec)
        .catch(
          (error: unknown): CellOutcome => ({ status: "failed", error: `the page failed: ${(error as Error).message.split("\n")[0]}` }),
        );
      const timedOut: CellOutcome = { status: "failed", error: `no result after ${timeoutMs} ms` };
      const result = await within(outcome, timeoutMs, timedOut);
      if (result.status === "failed" && errors.length > 0) result.error += ` (page errors: ${errors.slice(0, 3).join("; ")})`;
      return result;
    } catch (error) {
      return { status: "failed", error: `the page failed: ${(error as Error).message.split("\n")[0]}` };
    } finally {
      await within(this.sharedContext ? (tab?.close() ?? Promise.resolve()) : context.close(), 10_000, undefined);
    }
  }

  async close(): Promise<void> {
    await this.browser?.close().catch(() => {});
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
