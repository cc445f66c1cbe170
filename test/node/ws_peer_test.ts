/**
 * weft/ws against the `ws` package, both ways: a weft server with a `ws`
 * client and a `ws` server with a weft client exchange text, binary,
 * fragmented messages (each side fragmenting), pings each way, a 5 MiB
 * message, and close codes and reasons from either side. Then wss:// with
 * certificates made by openssl at test time, and ws:// and wss:// through
 * tinyproxy's CONNECT tunnel. Every wait has the test's time limit; nothing
 * depends on timing.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer as createHttpsServer } from "node:https";
import { WebSocket as WebSocketPeer, WebSocketServer, type RawData } from "ws";
import { call, run, withTaskGroup, type Operation } from "../../src/index.ts";
import type { HttpHandler } from "../../src/http/server/connection.ts";
import { listenHttp } from "../../src/http/server/server.ts";
import { acceptWebSocket, ConnectionClosed, connectWebSocket, type WebSocket } from "../../src/ws.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";
import { HAS_TINYPROXY, PeerInbox, serving, startTinyproxy } from "./ws_support.ts";

const T = { timeout: 60_000 };
const BIG = 5 * 1024 * 1024;
const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki | undefined;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

interface Received {
  data: Buffer;
  binary: boolean;
}

function asBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
}

/** A `ws` client connected to `url`, with its messages, pongs and close in inboxes. */
async function openPeer(url: string, options: ConstructorParameters<typeof WebSocketPeer>[2] = {}) {
  const peer = new WebSocketPeer(url, options);
  const messages = new PeerInbox<Received>();
  const pongs = new PeerInbox<string>();
  const closed = new PeerInbox<{ code: number; reason: string }>();
  peer.on("message", (data, binary) => messages.push({ data: asBuffer(data), binary }));
  peer.on("pong", (data) => pongs.push(data.toString()));
  peer.on("close", (code, reason) => closed.push({ code, reason: reason.toString() }));
  await new Promise<void>((resolve, reject) => {
    peer.once("open", resolve);
    peer.once("error", reject);
  });
  return { peer, messages, pongs, closed };
}

/** What the weft echo handlers saw close their connections. */
const serverCloses: { code: number; reason: string }[] = [];

/**
 * Echoes each message with its kind; some texts are commands: "fragment"
 * sends a message in three fragments, "ping" pings the client and says so
 * once the pong came, "close" closes with 4001.
 */
function* echo(ws: WebSocket): Operation<void> {
  for (;;) {
    let message;
    try {
      message = yield* ws.recv();
    } catch (error) {
      if (!(error instanceof ConnectionClosed)) throw error;
      serverCloses.push({ code: error.code, reason: error.reason });
      return;
    }
    const data = (yield* message.reader.readAll()).bytes();
    if (message.kind === "text") {
      const text = new TextDecoder().decode(data);
      if (text === "fragment") {
        const writer = yield* ws.startMessage("text");
        for (const part of ["frag", "men", "ted"]) yield* writer.write(part);
        yield* writer.end();
        continue;
      }
      if (text === "ping") {
        yield* ws.ping("from server");
        yield* ws.sendText("pong came");
        continue;
      }
      if (text === "close") {
        yield* ws.close(4001, "server says bye");
        return;
      }
      yield* ws.sendText(text);
    } else {
      yield* ws.sendBinary(data);
    }
  }
}

const echoHandler: HttpHandler = function* (req, res) {
  using ws = yield* acceptWebSocket(req, res, { maxMessageSize: 16 * 1024 * 1024 });
  yield* echo(ws);
};

