/**
 * The weft/http server's connection loop over in-memory pipes, under
 * virtual time: keep-alive, pipelining, framing of responses, failures,
 * client disconnects, 100-continue, draining, timeouts, upgrade and the
 * fetch adapter. Every ordering and every deadline here is exact.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { now, sleep, withTaskGroup } from "../../src/index.ts";
import { serveHttpConnection, type HttpHandler } from "../../src/http/server/connection.ts";
import { fetchHandler } from "../../src/http/server/fetch.ts";
import { runVirtual } from "../../src/testing.ts";
import { HttpBodyTooLarge } from "../../src/http.ts";
import { ReadLimitExceeded } from "../../src/io.ts";
import { duplexPair, RawClient, served, serverConfig } from "./http_support.ts";

const LIMIT = { timeout: 30_000 };
const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

/** Serves one pipe connection with `handler` while `client` talks to it; returns when both are done. */
const hello: HttpHandler = function* (req, res) {
  yield* res.end(`hello ${req.target}`);
};

test("keep-alive: two requests on one connection are both answered, each with its Content-Length", LIMIT, async () => {
  await runVirtual(() =>
    served(hello, function* (c) {
      yield* c.send(GET("/a"));
      const a = yield* c.response();
      yield* c.send(GET("/b"));
      const b = yield* c.response();
      assert.equal(a?.body, "hello /a");
      assert.equal(a?.head.headers.get("content-length"), "8");
      assert.equal(a?.head.headers.get("connection"), undefined);
      assert.equal(a?.head.headers.get("keep-alive"), "timeout=5");
      assert.equal(b?.body, "hello /b");
    }),
  );
});

test("pipelining: requests sent in one write are answered in order, none lost", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        if (req.target === "/slow") yield* sleep(100);
        yield* res.end(req.target);
      },
      function* (c) {
        yield* c.send(GET("/slow") + GET("/2") + GET("/3"));
        const bodies = [];
        for (let i = 0; i < 3; i++) bodies.push((yield* c.response())?.body);
        assert.deepEqual(bodies, ["/slow", "/2", "/3"]);
      },
    ),
  );
});

test("a streamed response is chunked; HEAD gets the head without a body; 204 has no body", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        if (req.target === "/204") return yield* res.send(204);
        yield* res.write("part1,");
        yield* res.end("part2");
      },
      function* (c) {
        yield* c.send(GET("/stream"));
        const streamed = yield* c.response();
        assert.equal(streamed?.head.headers.get("transfer-encoding"), "chunked");
        assert.equal(streamed?.body, "part1,part2");
        yield* c.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n");
        const head = yield* c.response("HEAD");
        assert.equal(head?.status, 200);
        assert.equal(head?.body, "");
        yield* c.send(GET("/204"));
        const none = yield* c.response();
        assert.equal(none?.status, 204);
        assert.equal(none?.head.headers.get("content-length"), undefined);
        yield* c.send(GET("/after"));
        assert.equal((yield* c.response())?.body, "part1,part2");
      },
    ),
  );
});

test("HTTP/1.0: a streamed response is delimited by closing the connection", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (_req, res) {
        yield* res.write("a");
        yield* res.end("b");
      },
      function* (c) {
        yield* c.send("GET / HTTP/1.0\r\n\r\n");
        const r = yield* c.response();
        assert.equal(r?.head.headers.get("connection"), "close");
        assert.equal(r?.body, "ab");
      },
    ),
  );
});

test("HTTP/1.0 with Connection: keep-alive stays open when the length is known", LIMIT, async () => {
  await runVirtual(() =>
    served(hello, function* (c) {
      yield* c.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const r = yield* c.response();
      assert.equal(r?.head.headers.get("connection"), "keep-alive");
      yield* c.send("GET /2 HTTP/1.0\r\n\r\n");
      const r2 = yield* c.response();
      assert.equal(r2?.body, "hello /2");
      assert.equal(yield* c.atEnd(), true);
    }),
  );
});

