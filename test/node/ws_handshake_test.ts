/**
 * The weft/ws opening handshake: the accept value (RFC 6455's sample and
 * the portable SHA-1 against node:crypto), the server's refusals (400, 426)
 * of handshakes a browser would not send, sent raw over TCP, plain HTTP on
 * the same port, subprotocol choice, `permessage-deflate` declined, and the
 * client's checks of the server's answer against raw servers (a refusal
 * with its body, a wrong accept, an unoffered subprotocol, an extension,
 * frame bytes in the same packet as the 101 head).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import WebSocketPeer from "ws";
import { createServer } from "node:net";
import { call, run, TimeoutError, withTimeout, type Operation } from "../../src/index.ts";
import { ProxyError } from "../../src/http.ts";
import { acceptKey, isValidKey, sha1 } from "../../src/ws/handshake.ts";
import { acceptWebSocket, connectWebSocket, HandshakeRejected, isWebSocketRequest } from "../../src/ws.ts";
import type { HttpHandler } from "../../src/http/server/connection.ts";
import { headerOf, keyOf, rawExchange, rawServer, serving } from "./ws_support.ts";

const T = { timeout: 30_000 };
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

test("acceptKey: RFC 6455's sample, and SHA-1 agrees with node:crypto on 300 random inputs of every length up to 299", T, () => {
  assert.equal(acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  for (let length = 0; length < 300; length++) {
    const data = randomBytes(length);
    assert.equal(Buffer.from(sha1(data)).toString("hex"), createHash("sha1").update(data).digest("hex"), `length ${length}`);
  }
});

test("isValidKey: base64 of 16 bytes only", T, () => {
  assert.equal(isValidKey(KEY), true);
  assert.equal(isValidKey(randomBytes(16).toString("base64")), true);
  for (const bad of [
    "",
    "abc",
    randomBytes(15).toString("base64"),
    randomBytes(17).toString("base64"),
    "dGhlIHNhbXBsZSBub25jZQ",
    "dGhlIHNhbXBsZSBub25jZQ=!",
  ]) {
    assert.equal(isValidKey(bad), false, bad);
  }
});

/** Echoes text messages on /ws; answers plain HTTP elsewhere. */
const handler: HttpHandler = function* (req, res) {
  if (req.url.pathname !== "/ws") return yield* res.send(200, `plain ${req.target}`);
  using ws = yield* acceptWebSocket(req, res, { protocols: ["chat.v2", "chat.v1"] });
  yield* ws.sendText(`protocol=${ws.protocol}`);
  yield* ws.close();
};

function handshake(lines: string[], method = "GET"): string {
  return `${method} /ws HTTP/1.1\r\nHost: x\r\n${lines.map((line) => `${line}\r\n`).join("")}\r\n`;
}

const GOOD = ["Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13"];