test("weft server, ws client: text, binary, fragments both ways, pings both ways, 5 MiB, close codes both ways", T, async () => {
  serverCloses.length = 0;
  await run(() =>
    serving(echoHandler, function* (server) {
      const url = `ws://127.0.0.1:${server.port}/`;
      yield* call(async () => {
        const { peer, messages, pongs, closed } = await openPeer(url);
        peer.send("héllo ✓");
        assert.deepEqual(await messages.next(), { data: Buffer.from("héllo ✓"), binary: false });
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        peer.send(bytes);
        assert.deepEqual(await messages.next(), { data: bytes, binary: true });
        // ws fragments when told fin: false; weft joins the fragments.
        peer.send("a", { fin: false });
        peer.send("b", { fin: false });
        peer.send("c", { fin: true });
        assert.deepEqual(await messages.next(), { data: Buffer.from("abc"), binary: false });
        peer.send("fragment");
        assert.deepEqual(await messages.next(), { data: Buffer.from("fragmented"), binary: false });
        peer.ping("from client");
        assert.equal(await pongs.next(), "from client");
        peer.send("ping");
        assert.deepEqual(await messages.next(), { data: Buffer.from("pong came"), binary: false });
        const big = randomBytes(BIG);
        peer.send(big);
        const back = await messages.next();
        assert.equal(back.binary, true);
        assert.ok(back.data.equals(big), "the 5 MiB message came back unchanged");
        peer.close(4000, "client says bye");
        // The echo carries the code (RFC 6455 §5.5.1); the reason is the server's to give.
        assert.equal((await closed.next()).code, 4000);

        const second = await openPeer(url);
        second.peer.send("close");
        assert.deepEqual(await second.closed.next(), { code: 4001, reason: "server says bye" });
      });
    }),
  );
  assert.deepEqual(serverCloses, [{ code: 4000, reason: "client says bye" }]);
});

/** A `ws` server echoing messages (kind kept), with the same commands as `echo`, its closes recorded. */
async function startPeerServer(options: { server?: ReturnType<typeof createHttpsServer> } = {}) {
  const closes: { code: number; reason: string }[] = [];
  const closed = new PeerInbox<number>(); // the codes: PeerInbox cannot hold undefined
  const wss =
    options.server === undefined ? new WebSocketServer({ host: "127.0.0.1", port: 0 }) : new WebSocketServer({ server: options.server });
  wss.on("connection", (peer) => {
    peer.on("close", (code, reason) => {
      closes.push({ code, reason: reason.toString() });
      closed.push(code);
    });
    peer.on("message", (data, binary) => {
      const bytes = asBuffer(data);
      const text = binary ? "" : bytes.toString();
      if (text === "fragment") {
        peer.send("frag", { fin: false });
        peer.send("men", { fin: false });
        peer.send("ted", { fin: true });
      } else if (text === "ping") {
        peer.once("pong", (payload) => peer.send(`pong came: ${payload.toString()}`));
        peer.ping("from server");
      } else if (text === "close") {
        peer.close(4002, "ws server says bye");
      } else {
        peer.send(bytes, { binary });
      }
    });
  });
  if (options.server === undefined) await new Promise<void>((resolve) => wss.once("listening", resolve));
  else await new Promise<void>((resolve) => options.server!.listen(0, "127.0.0.1", resolve));
  const address = (options.server ?? wss).address() as { port: number };
  return {
    port: address.port,
    closes,
    /** Resolves when `n` more connections have closed (their close events came). */
    async closedCount(n: number): Promise<void> {
      for (let i = 0; i < n; i++) await closed.next();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => (options.server === undefined ? resolve() : options.server.close(() => resolve())));
      }),
  };
}

test("ws server, weft client: text, binary, fragments both ways, pings both ways, 5 MiB, close codes both ways", T, async () => {
  const peerServer = await startPeerServer();
  try {
    await run(function* () {
      const url = `ws://127.0.0.1:${peerServer.port}/`;
      {
        using ws = yield* connectWebSocket(url, { maxMessageSize: 16 * 1024 * 1024 });
        yield* ws.sendText("héllo ✓");
        assert.equal(yield* ws.recvText(), "héllo ✓");
        const bytes = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
        yield* ws.sendBinary(bytes);
        const message = yield* ws.recv();
        assert.equal(message.kind, "binary");
        assert.deepEqual(Uint8Array.from((yield* message.reader.readAll()).bytes()), bytes);
        // weft fragments through startMessage; ws joins the fragments.
        const writer = yield* ws.startMessage("text");
        for (const part of ["a", "b", "c"]) yield* writer.write(part);
        yield* writer.end();
        assert.equal(yield* ws.recvText(), "abc");
        yield* ws.sendText("fragment");
        assert.equal(yield* ws.recvText(), "fragmented");
        yield* ws.ping("from client");
        // The server's ping is answered by the task reading.
        yield* ws.sendText("ping");
        assert.equal(yield* ws.recvText(), "pong came: from server");
        const big = randomBytes(BIG);
        const copy = Buffer.from(big);
        yield* ws.sendBinary(big);
        assert.ok(Buffer.from(yield* ws.recvBytes()).equals(copy), "the 5 MiB message came back unchanged");
        // Masking works on a copy: the caller's bytes are the caller's.
        assert.ok(big.equals(copy), "sendBinary left the caller's bytes as they were");
        yield* ws.close(4003, "weft client says bye");
      }
      {
        using ws = yield* connectWebSocket(url);
        yield* ws.sendText("close");
        const error = yield* captured(() => ws.recv());
        assert.ok(error instanceof ConnectionClosed, String(error));
        assert.equal(error.code, 4002);
        assert.equal(error.reason, "ws server says bye");
      }
    });
    await peerServer.closedCount(2);
  } finally {
    await peerServer.stop();
  }
  assert.deepEqual(peerServer.closes, [
    { code: 4003, reason: "weft client says bye" },
    // ws reports what the echo carried: the code (RFC 6455 §5.5.1), and the reason the weft client chose not to repeat.
    { code: 4002, reason: "" },
  ]);
});

