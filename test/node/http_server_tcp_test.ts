/**
 * The weft/http server over real TCP, against real clients: `curl`
 * (keep-alive across two URLs, a chunked upload, `Expect: 100-continue`,
 * HEAD) and `node:http`'s client; graceful shutdown; and a slowloris
 * client cut by the headers timeout freeing its `maxConnections` slot.
 * Only outcomes a slow host cannot change are asserted.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request as nodeRequest, Agent } from "node:http";
import { connect } from "node:net";
import { call, run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { listenHttp, type HttpServer } from "../../src/http/server/server.ts";
import type { HttpHandler } from "../../src/http/server/connection.ts";
import { makeTestPki } from "./tls_support.ts";

const LIMIT = { timeout: 30_000 };

/** Runs `curl` with `args` (and `input` on its stdin); its stdout and stderr. */
function curl(args: string[], input?: string): Operation<{ stdout: string; stderr: string }> {
  return call(
    () =>
      new Promise((resolve, reject) => {
        const child = execFile("curl", ["-sS", "--max-time", "20", ...args], (error, stdout, stderr) => {
          if (error) reject(Object.assign(error, { stderr }));
          else resolve({ stdout, stderr });
        });
        child.stdin?.end(input ?? "");
      }),
  );
}

const echo: HttpHandler = function* (req, res) {
  if (req.method === "POST" || req.method === "PUT") {
    const body = yield* req.text();
    yield* res.end(`${req.method} ${req.target} ${body.length} ${body}`);
    return;
  }
  res.headers.set("content-type", "text/plain");
  yield* res.end(`hello ${req.target}`);
};

/** Serves `handler` on a fresh server while `body` runs; then cancels serving. */
function* serving(handler: HttpHandler, body: (server: HttpServer) => Operation<void>): Operation<void> {
  using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
  yield* withTaskGroup<void>(function* (group) {
    const task = group.spawn(() => server.serve(handler));
    yield* body(server);
    task.cancel();
  });
}

test("curl: two URLs in one curl share one kept-alive connection", LIMIT, async () => {
  await run(() =>
    serving(echo, function* (server) {
      const base = `http://127.0.0.1:${server.port}`;
      const { stdout } = yield* curl(["-w", " connects=%{num_connects}\n", `${base}/a`, `${base}/b`]);
      assert.equal(stdout, "hello /a connects=1\nhello /b connects=0\n");
    }),
  );
});

test("curl: a chunked upload from stdin is read whole by the handler", LIMIT, async () => {
  await run(() =>
    serving(echo, function* (server) {
      const data = "x".repeat(100_000);
      const { stdout } = yield* curl(
        ["-H", "Transfer-Encoding: chunked", "--data-binary", "@-", `http://127.0.0.1:${server.port}/up`],
        data,
      );
      assert.equal(stdout, `POST /up 100000 ${data}`);
    }),
  );
});

test("curl: Expect: 100-continue gets 100 Continue before the body, then the answer", LIMIT, async () => {
  await run(() =>
    serving(echo, function* (server) {
      const { stdout, stderr } = yield* curl(
        ["-v", "-H", "Expect: 100-continue", "--data-binary", "@-", `http://127.0.0.1:${server.port}/c`],
        "payload",
      );
      assert.match(stderr, /HTTP\/1\.1 100 Continue/);
      assert.equal(stdout, "POST /c 7 payload");
    }),
  );
});

/** Writes `request` on a new TCP connection and reads until the server closes it. */
function rawExchange(port: number, request: string): Operation<string> {
  return call(
    () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(request));
        let text = "";
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => (text += chunk));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      }),
  );
}

test("a chunked request's trailers over TCP (raw socket: curl cannot send them) reach req.trailers", LIMIT, async () => {
  await run(() =>
    serving(
      function* (req, res) {
        const before = req.trailers;
        const body = yield* req.text();
        yield* res.end(`${body}|${String(before)}|${JSON.stringify(req.trailers)}`);
      },
      function* (server) {
        const reply = yield* rawExchange(
          server.port,
          "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum, x-digest\r\nConnection: close\r\n\r\n" +
            "5\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 11\r\nX-Digest: sha-256=:abc=:\r\n\r\n",
        );
        assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(reply.endsWith('\r\n\r\nhello world|undefined|{"x-sum":"11","x-digest":"sha-256=:abc=:"}'), reply);
      },
    ),
  );
});

