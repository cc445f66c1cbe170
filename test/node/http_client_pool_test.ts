/**
 * HttpClient against node:http servers in the same process: methods and
 * bodies (bytes, text, a Reader sent chunked), the keep-alive pool
 * (reuse, maxConnectionsPerOrigin, no reuse of a connection whose body was
 * not read, Keep-Alive: timeout and keepAliveTimeout), body size limits,
 * the one-shot functions, and input validation before any byte is sent.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, sleep, WeftUsageError, withTaskGroup } from "../../src/index.ts";
import { MemoryReader, ReadLimitExceeded } from "../../src/io.ts";
import { get, HttpClient, post, put, request } from "../../src/http/client/index.ts";
import { HttpBodyTooLarge } from "../../src/http.ts";
import { startRawServer, startServer } from "./http_client_support.ts";

const T = { timeout: 30_000 };

/** Reads a node request's whole body. */
function readBody(req: import("node:http").IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

test("GET returns status, reason, headers and the body as text", T, async () => {
  const server = await startServer((req, res) => {
    res.setHeader("x-path", req.url ?? "");
    res.end("hello");
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      using res = yield* client.get(`${server.origin}/a?b=c`);
      assert.equal(res.status, 200);
      assert.equal(res.reason, "OK");
      assert.equal(res.ok, true);
      assert.equal(res.headers.get("x-path"), "/a?b=c");
      assert.equal(res.url.href, `${server.origin}/a?b=c`);
      assert.equal(yield* res.text(), "hello");
    });
  } finally {
    await server.stop();
  }
});

test("request bodies: text and bytes with Content-Length, a Reader chunked", T, async () => {
  const seen: { method: string; length?: string; te?: string; body: string }[] = [];
  const server = await startServer((req, res) => {
    void readBody(req).then((body) => {
      seen.push({
        method: req.method ?? "",
        length: req.headers["content-length"],
        te: req.headers["transfer-encoding"],
        body: body.toString(),
      });
      res.end(body);
    });
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      const a = yield* client.post(`${server.origin}/`, "text body");
      assert.equal(yield* a.text(), "text body");
      const b = yield* client.put(`${server.origin}/`, new TextEncoder().encode("bytes body"));
      assert.equal(yield* b.text(), "bytes body");
      const big = "x".repeat(200_000); // past the one-write size: head and body go out in two writes
      const c = yield* client.post(`${server.origin}/`, new MemoryReader(big));
      assert.equal((yield* c.text()).length, big.length);
      const d = yield* client.request({ method: "PATCH", url: `${server.origin}/`, body: "p" });
      assert.equal(yield* d.text(), "p");
    });
    assert.deepEqual(
      seen.map((s) => [s.method, s.length, s.te]),
      [
        ["POST", "9", undefined],
        ["PUT", "10", undefined],
        ["POST", undefined, "chunked"],
        ["PATCH", "1", undefined],
      ],
    );
  } finally {
    await server.stop();
  }
});

test("json() parses, bytes() returns the bytes, and a body over maxSize throws HttpBodyTooLarge, a ReadLimitExceeded", T, async () => {
  const server = await startServer((req, res) => res.end(req.url === "/json" ? '{"a":[1,2]}' : "0123456789"));
  try {
    await run(function* () {
      using client = new HttpClient();
      const a = yield* client.get(`${server.origin}/json`);
      assert.deepEqual(yield* a.json(), { a: [1, 2] });
      const b = yield* client.get(`${server.origin}/`);
      assert.deepEqual([...(yield* b.bytes())], [...new TextEncoder().encode("0123456789")]);
      const c = yield* client.get(`${server.origin}/`);
      const tooLarge = yield* assertThrows(() => c.text({ maxSize: 9 }), HttpBodyTooLarge);
      assert.ok(tooLarge instanceof ReadLimitExceeded);
      assert.equal((tooLarge as HttpBodyTooLarge).maxSize, 9);
      assert.equal((tooLarge as HttpBodyTooLarge).limit, 9);
      const d = yield* client.get(`${server.origin}/`);
      assert.equal(yield* d.text({ maxSize: 10 }), "0123456789");
      yield* assertThrows(() => d.text(), WeftUsageError); // read once
    });
  } finally {
    await server.stop();
  }
});

test("trailers: undefined until the body was read to its end, then the chunked body's trailer fields", T, async () => {
  const server = await startServer((req, res) => {
    if (req.url === "/plain") return res.end("plain");
    res.setHeader("trailer", "x-sum, x-count");
    res.write("chunk1,");
    res.write("chunk2");
    res.addTrailers({ "x-sum": "42", "x-count": "2" });
    res.end();
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      const res = yield* client.get(`${server.origin}/trailers`);
      assert.equal(res.headers.get("transfer-encoding"), "chunked");
      const before = res.trailers;
      assert.equal(yield* res.text(), "chunk1,chunk2");
      assert.equal(before, undefined);
      assert.equal(res.trailers?.get("x-sum"), "42");
      assert.equal(res.trailers?.get("x-count"), "2");
      assert.equal(res.headers.get("x-sum"), undefined); // not merged into the headers
      const plain = yield* client.get(`${server.origin}/plain`);
      const plainBefore = plain.trailers;
      assert.equal(yield* plain.text(), "plain");
      assert.equal(plainBefore, undefined);
      assert.deepEqual([...(plain.trailers ?? [])], []);
    });
    assert.equal(server.connections, 1); // the trailers were read off the connection, which was reused
  } finally {
    await server.stop();
  }
});