for (const [name, request, status] of [
  ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
  ["two different Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400],
  ["a negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400],
  ["a missing Host on HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400],
  ["a doubled Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400],
  ["a bare LF inside a header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400],
  ["an unknown transfer coding before chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
  ["a transfer coding list that does not end in chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400],
  ["a request line over 8 KiB", `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
  ["a header block over 16 KiB", `GET / HTTP/1.1\r\nHost: x\r\nX-A: ${"a".repeat(17000)}\r\n\r\n`, 431],
  ["HTTP/2.0 in the request line", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
] as const) {
  test(`hostile input: ${name} is answered ${status} with Connection: close, then the connection closes`, LIMIT, async () => {
    let handled = 0;
    await runVirtual(() =>
      served(
        function* (_req, res) {
          handled++;
          yield* res.end("no");
        },
        function* (c) {
          yield* c.send(request);
          const r = yield* c.response();
          assert.equal(r?.status, status);
          assert.equal(r?.head.headers.get("connection"), "close");
          assert.equal(yield* c.atEnd(), true);
        },
      ),
    );
    assert.equal(handled, 0);
  });
}

test("a bad chunk size while the handler reads the body is answered 400 and closes", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        yield* res.end(yield* req.text());
      },
      function* (c) {
        yield* c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        const r = yield* c.response();
        assert.equal(r?.status, 400);
        assert.equal(yield* c.atEnd(), true);
      },
    ),
  );
});

test("a handler that fails before its head gives 500, closes, and is reported with its request", LIMIT, async () => {
  const reported: string[] = [];
  await runVirtual(() =>
    served(
      function* () {
        yield* sleep(1);
        throw new Error("boom");
      },
      function* (c) {
        yield* c.send(GET("/x"));
        const r = yield* c.response();
        assert.equal(r?.status, 500);
        assert.equal(r?.head.headers.get("connection"), "close");
        assert.equal(yield* c.atEnd(), true);
      },
      serverConfig({ onError: (e, req) => reported.push(`${(e as Error).message} ${req?.target}`) }),
    ),
  );
  assert.deepEqual(reported, ["boom /x"]);
});

test("a handler that fails after its head drops the connection: the client sees a truncated body", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (_req, res) {
        res.headers.set("content-length", 10);
        yield* res.write("12345");
        throw new Error("half-way");
      },
      function* (c) {
        yield* c.send(GET("/"));
        let failed = false;
        try {
          yield* c.response();
        } catch {
          failed = true;
        }
        assert.equal(failed, true);
      },
    ),
  );
});

test("a handler that returns without ending has its response ended (Content-Length: 0)", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (_req, res) {
        res.status = 202;
      },
      function* (c) {
        yield* c.send(GET("/"));
        const r = yield* c.response();
        assert.equal(r?.status, 202);
        assert.equal(r?.head.headers.get("content-length"), "0");
      },
    ),
  );
});

test("a client that disconnects cancels its handler at once, and the handler's finally runs", LIMIT, async () => {
  const log: string[] = [];
  await runVirtual(function* () {
    const [serverEnd, clientEnd] = duplexPair();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() =>
        serveHttpConnection(
          serverEnd,
          function* () {
            try {
              log.push(`start ${now()}`);
              yield* sleep(60_000);
              log.push("not reached");
            } finally {
              log.push(`finally ${now()}`);
            }
          },
          serverConfig(),
        ),
      );
      yield* clientEnd.write(GET("/long"));
      yield* sleep(10);
      clientEnd.close();
    });
  });
  assert.deepEqual(log, ["start 0", "finally 10"]);
});

test("an unread body within maxBodyDrain is drained and the connection kept; a larger one closes it", LIMIT, async () => {
  await runVirtual(() =>
    served(
      hello,
      function* (c) {
        yield* c.send(`POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345`);
        assert.equal((yield* c.response())?.body, "hello /small");
        yield* c.send(GET("/next"));
        assert.equal((yield* c.response())?.body, "hello /next");
        yield* c.send(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${"x".repeat(100)}`);
        assert.equal((yield* c.response())?.body, "hello /big");
        assert.equal(yield* c.atEnd(), true);
      },
      serverConfig({ maxBodyDrain: 10 }),
    ),
  );
});

test("Expect: 100-continue: 100 is sent when the handler first reads the body, then the final response", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        yield* res.end(`got ${yield* req.text()}`);
      },
      function* (c) {
        yield* c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
        const interim = yield* c.response();
        assert.equal(interim?.status, 100);
        yield* c.send("abc");
        const r = yield* c.response();
        assert.equal(r?.body, "got abc");
      },
    ),
  );
});