test("curl -I: HEAD gets the GET's headers (Content-Length included) and no body", LIMIT, async () => {
  await run(() =>
    serving(echo, function* (server) {
      const { stdout } = yield* curl(["-I", `http://127.0.0.1:${server.port}/h`]);
      assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(stdout, /content-length: 8\r\n/i);
      assert.match(stdout, /content-type: text\/plain\r\n/i);
      assert.ok(stdout.endsWith("\r\n\r\n"));
    }),
  );
});

test("node:http's client: keep-alive GETs and a POST over one agent", LIMIT, async () => {
  await run(() =>
    serving(echo, function* (server) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const ask = (method: string, path: string, body?: string) =>
        call(
          () =>
            new Promise<{ status: number; text: string; socket: unknown }>((resolve, reject) => {
              const req = nodeRequest({ host: "127.0.0.1", port: server.port, method, path, agent }, (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (text += chunk));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, text, socket: res.socket }));
                res.on("error", reject);
              });
              req.on("error", reject);
              req.end(body);
            }),
        );
      try {
        const a = yield* ask("GET", "/one");
        const b = yield* ask("GET", "/two");
        const c = yield* ask("POST", "/three", "data");
        assert.deepEqual([a.status, a.text, b.text, c.text], [200, "hello /one", "hello /two", "POST /three 4 data"]);
        assert.equal(a.socket, b.socket);
      } finally {
        agent.destroy();
      }
    }),
  );
});

test("shutdown: idle connections close, an in-flight request finishes with Connection: close, then shutdown returns", LIMIT, async () => {
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    let release = false;
    let slowStarted = false;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() =>
        server.serve(function* (req, res) {
          if (req.target === "/slow") {
            slowStarted = true;
            while (!release) yield* sleep(5);
          }
          yield* res.end(`done ${req.target}`);
        }),
      );
      // An idle kept-alive connection: one request answered, then nothing.
      const idle = yield* call(
        () =>
          new Promise<{ closed: Promise<void> }>((resolve) => {
            const socket = connect(server.port, "127.0.0.1", () => socket.write("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n"));
            const closed = new Promise<void>((done) => socket.on("close", () => done()));
            socket.once("data", () => resolve({ closed }));
            socket.on("error", () => {});
          }),
      );
      const slowAnswer = call(
        () =>
          new Promise<string>((resolve) => {
            const socket = connect(server.port, "127.0.0.1", () => socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
            let text = "";
            socket.on("data", (d) => (text += d.toString()));
            socket.on("close", () => resolve(text));
            socket.on("error", () => {});
          }),
      );
      const answer = group.spawn(() => slowAnswer);
      while (!slowStarted) yield* sleep(5);
      const stopping = group.spawn(() => server.shutdown({ gracePeriod: 20_000 }));
      yield* call(() => idle.closed);
      assert.equal(stopping.done, false);
      release = true;
      const text = yield* answer.wait();
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /connection: close\r\n/i);
      assert.ok(text.endsWith("done /slow"));
      yield* stopping.wait();
    });
  });
});

test(
  "slowloris: a client trickling its head is cut by the headers timeout with 408, and its maxConnections slot serves the next client",
  LIMIT,
  async () => {
    await run(function* () {
      using server = yield* listenHttp({ host: "127.0.0.1", port: 0, timeouts: { headers: 300 } });
      yield* withTaskGroup<void>(function* (group) {
        const serving = group.spawn(() => server.serve(echo, { maxConnections: 1 }));
        const slow = call(
          () =>
            new Promise<string>((resolve) => {
              const socket = connect(server.port, "127.0.0.1");
              let text = "";
              const timer = setInterval(() => socket.write("a"), 50);
              socket.write("GET / HTTP/1.1\r\nX-Slow: ");
              socket.on("data", (d) => (text += d.toString()));
              socket.on("close", () => {
                clearInterval(timer);
                resolve(text);
              });
              socket.on("error", () => {});
            }),
        );
        const cut = group.spawn(() => slow);
        yield* sleep(20);
        const { stdout } = yield* curl([`http://127.0.0.1:${server.port}/next`]);
        assert.equal(stdout, "hello /next");
        assert.match(yield* cut.wait(), /^HTTP\/1\.1 408 /);
        serving.cancel();
      });
    });
  },
);

