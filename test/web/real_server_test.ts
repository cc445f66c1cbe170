/**
 * weft/web against a real weft server (issue 14: "Run in the Chromium host
 * against a weft server started by the test"): the host runner starts
 * hosts/web_server.ts (weft/http with weft/ws upgrades) and passes its URL
 * (`globalThis.__weftWebServer` in Chromium, `WEFT_WEB_SERVER` in the
 * environment on Node, Bun and Deno). The platform's own WebSocket and fetch
 * talk to it: text and binary echo, close codes and reasons both ways, a
 * subprotocol, a refused connection; fetch's bodies, limits and aborts.
 *
 * Skipped, with the reason, where there is no server (a plain `npm test`,
 * QuickJS) or the host lacks the platform object (Node 20 has fetch but no
 * global WebSocket).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { ConnectionClosed, HttpBodyTooLarge, WebSocketConnectFailed, connectWebSocket, fetchResponse } from "../../src/web.ts";

/** Real network round trips on a loaded 2-core machine: generous. */
const LIMIT = { timeout: 60_000 };

const server = ((): string | undefined => {
  const g = globalThis as { __weftWebServer?: unknown; process?: { env?: Record<string, string | undefined> } };
  const url = typeof g.__weftWebServer === "string" ? g.__weftWebServer : g.process?.env?.["WEFT_WEB_SERVER"];
  return url === undefined || url === "" ? undefined : url;
})();
const hasWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";
const hasFetch = typeof (globalThis as { fetch?: unknown }).fetch === "function";

const noServer = "no weft server: the host runners start one (npm run test:hosts)";
const fetchSkip = server === undefined ? noServer : !hasFetch ? "this host has no global fetch" : false;
const wsSkip = server === undefined ? noServer : !hasWebSocket ? "this host has no global WebSocket (Node before 22)" : false;
const wsUrl = (path: string): string => `${(server ?? "http://127.0.0.1:1").replace(/^http/, "ws")}${path}`;

function* thrown(body: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

test("fetch: text, json and a 200 KB body through the Reader", { ...LIMIT, skip: fetchSkip }, () =>
  run(function* () {
    {
      using res = yield* fetchResponse(`${server}/text`);
      assert.equal(res.status, 200);
      assert.equal(res.ok, true);
      assert.equal(res.headers.get("content-type"), "text/plain");
      assert.equal(yield* res.text(), "hello from weft");
    }
    {
      using res = yield* fetchResponse(new URL("/json", server));
      assert.deepEqual(yield* res.json(), { n: 42 });
    }
    {
      using res = yield* fetchResponse(`${server}/bytes?n=200000`);
      let total = 0;
      let wrong = -1;
      for (let chunk; (chunk = yield* res.body.readSome()) !== undefined; ) {
        for (let i = 0; i < chunk.length; i++) if (wrong < 0 && chunk[i] !== ((total + i) & 0xff)) wrong = total + i;
        total += chunk.length;
      }
      assert.equal(total, 200_000);
      assert.equal(wrong, -1);
    }
    {
      using res = yield* fetchResponse(`${server}/nothing-here`);
      assert.equal(res.status, 404);
      assert.equal(res.ok, false);
    }
  }),
);

test("fetch: a POST body comes back", { ...LIMIT, skip: fetchSkip }, () =>
  run(function* () {
    using res = yield* fetchResponse(`${server}/echo`, { method: "POST", body: "posted ✓" });
    assert.equal(yield* res.text(), "posted ✓");
  }),
);

test("fetch: maxSize is enforced from Content-Length", { ...LIMIT, skip: fetchSkip }, () =>
  run(function* () {
    using res = yield* fetchResponse(`${server}/bytes?n=5000`);
    const error = yield* thrown(() => res.bytes({ maxSize: 4999 }));
    assert.ok(error instanceof HttpBodyTooLarge, String(error));
  }),
);

test("fetch: a request that never gets an answer is aborted when its task is cancelled", { ...LIMIT, skip: fetchSkip }, () =>
  run(function* () {
    // /hang never answers, so the timeout fires however slow the host is.
    assert.equal(yield* withTimeoutOpt(200, () => fetchResponse(`${server}/hang`)), undefined);
  }),
);

test("fetch: a body that never ends is read in part, then closed", { ...LIMIT, skip: fetchSkip }, () =>
  run(function* () {
    using res = yield* fetchResponse(`${server}/slow`);
    assert.equal(yield* res.body.readLine(), "first");
    assert.equal(yield* withTimeoutOpt(100, () => res.body.readSome()), undefined); // nothing more comes
    res.close();
  }),
);

test("WebSocket: text and binary echo, the subprotocol, and a close from this side with code and reason", { ...LIMIT, skip: wsSkip }, () =>
  run(function* () {
    using ws = yield* connectWebSocket(wsUrl("/ws/echo"), { protocols: ["chat.v1", "chat.v2"] });
    assert.equal(ws.protocol, "chat.v2");
    yield* ws.sendText("hello ✓");
    assert.equal(yield* ws.recvText(), "hello ✓");
    const big = new Uint8Array(100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    yield* ws.sendBinary(big);
    const message = yield* ws.recv();
    assert.equal(message.kind, "binary");
    assert.deepEqual((yield* message.reader.readAll()).bytes(), big);
    yield* ws.sendText("");
    assert.equal(yield* ws.recvText(), "");
    yield* ws.close(4001, "client done");
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed && error.code === 4001 && error.reason === "client done", String(error));
  }),
);

test("WebSocket: the server closes with a code and reason; recv raises ConnectionClosed with them", { ...LIMIT, skip: wsSkip }, () =>
  run(function* () {
    using ws = yield* connectWebSocket(wsUrl("/ws/echo"));
    assert.equal(ws.protocol, "");
    yield* ws.sendText("close:4002:server done ✓");
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed, String(error));
    assert.equal(error.code, 4002);
    assert.equal(error.reason, "server done ✓");
  }),
);

test("WebSocket: a path the server does not upgrade is WebSocketConnectFailed", { ...LIMIT, skip: wsSkip }, () =>
  run(function* () {
    const error = yield* thrown(() => connectWebSocket(wsUrl("/not-a-socket")));
    assert.ok(error instanceof WebSocketConnectFailed, String(error));
    assert.equal(error.url, wsUrl("/not-a-socket"));
  }),
);
