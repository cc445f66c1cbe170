/**
 * The cookbook's recipes (docs/cookbook.md) run as the programs they are
 * (`node dist/examples/cookbook/<name>.js`) against local servers and
 * clients, and do what the cookbook says they do.
 */
import { after, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startDemoSite, type DemoSite } from "../../examples/cookbook/demo-site.ts";
import { eventually, isGone, startNode, type Started } from "./child.ts";

const recipe = (name: string): string => fileURLToPath(new URL(`../../examples/cookbook/${name}.js`, import.meta.url));

const sites: DemoSite[] = [];
after(async () => {
  for (const site of sites) await site.close();
});

async function site(options: { hang?: string[] } = {}): Promise<DemoSite> {
  const started = await startDemoSite(options);
  sites.push(started);
  return started;
}

/** Waits until the child has printed a line matching `pattern`; returns the match. */
async function printed(child: Started, pattern: RegExp): Promise<RegExpExecArray> {
  const find = () =>
    child.stdout
      .split("\n")
      .map((line) => pattern.exec(line))
      .find((match) => match !== null);
  const ended = child.done.then(() => "ended" as const);
  while (find() === undefined) {
    const race = await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 20))]);
    if (race === "ended" && find() === undefined) {
      throw new Error(`the child ended without printing ${pattern}\nstdout:\n${child.stdout}\nstderr:\n${child.stderr}`);
    }
  }
  return find()!;
}

/** A line-based TCP client for the server recipes. */
class LineClient {
  readonly socket: net.Socket;
  readonly #lines: string[] = [];
  readonly #waiters: ((line: string | undefined) => void)[] = [];
  #buffer = "";
  #ended = false;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      for (let i = this.#buffer.indexOf("\n"); i !== -1; i = this.#buffer.indexOf("\n")) {
        this.#push(this.#buffer.slice(0, i));
        this.#buffer = this.#buffer.slice(i + 1);
      }
    });
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.on("end", () => {
      this.#ended = true;
      for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    });
    this.socket.on("error", () => {});
  }

  #push(line: string): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#lines.push(line);
    else waiter(line);
  }

  /** The next line from the server, or undefined at end of stream. */
  next(): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined || this.#ended) return Promise.resolve(line);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }
}