test("Expect: 100-continue answered without reading: no 100, and Connection: close", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (_req, res) {
        yield* res.send(413, "too big");
      },
      function* (c) {
        yield* c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\nExpect: 100-continue\r\n\r\n");
        const r = yield* c.response();
        assert.equal(r?.status, 413);
        assert.equal(r?.head.headers.get("connection"), "close");
      },
    ),
  );
});

test("req.text() over maxSize escaping the handler is answered 413", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        yield* res.end(yield* req.text({ maxSize: 4 }));
      },
      function* (c) {
        yield* c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345");
        assert.equal((yield* c.response())?.status, 413);
      },
    ),
  );
});

test("req.text() over maxSize throws HttpBodyTooLarge, which is a ReadLimitExceeded with maxSize and limit", LIMIT, async () => {
  const caught: unknown[] = [];
  await runVirtual(() =>
    served(
      function* (req, res) {
        try {
          yield* req.text({ maxSize: req.target === "/chunked" ? 3 : 4 });
        } catch (error) {
          caught.push(error);
        }
        yield* res.send(413, "no");
      },
      function* (c) {
        // Refused by its Content-Length before a byte is read, and while reading a chunked one.
        yield* c.send("POST /length HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345");
        assert.equal((yield* c.response())?.status, 413);
        yield* c.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n0\r\n\r\n");
        assert.equal((yield* c.response())?.status, 413);
      },
    ),
  );
  assert.equal(caught.length, 2);
  for (const [i, error] of caught.entries()) {
    assert.ok(error instanceof HttpBodyTooLarge, String(error));
    assert.ok(error instanceof ReadLimitExceeded);
    assert.equal(error.maxSize, i === 0 ? 4 : 3);
    assert.equal(error.limit, error.maxSize);
    assert.equal(error.name, "HttpBodyTooLarge");
  }
});

test(
  "req.trailers: undefined until the body was read, then the chunked body's trailer fields (never merged into headers)",
  LIMIT,
  async () => {
    const seen: unknown[] = [];
    await runVirtual(() =>
      served(
        function* (req, res) {
          const before = req.trailers;
          const body = yield* req.text();
          const after = req.trailers;
          seen.push([
            req.target,
            before === undefined ? "undefined" : [...before],
            body,
            after === undefined ? "undefined" : [...after],
            req.headers.get("x-sum") ?? null,
          ]);
          yield* res.end("ok");
        },
        function* (c) {
          yield* c.send(
            "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n" +
              "3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 15\r\nX-Note: a\r\nx-note: b\r\n\r\n",
          );
          assert.equal((yield* c.response())?.body, "ok");
          yield* c.send("POST /no-trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
          assert.equal((yield* c.response())?.body, "ok");
          yield* c.send("POST /length HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
          assert.equal((yield* c.response())?.body, "ok");
          yield* c.send(GET("/none"));
          assert.equal((yield* c.response())?.body, "ok");
        },
      ),
    );
    assert.deepEqual(seen, [
      [
        "/chunked",
        "undefined",
        "abcde",
        [
          ["x-sum", "15"],
          ["X-Note", "a"],
          ["x-note", "b"],
        ],
        null,
      ],
      ["/no-trailers", "undefined", "z", [], null],
      ["/length", "undefined", "hi", [], null],
      ["/none", [], "", [], null],
    ]);
  },
);

test("req.trailers while the body is being read: undefined until the last chunk and its trailers arrived", LIMIT, async () => {
  const seen: unknown[] = [];
  await runVirtual(() =>
    served(
      function* (req, res) {
        for (;;) {
          const chunk = yield* req.body.readSome();
          const { trailers } = req;
          seen.push([
            chunk === undefined ? null : new TextDecoder().decode(chunk),
            trailers === undefined ? "undefined" : trailers.get("x-sum"),
          ]);
          if (chunk === undefined) break;
        }
        yield* res.end("ok");
      },
      function* (c) {
        yield* c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        yield* sleep(10);
        yield* c.send("0\r\nx-sum: 6\r\n");
        yield* sleep(10);
        yield* c.send("\r\n");
        assert.equal((yield* c.response())?.body, "ok");
      },
    ),
  );
  assert.deepEqual(seen, [
    ["abc", "undefined"],
    [null, "6"],
  ]);
});

test("slowloris: a head trickled a byte a second is cut with 408 at the headers deadline, exactly", LIMIT, async () => {
  let closedAt = -1;
  await runVirtual(function* () {
    const [serverEnd, clientEnd] = duplexPair();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* serveHttpConnection(serverEnd, hello, serverConfig({ timeouts: { headers: 10_000 } }));
        closedAt = now();
      });
      const c = new RawClient(clientEnd);
      group.startSoon(
        function* () {
          try {
            for (const byte of "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaa") {
              yield* clientEnd.write(byte);
              yield* sleep(1000);
            }
          } catch {
            // the server closed
          }
        },
        { daemon: true },
      );
      const r = yield* c.response();
      assert.equal(r?.status, 408);
      assert.equal(now(), 10_000);
    });
  });
  assert.equal(closedAt, 10_000);
});