test("wss://: weft server with ws client, ws server with weft client (certificates made by openssl now)", T, async (t) => {
  if (pki === undefined) return t.skip("openssl not installed");
  const { ca, server: leaf } = pki;
  // weft server over TLS, ws client trusting the test CA.
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0, tls: { key: leaf.key, cert: leaf.cert } });
    yield* withTaskGroup(function* (group) {
      const task = group.spawn(() => server.serve(echoHandler));
      yield* call(async () => {
        const { peer, messages, closed } = await openPeer(`wss://127.0.0.1:${server.port}/`, { ca: ca.cert });
        peer.send("over tls");
        assert.deepEqual(await messages.next(), { data: Buffer.from("over tls"), binary: false });
        peer.close(1000);
        assert.equal((await closed.next()).code, 1000);
      });
      // And the weft client against the weft server.
      {
        using ws = yield* connectWebSocket(`wss://127.0.0.1:${server.port}/`, { tls: { ca: ca.cert } });
        yield* ws.sendText("weft to weft over tls");
        assert.equal(yield* ws.recvText(), "weft to weft over tls");
        yield* ws.close();
      }
      task.cancel();
    });
  });
  // ws server over node:https, weft client trusting the test CA.
  const peerServer = await startPeerServer({ server: createHttpsServer({ key: leaf.key, cert: leaf.cert }) });
  try {
    await run(function* () {
      using ws = yield* connectWebSocket(`wss://localhost:${peerServer.port}/`, { tls: { ca: ca.cert } });
      yield* ws.sendText("to ws over tls");
      assert.equal(yield* ws.recvText(), "to ws over tls");
      yield* ws.close(1000, "done");
      // A client that does not trust the CA fails in the TLS handshake.
      const error = yield* captured(() => connectWebSocket(`wss://localhost:${peerServer.port}/`, { tls: { ca: pki!.otherCa.cert } }));
      assert.ok(error instanceof Error && !(error instanceof ConnectionClosed), String(error));
    });
    await peerServer.closedCount(1);
  } finally {
    await peerServer.stop();
  }
  assert.deepEqual(peerServer.closes, [{ code: 1000, reason: "done" }]);
});

test("through tinyproxy: ws:// to a weft server and wss:// to a ws server, both over CONNECT", T, async (t) => {
  if (!HAS_TINYPROXY) return t.skip("tinyproxy not installed");
  if (pki === undefined) return t.skip("openssl not installed");
  const proxy = await startTinyproxy();
  const peerServer = await startPeerServer({ server: createHttpsServer({ key: pki.server.key, cert: pki.server.cert }) });
  try {
    await run(() =>
      serving(echoHandler, function* (server) {
        const proxyUrl = `http://127.0.0.1:${proxy.port}`;
        {
          using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/`, { proxy: proxyUrl });
          yield* ws.sendText("through the proxy");
          assert.equal(yield* ws.recvText(), "through the proxy");
          yield* ws.close();
        }
        {
          using ws = yield* connectWebSocket(`wss://localhost:${peerServer.port}/`, { proxy: proxyUrl, tls: { ca: pki!.ca.cert } });
          yield* ws.sendBinary(new Uint8Array([1, 2, 3]));
          assert.deepEqual(Uint8Array.from(yield* ws.recvBytes()), new Uint8Array([1, 2, 3]));
          yield* ws.close(1000, "proxied");
        }
      }),
    );
    await peerServer.closedCount(1);
  } finally {
    await peerServer.stop();
    await proxy.stop();
  }
  assert.deepEqual(peerServer.closes, [{ code: 1000, reason: "proxied" }]);
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
