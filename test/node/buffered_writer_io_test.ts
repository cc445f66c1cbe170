/**
 * `BufferedWriter` over weft's real sinks, which keep the buffers it hands
 * over until they are written and then give them back for reuse (a TCP
 * connection, a TLS connection over a socket or over a weft stream, a
 * child's stdin): megabytes in writes of every size arrive complete and in
 * order while the peer reads slowly. The peer falls behind by more than the
 * kernel buffers, so handed-over buffers wait in the socket's own queue while
 * the writer goes on in others; the buffer is small (4 KiB) so that several
 * fit under the socket's high-water mark and the writer does not wait for
 * each one to drain. A buffer given back before the socket wrote it would be
 * written into again and show as corrupt bytes at the peer.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { BufferedWriter, type Reader, type Writer } from "../../src/io.ts";
import { acceptTls, connectTcp, connectTls, listenTcp, listenTls, spawnProcess, startTls } from "../../src/node.ts";
import { concat, pattern } from "../io/support.ts";
import { duplexPair, hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const LIMIT = { timeout: 60_000 };
const TOTAL = 16 * 1024 * 1024;
const BUFFER = 4 * 1024;
const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

/** Writes `data` to `sink` through a small BufferedWriter in writes of 1 byte to 10 KiB (a fixed sequence), then flushes. */
function* writeInPieces(sink: Writer, data: Uint8Array): Operation<void> {
  using out = new BufferedWriter(sink, BUFFER);
  let seed = 7;
  for (let at = 0; at < data.length; ) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const size = seed % 5 === 0 ? 1 + (seed % (10 * 1024)) : 1 + (seed % 1500);
    yield* out.write(data.subarray(at, at + size));
    at += size;
  }
  yield* out.flush();
}

/**
 * Reads `reader` to its end, a millisecond's pause after each chunk, so that
 * the writer gets ahead and its socket queues what it was handed.
 */
function* readSlowly(reader: Reader): Operation<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let chunk; (chunk = yield* reader.readSome()) !== undefined; ) {
    parts.push(chunk.slice());
    yield* sleep(1);
  }
  return concat(parts);
}

/** Where the bytes that arrived first differ from those sent, or -1. */
function firstDifference(got: Uint8Array, sent: Uint8Array): number {
  const n = Math.min(got.length, sent.length);
  for (let i = 0; i < n; i++) if (got[i] !== sent[i]) return i;
  return got.length === sent.length ? -1 : n;
}

/** A connected end that can half-close: what the socket tests write through. */
interface Connection extends Reader, Writer {
  shutdownWrite(): void;
  [Symbol.dispose](): void;
}

/** A listener whose connections the tests read from. */
interface Listener {
  readonly port: number;
  accept(): Operation<Connection>;
  [Symbol.dispose](): void;
}

/** Sends `data` from a connection made by `connect` to one `listener` accepted, which reads it slowly; returns what arrived. */
function* throughSocket(listener: Listener, connect: (port: number) => Operation<Connection>, data: Uint8Array): Operation<Uint8Array> {
  using server = listener;
  return yield* withTaskGroup<Uint8Array>(function* (group) {
    const received = group.spawn(function* () {
      using conn = yield* server.accept();
      return yield* readSlowly(conn);
    });
    using conn = yield* connect(server.port);
    yield* writeInPieces(conn, data);
    conn.shutdownWrite();
    return yield* received.wait();
  });
}

test("over TCP, what a BufferedWriter hands the connection arrives complete and in order", LIMIT, async () => {
  const data = pattern(TOTAL, 1);
  const got = await run(function* () {
    const listener = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    return yield* throughSocket(listener, (port) => connectTcp({ host: "127.0.0.1", port }), data);
  });
  assert.equal(firstDifference(got, data), -1);
});

test("over TLS on a socket, what a BufferedWriter hands the connection arrives complete and in order", {
  ...LIMIT,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const data = pattern(TOTAL / 2, 2);
  const got = await run(function* () {
    const listener = yield* listenTls({ host: "127.0.0.1", port: 0, key: pki.server.key, cert: pki.server.cert });
    return yield* throughSocket(listener, (port) => connectTls({ host: "localhost", port, ca: pki.ca.cert }), data);
  });
  assert.equal(firstDifference(got, data), -1);
});

test("over TLS on a weft stream, what a BufferedWriter hands the connection arrives complete and in order", {
  ...LIMIT,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const data = pattern(TOTAL / 4, 3);
  const [a, b] = duplexPair();
  const got = await run(() =>
    withTaskGroup<Uint8Array>(function* (group) {
      const received = group.spawn(function* () {
        using tls = yield* acceptTls(b, { key: pki.server.key, cert: pki.server.cert });
        return yield* readSlowly(tls);
      });
      using tls = yield* startTls(a, { servername: "localhost", ca: pki.ca.cert });
      // The client reads too: a rendezvous pipe buffers nothing, so the server's post-handshake messages (TLS 1.3
      // session tickets) wait for this side to read them before the server reads on.
      const draining = group.spawn(() => tls.readAll());
      yield* writeInPieces(tls, data);
      tls.shutdownWrite();
      const got = yield* received.wait();
      // The server closed its side once it had read everything: the client reads that end before it closes.
      yield* draining.wait();
      return got;
    }),
  );
  assert.equal(firstDifference(got, data), -1);
});

test("into a child's stdin, what a BufferedWriter hands the pipe comes back from cat complete and in order", LIMIT, async () => {
  const data = pattern(TOTAL, 4);
  const got = await run(function* () {
    using proc = yield* spawnProcess("cat", [], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const echoed = yield* withTaskGroup<Uint8Array>(function* (group) {
      group.startSoon(function* () {
        yield* writeInPieces(proc.stdin, data);
        proc.stdin.close();
      });
      return yield* readSlowly(proc.stdout);
    });
    yield* proc.wait();
    return echoed;
  });
  assert.equal(firstDifference(got, data), -1);
});