test("keep-alive idle: a connection with no next request is closed at the keep-alive timeout, exactly", LIMIT, async () => {
  await runVirtual(() =>
    served(
      hello,
      function* (c) {
        yield* c.send(GET("/"));
        yield* c.response();
        const at = now();
        assert.equal(yield* c.atEnd(), true);
        assert.equal(now() - at, 2_000);
      },
      serverConfig({ timeouts: { keepAlive: 2_000 } }),
    ),
  );
});

test("request body timeout: a body that stops arriving is answered 408 at the deadline", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        yield* res.end(yield* req.text());
      },
      function* (c) {
        yield* c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12");
        const r = yield* c.response();
        assert.equal(r?.status, 408);
        assert.equal(now(), 3_000);
      },
      serverConfig({ timeouts: { requestBody: 3_000 } }),
    ),
  );
});

test("header values with CR, LF or NUL throw a TypeError before any byte is written", LIMIT, async () => {
  const errors: string[] = [];
  await runVirtual(() =>
    served(
      function* (_req, res) {
        for (const bad of ["a\r\nSet-Cookie: x=1", "a\nb", "a\0b"]) {
          try {
            res.headers.set("x-bad", bad);
            yield* res.end("sent?");
          } catch (e) {
            errors.push((e as Error).constructor.name);
          }
        }
        assert.equal(res.headersSent, false);
        yield* res.end("clean");
      },
      function* (c) {
        yield* c.send(GET("/"));
        const r = yield* c.response();
        assert.equal(r?.body, "clean");
        assert.equal(r?.head.headers.get("set-cookie"), undefined);
      },
    ),
  );
  assert.deepEqual(errors, ["TypeError", "TypeError", "TypeError"]);
});

test("upgrade: the 101 head goes out and the raw connection reads the bytes sent after the request first", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (_req, res) {
        using conn = yield* res.upgrade(101, { upgrade: "echo", connection: "upgrade" });
        const got = yield* conn.readExactly(6);
        yield* conn.write(got);
        yield* conn.write(yield* conn.readExactly(4));
      },
      function* (c) {
        yield* c.send("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nearly!");
        const r = yield* c.response();
        assert.equal(r?.status, 101);
        assert.equal(yield* c.readText(6), "early!");
        yield* c.send("late");
        assert.equal(yield* c.readText(4), "late");
      },
    ),
  );
});