function* assertThrows(
  body: () => Generator<unknown, unknown, unknown>,
  type: new (...args: never[]) => Error,
): Generator<unknown, Error, unknown> {
  try {
    yield* body();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but the operation succeeded`);
}

test("keep-alive: sequential requests whose bodies were read share one connection", T, async () => {
  const server = await startServer((_req, res) => res.end("ok"));
  try {
    await run(function* () {
      using client = new HttpClient();
      for (let i = 0; i < 20; i++) {
        using res = yield* client.get(`${server.origin}/${i}`);
        assert.equal(yield* res.text(), "ok");
      }
    });
    assert.equal(server.requests, 20);
    assert.equal(server.connections, 1);
  } finally {
    await server.stop();
  }
});

test("a response closed before its body was read drops its connection; the next request makes a new one", T, async () => {
  const server = await startServer((_req, res) => res.end("unread body"));
  try {
    await run(function* () {
      using client = new HttpClient();
      {
        using res = yield* client.get(`${server.origin}/`);
        assert.equal(res.status, 200);
      } // closed unread
      using res = yield* client.get(`${server.origin}/`);
      assert.equal(yield* res.text(), "unread body");
    });
    assert.equal(server.connections, 2);
  } finally {
    await server.stop();
  }
});

test("a response without a body (HEAD, 204) frees its connection at once", T, async () => {
  const server = await startServer((req, res) => {
    if (req.url === "/204") {
      res.statusCode = 204;
      res.end();
    } else res.end("head has a length but no body");
  });
  try {
    await run(function* () {
      using client = new HttpClient({ maxConnectionsPerOrigin: 1 });
      const head = yield* client.request({ method: "HEAD", url: `${server.origin}/` });
      assert.equal(head.status, 200);
      const empty = yield* client.get(`${server.origin}/204`); // would wait forever if HEAD still held the only connection
      assert.equal(empty.status, 204);
      using res = yield* client.get(`${server.origin}/`);
      assert.equal(yield* res.text(), "head has a length but no body");
    });
    assert.equal(server.connections, 1);
  } finally {
    await server.stop();
  }
});

test("maxConnectionsPerOrigin: callers beyond it wait for a connection, and no more are opened", T, async () => {
  let active = 0;
  let most = 0;
  const server = await startServer((_req, res) => {
    active++;
    most = Math.max(most, active);
    setTimeout(() => {
      active--;
      res.end("done");
    }, 5);
  });
  try {
    await run(function* () {
      using client = new HttpClient({ maxConnectionsPerOrigin: 2 });
      yield* withTaskGroup(function* (group) {
        for (let i = 0; i < 10; i++) {
          group.startSoon(function* () {
            using res = yield* client.get(`${server.origin}/${i}`);
            assert.equal(yield* res.text(), "done");
          });
        }
      });
    });
    assert.equal(server.requests, 10);
    assert.equal(server.connections, 2);
    assert.equal(most, 2);
  } finally {
    await server.stop();
  }
});

test("origins have separate pools", T, async () => {
  const a = await startServer((_req, res) => res.end("a"));
  const b = await startServer((_req, res) => res.end("b"));
  try {
    await run(function* () {
      using client = new HttpClient({ maxConnectionsPerOrigin: 1 });
      const ra = yield* client.get(`${a.origin}/`); // holds a's only connection, unread
      const rb = yield* client.get(`${b.origin}/`); // b has its own
      assert.equal(yield* rb.text(), "b");
      assert.equal(yield* ra.text(), "a");
    });
  } finally {
    await a.stop();
    await b.stop();
  }
});

test("Connection: close from the server or the request: the connection is not reused", T, async () => {
  const server = await startServer((req, res) => {
    if (req.url === "/server-closes") res.setHeader("connection", "close");
    res.end("x");
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      yield* (yield* client.get(`${server.origin}/server-closes`)).text();
      yield* (yield* client.get(`${server.origin}/`, { headers: { connection: "close" } })).text();
      yield* (yield* client.get(`${server.origin}/`)).text();
    });
    assert.equal(server.connections, 3);
  } finally {
    await server.stop();
  }
});

test("Keep-Alive: timeout=1 is honoured with a second's margin: such a connection is never reused", T, async () => {
  const server = await startServer((_req, res) => {
    res.setHeader("keep-alive", "timeout=1");
    res.end("x");
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      for (let i = 0; i < 3; i++) yield* (yield* client.get(`${server.origin}/`)).text();
    });
    assert.equal(server.connections, 3);
  } finally {
    await server.stop();
  }
});

test("Keep-Alive: timeout=5 allows reuse; keepAliveTimeout bounds the idle time on our side", T, async () => {
  const server = await startServer((_req, res) => {
    res.setHeader("keep-alive", "timeout=5");
    res.end("x");
  });
  try {
    await run(function* () {
      using client = new HttpClient({ keepAliveTimeout: 50 });
      yield* (yield* client.get(`${server.origin}/`)).text();
      yield* (yield* client.get(`${server.origin}/`)).text(); // at once: reused
      yield* sleep(150); // idle longer than keepAliveTimeout (a slow host only makes this longer)
      yield* (yield* client.get(`${server.origin}/`)).text();
    });
    assert.equal(server.connections, 2);
  } finally {
    await server.stop();
  }
});

test("the one-shot functions use a default client", T, async () => {
  const server = await startServer((req, res) => {
    void readBody(req).then((body) => res.end(`${req.method} ${body.toString()}`));
  });
  try {
    await run(function* () {
      const close = { headers: { connection: "close" } };
      assert.equal(yield* (yield* get(`${server.origin}/`, close)).text(), "GET ");
      assert.equal(yield* (yield* post(`${server.origin}/`, "a", close)).text(), "POST a");
      assert.equal(yield* (yield* put(`${server.origin}/`, "b", close)).text(), "PUT b");
      assert.equal(yield* (yield* request({ method: "DELETE", url: `${server.origin}/`, ...close })).text(), "DELETE ");
    });
  } finally {
    await server.stop();
  }
});

test("client and request headers: the request's replace the client's of the same name", T, async () => {
  const server = await startServer((req, res) => res.end(JSON.stringify([req.headers["x-a"], req.headers["x-b"], req.headers.host])));
  try {
    await run(function* () {
      using client = new HttpClient({ headers: { "x-a": "client", "x-b": "client" } });
      const res = yield* client.get(`${server.origin}/`, { headers: { "X-B": "request" } });
      assert.deepEqual(yield* res.json(), ["client", "request", `127.0.0.1:${server.port}`]);
    });
  } finally {
    await server.stop();
  }
});

test("CR, LF or NUL in a method, URL, header name or value: TypeError, and not one byte reaches the server", T, async () => {
  const raw = await startRawServer((socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
  try {
    await run(function* () {
      using client = new HttpClient();
      const url = `http://127.0.0.1:${raw.port}/`;
      const bad = [
        () => client.request({ method: "GET\r\nX: y", url }),
        () => client.request({ method: "G\0T", url }),
        () => client.request({ method: "GE T", url }),
        () => client.get(`${url}a\r\nInjected: 1`),
        () => client.get(`${url}a\nb`),
        () => client.get(url, { headers: { "x-a": "b\r\nInjected: 1" } }),
        () => client.get(url, { headers: { "x-a": "b\nc" } }),
        () => client.get(url, { headers: { "x-a": "b\0" } }),
        () => client.get(url, { headers: { "x\r\na": "b" } }),
        () => client.get(url, { headers: [["bad name", "b"]] }),
      ];
      for (const op of bad) yield* assertThrows(op, TypeError);
      yield* sleep(50); // a byte sent would have arrived by now on loopback
    });
    assert.equal(raw.connections, 0);
    assert.equal(raw.received, 0);
  } finally {
    raw.stop();
  }
});