/** Whether a TCP connection to 127.0.0.1:port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

// ---- the crawler

test("crawler: with no URL it crawls its demo site, retries the pages that fail once and reports the 404", {
  timeout: 30_000,
}, async () => {
  const done = await startNode(recipe("crawler")).done;
  assert.equal(done.code, 0, done.stderr);
  const lines = done.stdout.trim().split("\n");
  assert.equal(lines.at(-1), "done: 10 pages crawled, 1 failed, 2 retries");
  assert.equal(lines.filter((line) => line.startsWith("ok ")).length, 10);
  assert.ok(lines.some((line) => line.startsWith("failed /missing: HTTP 404 ")));
});

test("crawler: never has more requests in flight than --concurrency, retries 5xx but not 404", { timeout: 30_000 }, async () => {
  const target = await site();
  const done = await startNode(recipe("crawler"), [target.url, "--concurrency", "2"]).done;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(target.maxInFlight <= 2, `${target.maxInFlight} requests at once`);
  for (const page of target.pages) assert.ok(target.requests.has(page), `${page} was not crawled`);
  assert.equal(target.requests.get("/api"), 2);
  assert.equal(target.requests.get("/blog/second"), 2);
  assert.equal(target.requests.get("/guide"), 1);
  assert.equal(target.requests.get("/missing"), 1);
  assert.equal(done.stdout.trim().split("\n").at(-1), "done: 10 pages crawled, 1 failed, 2 retries");
});

test("crawler: Ctrl-C mid-crawl aborts the requests in flight, prints the summary and ends by SIGINT", { timeout: 30_000 }, async () => {
  // /blog/first never answers, so the crawl is certainly unfinished when the signal comes.
  const target = await site({ hang: ["/blog/first"] });
  const child = startNode(recipe("crawler"), [target.url]);
  await target.requested("/blog/first");
  child.child.kill("SIGINT");
  const done = await child.done;
  assert.equal(done.signal, "SIGINT", `code ${done.code}\n${done.stderr}`);
  const last = done.stdout.trim().split("\n").at(-1)!;
  const match = /^interrupted: (\d+) pages crawled, (\d+) failed, (\d+) retries, (\d+) requests abandoned$/.exec(last);
  assert.ok(match, last);
  assert.ok(Number(match[4]) >= 1, last);
  // The hanging request was not left open: the client went away.
  assert.ok(await eventually(() => target.abandoned.includes("/blog/first")), "the request for /blog/first was never abandoned");
});

// ---- the job runner

test("job-runner: at the global timeout every job's process group is gone, even a child that ignores SIGTERM", {
  timeout: 30_000,
}, async () => {
  const child = startNode(recipe("job-runner"), [
    "--parallel",
    "2",
    "--timeout",
    "8000",
    "--grace",
    "300",
    "--",
    'trap "" TERM; sleep 60',
    'sleep 60 & echo "grandchild $!"; wait',
    "echo never started",
  ]);
  const done = await child.done;
  assert.equal(done.code, 124, done.stderr);
  const pids = [...done.stdout.matchAll(/started, pid (\d+)|grandchild (\d+)/g)].map((m) => Number(m[1] ?? m[2]));
  assert.equal(pids.length, 3, done.stdout);
  assert.ok(await eventually(() => pids.every(isGone)), `still running: ${pids.filter((pid) => !isGone(pid)).join(", ")}`);
  assert.ok(!done.stdout.includes("never started\n"), "the third job started");
  assert.match(done.stdout, /^timed out after 8000 ms: 2 jobs stopped, 1 never started, 0 failed$/m);
});

test("job-runner: without a timeout it runs every job and counts the failures", { timeout: 30_000 }, async () => {
  const done = await startNode(recipe("job-runner"), ["--", "echo one", "exit 3", "echo three"]).done;
  assert.equal(done.code, 1, done.stderr);
  assert.match(done.stdout, /^one$/m);
  assert.match(done.stdout, /^three$/m);
  assert.match(done.stdout, /^\[job 2\] exited with 3$/m);
  assert.equal(done.stdout.trim().split("\n").at(-1), "all 3 jobs finished, 1 failed");
});

// ---- the chat server

test("chat-server: three clients each hear the others' lines and joins and leaves, never their own", { timeout: 30_000 }, async () => {
  const server = startNode(recipe("chat-server"));
  try {
    const port = Number((await printed(server, /^chat server on 127\.0\.0\.1:(\d+)$/))[1]);
    const join = async (name: string, others: number) => {
      const client = new LineClient(port);
      assert.equal(await client.next(), "your name?");
      client.send(name);
      assert.equal(await client.next(), `welcome ${name}, ${others} others here`);
      return client;
    };
    const alice = await join("alice", 0);
    const bob = await join("bob", 1);
    assert.equal(await alice.next(), "* bob joined");
    const carol = await join("carol", 2);
    assert.equal(await alice.next(), "* carol joined");
    assert.equal(await bob.next(), "* carol joined");

    alice.send("hello everyone");
    assert.equal(await bob.next(), "alice: hello everyone");
    assert.equal(await carol.next(), "alice: hello everyone");
    carol.send("hi alice");
    // alice's next line is carol's: her own line did not come back to her.
    assert.equal(await alice.next(), "carol: hi alice");
    assert.equal(await bob.next(), "carol: hi alice");

    bob.socket.end();
    await bob.closed;
    assert.equal(await alice.next(), "* bob left");
    assert.equal(await carol.next(), "* bob left");
    alice.socket.end();
    carol.socket.end();
    await Promise.all([alice.closed, carol.closed]);
  } finally {
    server.child.kill("SIGTERM");
  }
  assert.equal((await server.done).signal, "SIGTERM");
});

// ---- graceful shutdown

test("graceful-shutdown: on SIGTERM it refuses new clients, serves open ones, and closes the rest after the grace period", {
  timeout: 30_000,
}, async () => {
  const server = startNode(recipe("graceful-shutdown"), ["0", "--grace", "8000"]);
  const port = Number((await printed(server, /^listening on 127\.0\.0\.1:(\d+)$/))[1]);
  const polite = new LineClient(port);
  const idle = new LineClient(port);
  polite.send("one");
  idle.send("one");
  assert.equal(await polite.next(), "ok one");
  assert.equal(await idle.next(), "ok one");

  server.child.kill("SIGTERM");
  await printed(server, /^SIGTERM: no new connections; 2 open, grace period 8000 ms$/);
  assert.ok(await refused(port), "a new connection was accepted after SIGTERM");
  // An open connection is still served until its client ends it.
  polite.send("two");
  assert.equal(await polite.next(), "ok two");
  polite.socket.end();
  assert.equal(await polite.next(), undefined);
  // The idle one is closed when the grace period is over, with a goodbye.
  assert.equal(await idle.next(), "server shutting down, bye");
  assert.equal(await idle.next(), undefined);

  const done = await server.done;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /^grace period over: closing 1 connection$/m);
  assert.equal(done.stdout.trim().split("\n").at(-1), "stopped");
});

test("graceful-shutdown: exits as soon as the last open connection ends, without waiting out the grace period", {
  timeout: 30_000,
}, async () => {
  // A grace period far beyond the test's time limit: the test passes only if it is not waited out.
  const server = startNode(recipe("graceful-shutdown"), ["0", "--grace", "600000"]);
  const port = Number((await printed(server, /^listening on 127\.0\.0\.1:(\d+)$/))[1]);
  const client = new LineClient(port);
  client.send("work");
  assert.equal(await client.next(), "ok work");
  server.child.kill("SIGTERM");
  await printed(server, /^SIGTERM: no new connections; 1 open/);
  client.socket.end();
  const done = await server.done;
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(done.stdout.trim().split("\n").slice(-2), ["every connection ended by itself", "stopped"]);
});

// ---- testing with virtual time

test("retry-client-test: the virtual-time tests of the retrying client pass", { timeout: 30_000 }, async () => {
  const env = { ...process.env };
  delete env["NODE_TEST_CONTEXT"];
  delete env["NODE_OPTIONS"];
  const { stdout } = await promisify(execFile)(process.execPath, ["--test", "--test-reporter=tap", recipe("retry-client-test")], { env });
  assert.match(stdout, /^# pass 3$/m);
  assert.match(stdout, /^# fail 0$/m);
});