test(
  "serveFetch's adapter: the Request carries method, URL, headers and a streamed body; the Response is streamed back",
  LIMIT,
  async () => {
    await runVirtual(() =>
      served(
        fetchHandler(async (request) => {
          const text = await request.text();
          return new Response(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("x-a")} ${text}`, {
            status: 201,
            headers: { "x-b": "2" },
          });
        }),
        function* (c) {
          yield* c.send("POST /f HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nbody");
          const r = yield* c.response();
          assert.equal(r?.status, 201);
          assert.equal(r?.head.headers.get("x-b"), "2");
          assert.equal(r?.body, "POST /f 1 body");
        },
      ),
    );
  },
);

test("serveFetch's adapter: the Request's signal aborts when the client goes away", LIMIT, async () => {
  let aborted = false;
  await runVirtual(function* () {
    const [serverEnd, clientEnd] = duplexPair();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() =>
        serveHttpConnection(
          serverEnd,
          fetchHandler(function* (request) {
            request.signal.addEventListener("abort", () => (aborted = true));
            yield* sleep(60_000);
            return new Response("late");
          }),
          serverConfig(),
        ),
      );
      yield* clientEnd.write(GET("/"));
      yield* sleep(5);
      clientEnd.close();
    });
  });
  assert.equal(aborted, true);
});

test("CONNECT: upgrade(200) answers 200 and hands over the raw connection, bytes after the head first", LIMIT, async () => {
  await runVirtual(() =>
    served(
      function* (req, res) {
        assert.equal(req.url.host, "example.test:443");
        using tunnel = yield* res.upgrade();
        yield* tunnel.write(yield* tunnel.readExactly(5));
      },
      function* (c) {
        yield* c.send("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\nhello");
        const r = yield* c.response("CONNECT");
        assert.equal(r?.status, 200);
        assert.equal(yield* c.readText(5), "hello");
      },
    ),
  );
});

test("bad handler input is a typed error before any byte: a status out of range, upgrade without Upgrade", LIMIT, async () => {
  const errors: string[] = [];
  await runVirtual(() =>
    served(
      function* (_req, res) {
        for (const attempt of [() => res.send(99), () => res.send(600), () => res.upgrade(), () => res.write(42 as unknown as string)]) {
          try {
            yield* attempt();
          } catch (e) {
            errors.push((e as Error).constructor.name);
          }
        }
        assert.equal(res.headersSent, false);
        yield* res.end("fine");
      },
      function* (c) {
        yield* c.send(GET("/"));
        assert.equal((yield* c.response())?.body, "fine");
      },
    ),
  );
  assert.deepEqual(errors, ["RangeError", "RangeError", "WeftUsageError", "TypeError"]);
});

test("serveHttpConnection without a config uses listenHttp's defaults (keep-alive closes after 5 s idle)", LIMIT, async () => {
  await runVirtual(function* () {
    const [serverEnd, clientEnd] = duplexPair();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => serveHttpConnection(serverEnd, hello));
      const c = new RawClient(clientEnd);
      yield* c.send(GET("/d"));
      assert.equal((yield* c.response())?.body, "hello /d");
      const at = now();
      assert.equal(yield* c.atEnd(), true);
      assert.equal(now() - at, 5_000);
      clientEnd.close();
    });
  });
});

test("allowFailure: false throws the handler's failure out of the connection after its 500", LIMIT, async () => {
  await runVirtual(function* () {
    const [serverEnd, clientEnd] = duplexPair();
    let thrown: unknown;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* serveHttpConnection(
            serverEnd,
            function* () {
              throw new Error("fatal");
            },
            serverConfig({ allowFailure: false }),
          );
        } catch (e) {
          thrown = e;
        }
      });
      const c = new RawClient(clientEnd);
      yield* c.send(GET("/"));
      assert.equal((yield* c.response())?.status, 500);
      clientEnd.close();
    });
    assert.equal((thrown as Error).message, "fatal");
  });
});

test(
  "pipelined requests with bodies (length and chunked), split at every few bytes, are all answered in order with their bodies",
  LIMIT,
  async () => {
    await runVirtual(() =>
      served(
        function* (req, res) {
          yield* res.end(`${req.target}=${yield* req.text()}`);
        },
        function* (c) {
          let wire = "";
          const expected: string[] = [];
          for (let i = 0; i < 20; i++) {
            const body = "b".repeat(i * 3);
            if (i % 2 === 0) wire += `POST /${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
            else
              wire += `POST /${i} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
            expected.push(`/${i}=${body}`);
          }
          yield* withTaskGroup<void>(function* (group) {
            group.startSoon(function* () {
              for (let at = 0, step = 1; at < wire.length; at += step, step = (step % 7) + 1) yield* c.send(wire.slice(at, at + step));
            });
            const got: string[] = [];
            for (let i = 0; i < 20; i++) got.push((yield* c.response("POST"))?.body ?? "");
            assert.deepEqual(got, expected);
          });
        },
      ),
    );
  },
);
