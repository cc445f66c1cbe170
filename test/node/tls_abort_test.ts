/**
 * `TlsConnection.abort()` and `TlsServer.connections`: a TLS connection is
 * dropped at once (no close_notify, no linger), the task blocked on it and
 * every later read or write get ECONNABORTED, and a server can drop a client
 * another task is handling. Nothing leaks.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { pipe } from "../../src/io.ts";
import { acceptTls, connectTls, listenTls, startTls, type TlsTransport } from "../../src/node.ts";
import { quietResources, settleResources } from "./net_support.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

type CodedError = Error & { code?: string };

const LIMIT = { timeout: 30_000, skip: !HAS_OPENSSL && "openssl is not installed" };

function* failure(body: () => Operation<unknown>): Operation<CodedError> {
  try {
    yield* body();
  } catch (error) {
    return error as CodedError;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

test(
  "TlsConnection.abort() wakes a read blocked on it with ECONNABORTED; later reads and writes throw it too; the peer's read ends; nothing leaks",
  LIMIT,
  async () => {
    const baseline = await quietResources();
    await run(function* () {
      using server = yield* listenTls({ host: "127.0.0.1", port: 0, key: pki.server.key, cert: pki.server.cert });
      yield* withTaskGroup<void>(function* (group) {
        const peer = group.spawn(function* () {
          using served = yield* server.accept();
          // End of stream (no close_notify is sent) or a reset: either way the read ends.
          try {
            return yield* served.readSome();
          } catch (error) {
            return (error as CodedError).code;
          }
        });
        using client = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
        const reader = group.spawn(() => failure(() => client.readLine()));
        yield* sleep(5);
        client.abort();
        client.abort(); // idempotent
        const blocked = yield* reader.wait();
        assert.equal(blocked.code, "ECONNABORTED", String(blocked));
        assert.match(blocked.message, /^TlsConnection\.read\(\): the connection was aborted by abort\(\) on this side/);
        assert.equal((yield* failure(() => client.write("x"))).code, "ECONNABORTED");
        const seen = yield* peer.wait();
        assert.ok(seen === undefined || seen === "ECONNRESET", `the peer's read gave ${String(seen)}`);
      });
    });
    assert.deepEqual(await settleResources(baseline), baseline);
  },
);

test(
  "TlsServer.connections: another task drops a served client; its handler's read ends with ECONNABORTED; nothing leaks",
  LIMIT,
  async () => {
    const baseline = await quietResources();
    const errors: string[] = [];
    await run(function* () {
      using server = yield* listenTls({ host: "127.0.0.1", port: 0, key: pki.server.key, cert: pki.server.cert });
      yield* withTaskGroup<void>(function* (group) {
        const serving = group.spawn(() =>
          server.serve(
            function* (conn) {
              yield* conn.readLine();
            },
            { onError: (error) => errors.push(String((error as CodedError).code)) },
          ),
        );
        using client = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
        while (server.connections.size === 0) yield* sleep(1);
        for (const conn of server.connections) conn.abort();
        try {
          assert.equal(yield* client.readLine(), undefined);
        } catch (error) {
          assert.equal((error as CodedError).code, "ECONNRESET");
        }
        while (server.connections.size > 0) yield* sleep(1);
        assert.deepEqual(errors, ["ECONNABORTED"]);
        serving.cancel();
      });
    });
    assert.deepEqual(await settleResources(baseline), baseline);
  },
);

/** One end of an in-memory duplex made of two pipes, with an abort() that records it was called. */
function duplexPair(): [TlsTransport & { aborted: boolean }, TlsTransport] {
  const [r1, w1] = pipe();
  const [r2, w2] = pipe();
  const end = (reader: typeof r1, writer: typeof w1) => ({
    aborted: false,
    read: (buf: Uint8Array, offset?: number, length?: number) => reader.read(buf, offset, length),
    readSome: (max?: number) => reader.readSome(max),
    readExactly: (n: number) => reader.readExactly(n),
    readUntil: (sep: Uint8Array | string) => reader.readUntil(sep),
    readLine: () => reader.readLine(),
    readAll: () => reader.readAll(),
    drop: (n: number) => reader.drop(n),
    get buffered() {
      return reader.buffered;
    },
    write: (data: Uint8Array | string) => writer.write(data),
    writeReader: (r: Parameters<typeof writer.writeReader>[0]) => writer.writeReader(r),
    shutdownWrite: () => writer.close(),
    close: () => {
      reader.close();
      writer.close();
    },
  });
  const a = end(r1, w2);
  const withAbort = Object.assign(a, {
    abort() {
      withAbort.aborted = true;
      a.close();
    },
  });
  return [withAbort as TlsTransport & { aborted: boolean }, end(r2, w1) as TlsTransport];
}

test(
  "TlsConnection.abort() over a weft stream aborts the stream under it and wakes the blocked read with ECONNABORTED",
  LIMIT,
  async () => {
    await run(function* () {
      const [a, b] = duplexPair();
      yield* withTaskGroup<void>(function* (group) {
        const serverSide = group.spawn(() => acceptTls(b, { key: pki.server.key, cert: pki.server.cert }));
        const client = yield* startTls(a, { servername: "localhost", ca: pki.ca.cert });
        // Over a weft stream the client's last handshake bytes go out with its next read.
        const reader = group.spawn(() => failure(() => client.readLine()));
        using served = yield* serverSide.wait();
        yield* sleep(5);
        client.abort();
        assert.equal(a.aborted, true, "the stream under TLS was aborted");
        assert.equal((yield* reader.wait()).code, "ECONNABORTED");
        assert.equal((yield* failure(() => client.write("x"))).code, "ECONNABORTED");
        // The peer sees the stream end.
        try {
          assert.equal(yield* served.readSome(), undefined);
        } catch (error) {
          assert.ok(error instanceof Error);
        }
      });
    });
  },
);