test("server: refusals of bad handshakes, sent raw (400, 426 with the version)", T, async () => {
  await run(() =>
    serving(handler, function* (server) {
      const cases: [string, string, number][] = [
        ["no key", handshake(GOOD.filter((l) => !l.startsWith("Sec-WebSocket-Key"))), 400],
        ["a key of 15 bytes", handshake([...GOOD.slice(0, 2), `Sec-WebSocket-Key: ${randomBytes(15).toString("base64")}`, GOOD[3]!]), 400],
        ["a key that is not base64", handshake([...GOOD.slice(0, 2), "Sec-WebSocket-Key: not base64 at all!!!!!", GOOD[3]!]), 400],
        ["two keys", handshake([...GOOD, `Sec-WebSocket-Key: ${KEY}`]), 400],
        ["POST", handshake(GOOD, "POST"), 400],
        ["no Upgrade", handshake(GOOD.filter((l) => !l.startsWith("Upgrade"))), 400],
        ["Upgrade: h2c", handshake(["Upgrade: h2c", ...GOOD.slice(1)]), 400],
        ["Connection without upgrade", handshake([GOOD[0]!, "Connection: keep-alive", ...GOOD.slice(2)]), 400],
        ["version 8", handshake([...GOOD.slice(0, 3), "Sec-WebSocket-Version: 8"]), 426],
        ["no version", handshake(GOOD.slice(0, 3)), 426],
      ];
      for (const [what, request, status] of cases) {
        const response = yield* rawExchange(server.port, request);
        assert.match(response, new RegExp(`^HTTP/1\\.1 ${status} `), what);
        assert.equal(headerOf(response, "sec-websocket-accept"), undefined, what);
        if (status === 426) assert.equal(headerOf(response, "sec-websocket-version"), "13", what);
      }
      // The same port still answers plain HTTP and a good handshake.
      assert.match(yield* rawExchange(server.port, "GET /page HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 200 [^]*plain \/page$/);
      const ok = yield* rawExchange(server.port, handshake(GOOD), /\r\n\r\n[^]+/);
      assert.match(ok, /^HTTP\/1\.1 101 /);
      assert.equal(headerOf(ok, "sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      assert.equal(headerOf(ok, "upgrade")?.toLowerCase(), "websocket");
    }),
  );
});

test("server: permessage-deflate offered raw is declined (no Sec-WebSocket-Extensions in the 101)", T, async () => {
  await run(() =>
    serving(handler, function* (server) {
      const ok = yield* rawExchange(
        server.port,
        handshake([...GOOD, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"]),
        /\r\n\r\n[^]+/,
      );
      assert.match(ok, /^HTTP\/1\.1 101 /);
      assert.equal(headerOf(ok, "sec-websocket-extensions"), undefined);
      // The first frame after the head: an unmasked, uncompressed (RSV1 clear) text frame.
      const frame = Buffer.from(ok.slice(ok.indexOf("\r\n\r\n") + 4), "latin1");
      assert.equal(frame[0], 0x81);
      assert.equal(frame.subarray(2, 2 + frame[1]!).toString(), "protocol=");
    }),
  );
});

test(
  "server and ws client: ws offers permessage-deflate by default and gets none; subprotocols: the client's first that the server lists",
  T,
  async () => {
    await run(() =>
      serving(handler, function* (server) {
        for (const [offered, chosen] of [
          [["chat.v1", "chat.v2"], "chat.v1"],
          [["other", "chat.v2"], "chat.v2"],
          [[], ""],
        ] as [string[], string][]) {
          const result = yield* call(
            () =>
              new Promise<{ protocol: string; extensions: string; text: string }>((resolve, reject) => {
                const peer = new WebSocketPeer(`ws://127.0.0.1:${server.port}/ws`, offered);
                peer.on("error", reject);
                peer.on("message", (data) => resolve({ protocol: peer.protocol, extensions: peer.extensions, text: String(data) }));
              }),
          );
          assert.deepEqual(result, { protocol: chosen, extensions: "", text: `protocol=${chosen}` }, offered.join(","));
        }
        // None in common: the server goes ahead without one, and ws (unlike browsers and weft's client) gives up.
        const refused = yield* call(
          () =>
            new Promise<string>((resolve) => {
              const peer = new WebSocketPeer(`ws://127.0.0.1:${server.port}/ws`, ["other"]);
              peer.on("error", (error) => resolve(error.message));
              peer.on("open", () => resolve("opened"));
            }),
        );
        assert.equal(refused, "Server sent no subprotocol");
      }),
    );
  },
);

test("weft client and server: subprotocol choice both sides see; isWebSocketRequest routes", T, async () => {
  const seen: boolean[] = [];
  const routed: HttpHandler = function* (req, res) {
    seen.push(isWebSocketRequest(req));
    if (!isWebSocketRequest(req)) return yield* res.send(200, "plain");
    yield* handler(req, res);
  };
  await run(() =>
    serving(routed, function* (server) {
      {
        using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/ws`, { protocols: ["x", "chat.v1", "chat.v2"] });
        assert.equal(ws.protocol, "chat.v1");
        assert.equal(yield* ws.recvText(), "protocol=chat.v1");
      }
      {
        using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/ws`);
        assert.equal(ws.protocol, "");
        assert.equal(yield* ws.recvText(), "protocol=");
      }
      {
        // None in common: the server answers without one, and the client goes ahead with "" (as browsers do).
        using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/ws`, { protocols: ["x"] });
        assert.equal(ws.protocol, "");
        assert.equal(yield* ws.recvText(), "protocol=");
      }
      assert.match(yield* rawExchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /plain$/);
    }),
  );
  assert.deepEqual(seen, [true, true, true, false]);
});

function accepted(head: string, extra: string[] = []): string {
  return [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${acceptKey(keyOf(head))}`,
    ...extra,
    "",
    "",
  ].join("\r\n");
}

test("client: a non-101 answer is HandshakeRejected with status, headers and the body", T, async () => {
  await run(function* () {
    const server = yield* rawServer(() => "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot you\r\n");
    try {
      const error = yield* captured(() => connectWebSocket(`ws://127.0.0.1:${server.port}/`));
      assert.ok(error instanceof HandshakeRejected, String(error));
      assert.equal(error.status, 403);
      assert.equal(error.headers.get("content-type"), "text/plain");
      assert.equal(new TextDecoder().decode(error.body), "not you\r\n");
    } finally {
      server.close();
    }
  });
});

test("client: a body longer than 64 KiB is kept to its first 64 KiB", T, async () => {
  await run(function* () {
    const big = "x".repeat(100_000);
    const server = yield* rawServer(() => `HTTP/1.1 500 Oops\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
    try {
      const error = yield* captured(() => connectWebSocket(`ws://127.0.0.1:${server.port}/`));
      assert.ok(error instanceof HandshakeRejected, String(error));
      assert.equal(error.status, 500);
      assert.equal(error.body.length, 64 * 1024);
    } finally {
      server.close();
    }
  });
});

test(
  "client: a wrong accept, an unoffered subprotocol, an extension, a missing Upgrade are HandshakeRejected (status 101)",
  T,
  async () => {
    await run(function* () {
      const cases: [string, (head: string) => string, RegExp, string[]][] = [
        [
          "wrong accept",
          () =>
            [
              "HTTP/1.1 101 Switching Protocols",
              "Upgrade: websocket",
              "Connection: Upgrade",
              `Sec-WebSocket-Accept: ${acceptKey(KEY)}`,
              "",
              "",
            ].join("\r\n"),
          /Sec-WebSocket-Accept/,
          [],
        ],
        ["unoffered subprotocol", (head) => accepted(head, ["Sec-WebSocket-Protocol: other"]), /did not offer/, ["mine"]],
        ["subprotocol when none offered", (head) => accepted(head, ["Sec-WebSocket-Protocol: mine"]), /did not offer/, []],
        ["an extension", (head) => accepted(head, ["Sec-WebSocket-Extensions: permessage-deflate"]), /extension/, []],
        ["no Upgrade", (head) => accepted(head).replace("Upgrade: websocket\r\n", ""), /Upgrade/, []],
      ];
      for (const [what, answer, message, protocols] of cases) {
        const server = yield* rawServer(answer);
        try {
          const error = yield* captured(() => connectWebSocket(`ws://127.0.0.1:${server.port}/`, { protocols }));
          assert.ok(error instanceof HandshakeRejected, `${what}: ${String(error)}`);
          assert.equal(error.status, 101, what);
          assert.match(error.message, message, what);
        } finally {
          server.close();
        }
      }
    });
  },
);

test("client: frame bytes sent with the 101 head are the first frame; the request carries the handshake headers", T, async () => {
  await run(function* () {
    let request = "";
    const server = yield* rawServer((head) => {
      request = head;
      const frame = Buffer.from([0x81, 5, ...Buffer.from("early")]);
      return Buffer.concat([Buffer.from(accepted(head, ["Sec-WebSocket-Protocol: b"]), "latin1"), frame]);
    });
    try {
      using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/path?q=1`, {
        protocols: ["a", "b"],
        headers: { origin: "http://example" },
      });
      assert.equal(ws.protocol, "b");
      assert.equal(yield* ws.recvText(), "early");
    } finally {
      server.close();
    }
    assert.match(request, /^GET \/path\?q=1 HTTP\/1\.1\r\n/);
    assert.equal(headerOf(request, "host"), `127.0.0.1:${server.port}`);
    assert.equal(headerOf(request, "upgrade"), "websocket");
    assert.equal(headerOf(request, "sec-websocket-version"), "13");
    assert.equal(headerOf(request, "sec-websocket-protocol"), "a, b");
    assert.equal(headerOf(request, "origin"), "http://example");
    assert.equal(headerOf(request, "sec-websocket-extensions"), undefined);
    assert.ok(isValidKey(keyOf(request)));
  });
});

test("client: bad URLs and options are TypeErrors before connecting", T, async () => {
  await run(function* () {
    for (const [url, options] of [
      ["http://127.0.0.1:1/", undefined],
      ["ws://127.0.0.1:1/#frag", undefined],
      ["not a url", undefined],
      ["ws://127.0.0.1:1/", { headers: { "sec-websocket-key": KEY } }],
      ["ws://127.0.0.1:1/", { headers: { upgrade: "h2c" } }],
      ["ws://127.0.0.1:1/", { protocols: ["a b"] }],
      ["ws://127.0.0.1:1/", { protocols: ["a", "a"] }],
      ["ws://127.0.0.1:1/", { proxy: "socks5://127.0.0.1:1" }],
      ["ws://127.0.0.1:1/", { maxMessageSize: -1 }],
    ] as [string, object | undefined][]) {
      const error = yield* captured(() => connectWebSocket(url, options));
      assert.ok(error instanceof TypeError || error instanceof RangeError, `${url} ${JSON.stringify(options)}: ${String(error)}`);
    }
  });
});

test("server: a bad option is a TypeError before the 101 (the request is then answered 500 by the server)", T, async () => {
  const errors: unknown[] = [];
  const bad: HttpHandler = function* (req, res) {
    try {
      yield* acceptWebSocket(req, res, { protocols: ["no spaces allowed"] });
    } catch (error) {
      errors.push(error);
      yield* res.send(500);
    }
  };
  await run(() =>
    serving(bad, function* (server) {
      assert.match(yield* rawExchange(server.port, handshake(GOOD)), /^HTTP\/1\.1 500 /);
    }),
  );
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TypeError);
});

/** What `body` threw (a test failure when it returned). */
function* captured(body: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: "expected an error" });
}

test("client: a handshake cancelled while the server is silent drops the connection", T, async () => {
  await run(function* () {
    let closed: Promise<void> | undefined;
    const server = yield* call(
      () =>
        new Promise<{ port: number; close(): void }>((resolve) => {
          const listener = createServer((socket) => {
            // Never answers; notes when the client goes away.
            closed = new Promise((gone) => socket.once("close", () => gone()));
            socket.on("error", () => {}); // the client aborts: a reset
            socket.resume();
          });
          listener.listen(0, "127.0.0.1", () =>
            resolve({ port: (listener.address() as { port: number }).port, close: () => listener.close() }),
          );
        }),
    );
    try {
      const error = yield* captured(() => withTimeout(50, () => connectWebSocket(`ws://127.0.0.1:${server.port}/`)));
      assert.ok(error instanceof TimeoutError, String(error));
      assert.ok(closed !== undefined, "the client connected");
      yield* call(() => closed!);
    } finally {
      server.close();
    }
  });
});

test("client: a proxy refusing CONNECT is a ProxyError with its answer", T, async () => {
  await run(function* () {
    let request = "";
    const proxy = yield* rawServer((head) => {
      request = head;
      return "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n";
    });
    try {
      const error = yield* captured(() =>
        connectWebSocket("ws://example.invalid:8080/chat", { proxy: `http://user:pa%20ss@127.0.0.1:${proxy.port}` }),
      );
      assert.ok(error instanceof ProxyError, String(error));
      assert.equal(error.response.status, 407);
    } finally {
      proxy.close();
    }
    assert.match(request, /^CONNECT example\.invalid:8080 HTTP\/1\.1\r\n/);
    assert.equal(headerOf(request, "proxy-authorization"), `Basic ${Buffer.from("user:pa ss").toString("base64")}`);
  });
});
