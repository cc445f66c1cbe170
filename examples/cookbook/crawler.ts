/**
 * Recipe: a crawler with a concurrency limit, retries and Ctrl-C.
 *
 *   node dist/examples/cookbook/crawler.js [start-url] [--concurrency N]
 *
 * Follows the links of a site (same origin only), at most N requests at a
 * time (default 3). A request that fails with a network error, a timeout or a
 * 5xx status is retried with an exponential back-off; a 4xx is final. Ctrl-C
 * stops the crawl: the requests in progress are aborted, and the summary of
 * what was done is printed before the program ends. Without a start URL it
 * crawls a small demo site that it serves itself on 127.0.0.1.
 */
import process from "node:process";
import {
  Semaphore,
  call,
  isCancellationError,
  protectFromCancel,
  retry,
  withTaskGroup,
  withTimeout,
  type Operation,
} from "../../src/index.ts";
import { main } from "../../src/node.ts";
import { startDemoSite } from "./demo-site.ts";

/** A response whose status says the page is not there (or not for us). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    url: string,
  ) {
    super(`HTTP ${status} for ${url}`);
  }
}

/** What the crawl did so far; printed at the end however the crawl ends. */
interface Progress {
  crawled: number;
  failed: number;
  retries: number;
  abandoned: number;
}

/** Fetches one page's HTML, retrying what may work on a second try. */
function* fetchPage(url: string, progress: Progress): Operation<string> {
  let attempt = 0;
  return yield* retry(
    { kind: "exponentialDelay", initialMs: 100, factor: 2, maximumMs: 2000 },
    function* () {
      if (attempt++ > 0) progress.retries++;
      // One signal for the request *and* the body: a cancelled crawl stops
      // downloading at once instead of reading the rest of a big page.
      return yield* withTimeout(10_000, () =>
        call(async (signal) => {
          const response = await fetch(url, { signal });
          if (!response.ok) {
            await response.body?.cancel();
            throw new HttpError(response.status, url);
          }
          return response.text();
        }),
      );
    },
    { maxRetry: 3, fatalError: (error) => error instanceof HttpError && error.status < 500 },
  );
}

/** The same-origin links of a page, absolute, without their #fragment. */
function linksOf(html: string, base: URL): string[] {
  const links: string[] = [];
  for (const match of html.matchAll(/href="([^"]*)"/g)) {
    const link = new URL(match[1]!, base);
    link.hash = "";
    if (link.origin === base.origin) links.push(link.href);
  }
  return links;
}

function* crawl(start: URL, concurrency: number, progress: Progress): Operation<void> {
  const slots = new Semaphore(concurrency);
  const seen = new Set<string>([start.href]);
  const name = (url: string) => url.slice(start.origin.length);
  // Every page is a task of this group, so the crawl is over exactly when
  // the group returns, and Ctrl-C cancels every page at once.
  yield* withTaskGroup<void>(function* (group) {
    const visit = (url: string): void => {
      group.startSoon(function* () {
        // Tasks are cheap; the semaphore is what bounds the requests.
        yield* slots.acquire();
        let html: string;
        try {
          html = yield* fetchPage(url, progress);
        } catch (error) {
          // A page that fails is reported, not fatal; a cancellation must
          // go on up, or the crawl would not stop.
          if (isCancellationError(error)) {
            progress.abandoned++;
            throw error;
          }
          progress.failed++;
          console.log(`failed ${name(url)}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        } finally {
          slots.release();
        }
        progress.crawled++;
        const links = linksOf(html, new URL(url));
        console.log(`ok ${name(url)} (${links.length} link${links.length === 1 ? "" : "s"})`);
        for (const link of links) {
          if (seen.has(link)) continue;
          seen.add(link);
          visit(link);
        }
      });
    };
    visit(start.href);
  });
}

function summary(progress: Progress, interrupted: boolean): string {
  const counts = `${progress.crawled} pages crawled, ${progress.failed} failed, ${progress.retries} retries`;
  return interrupted ? `interrupted: ${counts}, ${progress.abandoned} requests abandoned` : `done: ${counts}`;
}

const args = process.argv.slice(2);
let concurrency = 3;
const flag = args.indexOf("--concurrency");
if (flag !== -1) {
  concurrency = Number(args[flag + 1]);
  args.splice(flag, 2);
}
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error("usage: crawler [start-url] [--concurrency N]");
  process.exit(2);
}

// main(): Ctrl-C (SIGINT) cancels this body; its finally blocks run, then the
// process ends by SIGINT (status 130 in a shell).
main(function* () {
  const site = args[0] === undefined ? yield* call(() => startDemoSite()) : undefined;
  const start = new URL(args[0] ?? site!.url);
  const progress: Progress = { crawled: 0, failed: 0, retries: 0, abandoned: 0 };
  let finished = false;
  try {
    yield* crawl(start, concurrency, progress);
    finished = true;
  } finally {
    // console.log never suspends, so it runs even in a cancelled task. Output
    // through a weft stream (`yield* stdout.write(…)`) would need
    // protectFromCancel here, as the site's shutdown does.
    console.log(summary(progress, !finished));
    if (site !== undefined) yield* protectFromCancel(() => call(() => site.close()));
  }
});