test("listenHttp and serve validate their options with typed errors naming them", LIMIT, async () => {
  await run(function* () {
    const attempts: [() => Operation<unknown>, string, RegExp][] = [
      [() => listenHttp({ port: -1 }), "RangeError", /options\.port/],
      [() => listenHttp({ timeouts: { headers: 0 } }), "RangeError", /options\.timeouts\.headers/],
      [() => listenHttp({ timeouts: { keepAlive: "5" as unknown as number } }), "TypeError", /options\.timeouts\.keepAlive/],
      [() => listenHttp({ limits: { maxBodyDrain: -1 } }), "RangeError", /options\.limits\.maxBodyDrain/],
    ];
    for (const [attempt, kind, message] of attempts) {
      try {
        yield* attempt();
        assert.fail("expected an error");
      } catch (e) {
        assert.equal((e as Error).constructor.name, kind);
        assert.match((e as Error).message, message);
      }
    }
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    for (const [attempt, kind] of [
      [() => server.serve(null as unknown as HttpHandler), "TypeError"],
      [() => server.serve(echo, { maxConnections: 0 }), "RangeError"],
      [() => server.shutdown({ gracePeriod: -1 }), "RangeError"],
    ] as const) {
      try {
        yield* attempt();
        assert.fail("expected an error");
      } catch (e) {
        assert.equal((e as Error).constructor.name, kind);
      }
    }
  });
});

test("https: listenHttp with tls serves curl (verifying against the test CA), and req.url says https", LIMIT, async () => {
  const pki = makeTestPki();
  try {
    await run(function* () {
      using server = yield* listenHttp({ host: "127.0.0.1", port: 0, tls: { key: pki.server.key, cert: pki.server.cert } });
      yield* withTaskGroup<void>(function* (group) {
        const task = group.spawn(() =>
          server.serve(function* (req, res) {
            yield* res.end(`${req.url.protocol} ${req.target}`);
          }),
        );
        const { stdout } = yield* curl(["--cacert", pki.ca.certFile, `https://127.0.0.1:${server.port}/secure`]);
        assert.equal(stdout, "https: /secure");
        task.cancel();
      });
    });
  } finally {
    pki.remove();
  }
});

test("serveFetch over TCP: curl's upload streams into the Request and a streamed Response comes back chunked", LIMIT, async () => {
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() =>
        server.serveFetch(async (request) => {
          const text = await request.text();
          const parts = [`${request.method} `, `${text.length} `, text.slice(0, 5)];
          const stream = new ReadableStream<Uint8Array>({
            pull(controller) {
              const part = parts.shift();
              if (part === undefined) controller.close();
              else controller.enqueue(new TextEncoder().encode(part));
            },
          });
          return new Response(stream, { headers: { "x-weft": "fetch" } });
        }),
      );
      const { stdout, stderr } = yield* curl(["-v", "--data-binary", "@-", `http://127.0.0.1:${server.port}/f`], "y".repeat(50_000));
      assert.equal(stdout, "POST 50000 yyyyy");
      assert.match(stderr, /transfer-encoding: chunked/i);
      assert.match(stderr, /x-weft: fetch/i);
      task.cancel();
    });
  });
});

test("a TCP client that goes away mid-request cancels its handler, whose finally runs", LIMIT, async () => {
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    let started = false;
    let cleaned = false;
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() =>
        server.serve(function* () {
          started = true;
          try {
            yield* sleep(60_000);
          } finally {
            cleaned = true;
          }
        }),
      );
      const socket = connect(server.port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      socket.on("error", () => {});
      while (!started) yield* sleep(5);
      socket.destroy();
      while (!cleaned) yield* sleep(5);
      task.cancel();
    });
    assert.equal(cleaned, true);
  });
});

test("cancelling serve is a shutdown without grace: an in-flight handler is cancelled at once and its finally runs", LIMIT, async () => {
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    let started = false;
    let cleaned = false;
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() =>
        server.serve(function* () {
          started = true;
          try {
            yield* sleep(60_000);
          } finally {
            cleaned = true;
          }
        }),
      );
      const closed = call(
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(server.port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            socket.on("error", () => {});
            socket.on("close", () => resolve());
          }),
      );
      const peer = group.spawn(() => closed);
      while (!started) yield* sleep(5);
      task.cancel();
      yield* peer.wait();
      assert.equal(cleaned, true);
    });
  });
});