test("bad options are typed errors naming the argument", T, async () => {
  await run(function* () {
    assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: 0 }), RangeError);
    assert.throws(() => new HttpClient({ keepAliveTimeout: -1 }), RangeError);
    assert.throws(() => new HttpClient({ proxy: "socks5://127.0.0.1:1" }), /options\.proxy/);
    using client = new HttpClient();
    yield* assertThrows(() => client.get("ftp://example.com/"), TypeError);
    yield* assertThrows(() => client.get("not a url"), TypeError);
    yield* assertThrows(() => client.request({ url: "http://127.0.0.1:1/", body: 42 as unknown as string }), TypeError);
    yield* assertThrows(() => client.request({ url: "http://127.0.0.1:1/", redirect: "always" as "follow" }), TypeError);
    yield* assertThrows(() => client.request({ url: "http://127.0.0.1:1/", body: "x", expectContinue: -1 }), RangeError);
    yield* assertThrows(() => client.request({ url: "http://127.0.0.1:1/", body: "x", expectContinue: Number.NaN }), RangeError);
    yield* assertThrows(
      () => client.request({ url: "http://127.0.0.1:1/", body: "x", expectContinue: "yes" as unknown as boolean }),
      TypeError,
    );
    client.close();
    yield* assertThrows(() => client.get("http://127.0.0.1:1/"), WeftUsageError);
  });
});

test("a chunked response body is read to the end and its connection reused", T, async () => {
  const server = await startServer((req, res) => {
    res.write("part one, ");
    setTimeout(() => res.end("part two"), 5);
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      const res = yield* client.get(`${server.origin}/chunked`);
      assert.equal(res.headers.get("transfer-encoding"), "chunked");
      assert.equal(yield* res.text(), "part one, part two");
      const again = yield* client.get(`${server.origin}/chunked`);
      assert.equal(yield* again.text(), "part one, part two");
    });
    assert.equal(server.connections, 1);
  } finally {
    await server.stop();
  }
});
