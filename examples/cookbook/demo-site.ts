/**
 * A small web site on 127.0.0.1 for the crawler recipe to crawl: a few
 * linked pages, two that fail once with 503 before they work, one link to a
 * page that does not exist. Plain Node (node:http, promises), because it
 * stands for "some server out there"; the crawler is the weft part.
 *
 * It also keeps score of what the crawler did to it, so the tests can check
 * the crawler's manners: how many requests ran at once, and which requests
 * were abandoned by the client before their answer.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** The pages: path → the paths it links to. */
const PAGES: Record<string, string[]> = {
  "/": ["/guide", "/api", "/blog"],
  "/guide": ["/guide/start", "/guide/tasks", "/"],
  "/guide/start": ["/guide/tasks", "/missing"],
  "/guide/tasks": ["/guide"],
  "/api": ["/api/run", "/api/sleep"],
  "/api/run": [],
  "/api/sleep": ["/api/run"],
  "/blog": ["/blog/first", "/blog/second"],
  "/blog/first": ["/blog/second"],
  "/blog/second": ["/"],
};

/** Pages that answer 503 to their first request, as an overloaded server does. */
const FLAKY = new Set(["/api", "/blog/second"]);

/** What {@link startDemoSite} serves, and what it saw. */
export interface DemoSite {
  /** The site's root, `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Every path that has a page (not `/missing`). */
  readonly pages: readonly string[];
  /** How many requests each path got. */
  readonly requests: Map<string, number>;
  /** The most requests that were in progress at the same time. */
  readonly maxInFlight: number;
  /** Paths whose request the client gave up on before the answer (closed the connection). */
  readonly abandoned: string[];
  /** Resolves when a request for `path` has arrived. */
  requested(path: string): Promise<void>;
  /** Stops the server and drops its connections. */
  close(): Promise<void>;
}

/**
 * Starts the site on a free port of 127.0.0.1.
 *
 * @param options.hang paths that never answer (a stuck backend), to interrupt a crawl in the middle
 */
export async function startDemoSite(options: { hang?: readonly string[] } = {}): Promise<DemoSite> {
  const hang = new Set(options.hang ?? []);
  const requests = new Map<string, number>();
  const abandoned: string[] = [];
  const arrivals: { path: string; resolve: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const count = (requests.get(path) ?? 0) + 1;
    requests.set(path, count);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on("close", () => {
      inFlight--;
      if (!response.writableFinished) abandoned.push(path);
    });
    for (const waiter of arrivals.filter((w) => w.path === path)) {
      arrivals.splice(arrivals.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (hang.has(path)) return;
    const links = PAGES[path];
    if (links === undefined) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    } else if (FLAKY.has(path) && count === 1) {
      response.writeHead(503, { "content-type": "text/plain" }).end("busy, try again\n");
    } else {
      const body = links.map((link) => `<a href="${link}">${link}</a>`).join("\n");
      response.writeHead(200, { "content-type": "text/html" }).end(`<html><body><h1>${path}</h1>\n${body}\n</body></html>\n`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    pages: Object.keys(PAGES),
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    abandoned,
    requested: (path) =>
      (requests.get(path) ?? 0) > 0 ? Promise.resolve() : new Promise<void>((resolve) => arrivals.push({ path, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
