/**
 * startTls and acceptTls: TLS over weft streams that are already open (an
 * in-memory pipe() pair, a TCP connection after STARTTLS with the client's
 * hello already in the server's read buffer), ownership of the stream, and
 * cancellation of the handshake, of reads and of writes.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { Cancelled, pause, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import {
  acceptTls,
  connectTcp,
  connectTls,
  listenTcp,
  listenTls,
  startTls,
  type TlsConnection,
  type TlsTransport,
} from "../../src/node.ts";
import { quietResources, settleResources } from "./net_support.ts";
import { duplexPair, hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

/** A TCP server that accepts and never says anything (no TLS handshake ever). */
async function silentServer(): Promise<{ silent: { stop(): void }; port: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stop = (): void => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return { silent: { stop }, port: (server.address() as net.AddressInfo).port };
}

test("startTls and acceptTls over an in-memory pipe() pair: bytes go both ways, end of stream crosses, closing closes the pipes", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const [a, b] = duplexPair();
  const result = await run(() =>
    withTaskGroup<{ client: string | undefined; server: string | undefined; alpn: string | undefined; rest: number }>(function* (group) {
      const server = group.spawn(function* () {
        using tls = yield* acceptTls(b, { key: pki.server.key, cert: pki.server.cert, alpn: ["weft/1"] });
        const line = yield* tls.readLine();
        yield* tls.write(`got ${line}\n`);
        return line;
      });
      using tls = yield* startTls(a, { servername: "localhost", ca: pki.ca.cert, alpn: ["weft/1"] });
      yield* tls.write("over a pipe\n");
      const reply = yield* tls.readLine();
      const rest = yield* tls.readAll();
      return { client: reply, server: yield* server.wait(), alpn: tls.alpnProtocol, rest: rest.length };
    }),
  );
  assert.deepEqual(result, { client: "got over a pipe", server: "over a pipe", alpn: "weft/1", rest: 0 });
  assert.equal(a.closed, true, "the client's TLS connection closed its stream");
  assert.equal(b.closed, true, "the server's TLS connection closed its stream");
});

test("40 handshakes in a row over pipe() pairs, with and without client certificates, all complete", {
  timeout: 120_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  let completed = 0;
  for (let i = 0; i < 40; i++) {
    const withCert = i % 2 === 0;
    const [a, b] = duplexPair();
    await run(() =>
      withTaskGroup<void>(function* (group) {
        const server = group.spawn(function* () {
          using tls = yield* acceptTls(b, {
            key: pki.server.key,
            cert: pki.server.cert,
            ca: pki.ca.cert,
            requestCert: withCert,
            handshakeTimeout: 20_000,
          });
          yield* tls.write("hi\n");
        });
        using tls = yield* startTls(a, {
          servername: "localhost",
          ca: pki.ca.cert,
          handshakeTimeout: 20_000,
          ...(withCert ? { cert: pki.client.cert, key: pki.client.key } : {}),
        });
        assert.equal(yield* tls.readLine(), "hi");
        yield* server.wait();
        completed++;
      }),
    );
  }
  assert.equal(completed, 40);
});

test("startTls over a pipe verifies the server: another root is refused with Node's code and the stream is closed", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const [a, b] = duplexPair();
  const outcome = await run(() =>
    withTaskGroup<string>(function* (group) {
      group.startSoon(function* () {
        try {
          (yield* acceptTls(b, { key: pki.server.key, cert: pki.server.cert })).close();
        } catch {
          // The client gave up: the server's handshake fails too.
        }
      });
      try {
        yield* startTls(a, { servername: "localhost", ca: pki.otherCa.cert });
        return "connected";
      } catch (error) {
        return String((error as { code?: unknown }).code);
      }
    }),
  );
  assert.ok(
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "SELF_SIGNED_CERT_IN_CHAIN"].includes(outcome),
    outcome,
  );
  assert.equal(a.closed, true);
});

test("acceptTls with requestCert over a pipe: a client certificate from the CA is accepted and seen", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const [a, b] = duplexPair();
  const seen = await run(() =>
    withTaskGroup<string>(function* (group) {
      const server = group.spawn(function* () {
        using tls = yield* acceptTls(b, { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true });
        yield* tls.write("hi\n");
        return `${tls.authorized} ${tls.peerCertificate()?.subject.CN}`;
      });
      using tls = yield* startTls(a, { servername: "localhost", ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key });
      assert.equal(yield* tls.readLine(), "hi");
      return yield* server.wait();
    }),
  );
  assert.equal(seen, "true weft test client");
});

test("STARTTLS on TCP: the client's hello, already in the server's read buffer behind the command line, is the first thing the TLS engine reads", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const baseline = await quietResources();
  const result = await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    return yield* withTaskGroup<{ reply: string | undefined; served: string; bufferedAfterCommand: number }>(function* (group) {
      const served = group.spawn(function* () {
        const conn = yield* server.accept();
        const command = yield* conn.readLine();
        const bufferedAfterCommand = conn.buffered;
        using tls = yield* acceptTls(conn, { key: pki.server.key, cert: pki.server.cert });
        const line = yield* tls.readLine();
        yield* tls.write(`${command} then ${line}\n`);
        return { served: `${command}/${line}`, bufferedAfterCommand };
      });
      const tcp = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      // The command and the TLS hello leave in one write, as a client that
      // pipelines STARTTLS would send them.
      let prefix: string | undefined = "STARTTLS\n";
      // A plain object, not a TcpConnection: startTls drives it through its own operations.
      const pipelined: TlsTransport = Object.assign(Object.create(null) as TlsTransport, {
        *write(data: string | Uint8Array): Operation<void> {
          if (prefix === undefined) return yield* tcp.write(data);
          const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
          const joined = new Uint8Array(prefix.length + bytes.length);
          joined.set(new TextEncoder().encode(prefix));
          joined.set(bytes, prefix.length);
          prefix = undefined;
          yield* tcp.write(joined);
        },
        readSome: (max?: number) => tcp.readSome(max),
        close: () => tcp.close(),
      });
      using tls = yield* startTls(pipelined, { servername: "localhost", ca: pki.ca.cert });
      yield* tls.write("hello\n");
      const reply = yield* tls.readLine();
      const { served: s, bufferedAfterCommand } = yield* served.wait();
      return { reply, served: s, bufferedAfterCommand };
    });
  });
  assert.equal(result.reply, "STARTTLS then hello");
  assert.equal(result.served, "STARTTLS/hello");
  assert.ok(result.bufferedAfterCommand > 0, "the hello had arrived with the command (the case under test)");
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("STARTTLS on TCP after a plaintext exchange: startTls takes the TcpConnection's socket over; both sides read and write, and the client's close ends the server's reads", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const baseline = await quietResources();
  const result = await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    return yield* withTaskGroup<{ reply: string | undefined; served: string; port: number; alpn: string | undefined }>(function* (group) {
      const served = group.spawn(function* () {
        using conn = yield* server.accept();
        const command = yield* conn.readLine();
        yield* conn.write("GO\n");
        using tls = yield* acceptTls(conn, { key: pki.server.key, cert: pki.server.cert, alpn: ["weft/1"] });
        const line = yield* tls.readLine();
        yield* tls.write(`secure ${line}\n`);
        const rest = yield* tls.readAll();
        return `${command}/${line}/${rest.length}`;
      });
      const tcp = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      yield* tcp.write("STARTTLS\n");
      assert.equal(yield* tcp.readLine(), "GO");
      const tls = yield* startTls(tcp, { servername: "localhost", ca: pki.ca.cert, alpn: ["weft/1"] });
      yield* tls.write("hello\n");
      const reply = yield* tls.readLine();
      tls.close();
      return { reply, served: yield* served.wait(), port: tls.remotePort, alpn: tls.alpnProtocol };
    });
  });
  assert.equal(result.reply, "secure hello");
  assert.equal(result.served, "STARTTLS/hello/0");
  assert.equal(result.alpn, "weft/1");
  assert.ok(result.port > 0);
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("a handshake cancelled while the peer says nothing closes the stream: over a pipe, and connectTls over TCP leaks no socket", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const baseline = await quietResources();
  const [a] = duplexPair();
  const { silent, port } = await silentServer();
  const outcome = await run(function* () {
    const overPipe = yield* withTimeoutOpt(100, () => startTls(a, { servername: "localhost", ca: pki.ca.cert }));
    const overTcp = yield* withTimeoutOpt(100, () => connectTls({ host: "127.0.0.1", port, ca: pki.ca.cert }));
    return { overPipe, overTcp };
  });
  assert.deepEqual(outcome, { overPipe: undefined, overTcp: undefined });
  assert.equal(a.closed, true, "the pipe was closed");
  silent.stop();
  assert.deepEqual(await settleResources(baseline), baseline, "no socket left open");
});

test("connectTls: handshakeTimeout fails a handshake the server never answers with ERR_TLS_HANDSHAKE_TIMEOUT", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const baseline = await quietResources();
  const { silent, port } = await silentServer();
  const code = await run(function* () {
    try {
      yield* connectTls({ host: "127.0.0.1", port, ca: pki.ca.cert, handshakeTimeout: 100 });
      return "connected";
    } catch (error) {
      return String((error as { code?: unknown }).code);
    }
  });
  assert.equal(code, "ERR_TLS_HANDSHAKE_TIMEOUT");
  silent.stop();
  assert.deepEqual(await settleResources(baseline), baseline);
});

// Over TCP only: on a rendezvous pipe() a write waits for the peer to read, so one task cannot play both ends.
for (const over of ["tcp"] as const) {
  test(`a cancelled read over ${over} takes nothing: the bytes that arrived are still there for the next read`, {
    timeout: 30_000,
    skip: !HAS_OPENSSL && "openssl is not installed",
  }, async () => {
    const got = await run(() =>
      withConnectedPair(over, function* (client, server) {
        yield* server.write("abcdef");
        const first = yield* withTimeoutOpt(100, () => client.readExactly(10));
        yield* server.write("ghij");
        const second = yield* client.readExactly(10);
        return { first, second: new TextDecoder().decode(second) };
      }),
    );
    assert.deepEqual(got, { first: undefined, second: "abcdefghij" });
  });
}

// Over a pipe, the ciphertext write of a cancelled TLS write was cancelled too: the pipe delivered
// none of it, so the record must be sent again (cancelledWrite: "dropped"), never counted as sent.
for (const over of ["tcp", "pipe"] as const) {
  test(`a cancelled write over ${over} keeps its bytes queued: the peer receives all of them`, {
    timeout: 60_000,
    skip: !HAS_OPENSSL && "openssl is not installed",
  }, async () => {
    const size = 4 * 1024 * 1024;
    const got = await run(() =>
      withConnectedPair(over, function* (client, server) {
        const big = new Uint8Array(size).fill(7);
        // The server does not read yet: the write cannot complete.
        const outcome = yield* withTimeoutOpt(100, function* () {
          yield* client.write(big);
          return "written";
        });
        return yield* withTaskGroup<{ outcome: string | undefined; received: number; intact: boolean }>(function* (group) {
          const reading = group.spawn(() => server.readExactly(size + 4));
          yield* client.write("tail");
          const data = yield* reading.wait();
          const intact = data.subarray(0, size).every((b) => b === 7) && new TextDecoder().decode(data.subarray(size)) === "tail";
          return { outcome, received: data.length, intact };
        });
      }),
    );
    assert.equal(got.received, size + 4);
    assert.equal(got.intact, true, "every byte arrived once, in order");
    assert.ok(got.outcome === undefined || got.outcome === "written");
  });
}

test("cancellation of a pending read or write is Cancelled inside the task, not an error of the connection", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const outcome = await run(() =>
    withConnectedPair("tcp", function* (client, server) {
      let seen: unknown;
      yield* withTimeoutOpt(50, function* () {
        try {
          yield* client.readLine();
        } catch (error) {
          seen = error;
          throw error;
        }
      });
      yield* server.write("still fine\n");
      return { cancelled: seen instanceof Cancelled, line: yield* client.readLine() };
    }),
  );
  assert.deepEqual(outcome, { cancelled: true, line: "still fine" });
});

/** A connected client and server TLS connection, over TCP (connectTls/listenTls) or a pipe pair. */
function* withConnectedPair<T>(over: "tcp" | "pipe", body: (client: TlsConnection, server: TlsConnection) => Operation<T>): Operation<T> {
  if (over === "pipe") {
    const [a, b] = duplexPair();
    return yield* withTaskGroup<T>(function* (group) {
      const accepting = group.spawn(() => acceptTls(b, { key: pki.server.key, cert: pki.server.cert }));
      using client = yield* startTls(a, { servername: "localhost", ca: pki.ca.cert });
      // The server's handshake ends when the client's Finished is sent, with the client's first operation.
      const ready = group.spawn(() => client.readSome(1));
      using server = yield* accepting.wait();
      yield* server.write("!");
      yield* ready.wait();
      return yield* body(client, server);
    });
  }
  using listener = yield* listenTls({ host: "127.0.0.1", port: 0, key: pki.server.key, cert: pki.server.cert });
  using client = yield* connectTls({ host: "localhost", port: listener.port, ca: pki.ca.cert });
  using server = yield* listener.accept();
  yield* sleep(0);
  return yield* body(client, server);
}

test("a peer that closes the TCP connection without close_notify gives end of stream to connectTls's reader, after the bytes it sent", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const result = await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    return yield* withTaskGroup<{ line: string | undefined; after: Uint8Array | undefined }>(function* (group) {
      group.startSoon(function* () {
        const tcp = yield* server.accept();
        const tls = yield* acceptTls(tcp, { key: pki.server.key, cert: pki.server.cert });
        yield* tls.write("last words\n");
        // Over a weft stream close() closes the stream at once: no close_notify is sent.
        tls.close();
      });
      using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
      const line = yield* conn.readLine();
      return { line, after: yield* conn.readSome() };
    });
  });
  assert.deepEqual(result, { line: "last words", after: undefined });
});

test("a read pending on a TLS connection over a pipe ends with end of stream when another task closes the connection, as over a socket", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  // The close lands at each of the first scheduling rounds after the read started, among them the one where the
  // read has begun its wait on the stream under TLS and not yet read from it. (Closed before the read starts, the
  // read is a usage error, as on any closed reader.)
  const outcomes: string[] = [];
  for (let rounds = 1; rounds <= 5; rounds++) {
    const [a, b] = duplexPair();
    const outcome = await run(() =>
      withTaskGroup<string>(function* (group) {
        group.startSoon(function* () {
          using tls = yield* acceptTls(b, { key: pki.server.key, cert: pki.server.cert });
          yield* tls.write(`${yield* tls.readLine()}!\n`);
          yield* tls.readAll();
        });
        const tls = yield* startTls(a, { servername: "localhost", ca: pki.ca.cert });
        yield* tls.write("hi\n");
        yield* tls.readLine(); // both handshakes are complete
        const reading = group.spawn(function* () {
          try {
            return `read ${String(yield* tls.readSome())}`;
          } catch (error) {
            return `${(error as Error).name}: ${(error as Error).message}`;
          }
        });
        for (let i = 0; i < rounds; i++) yield* pause();
        tls.close();
        return yield* reading.wait();
      }),
    );
    outcomes.push(outcome);
  }
  assert.deepEqual(outcomes, Array(5).fill("read undefined"));
});

test("startTls and acceptTls bad input: TypeError naming the function and the argument; nothing is closed", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const [a] = duplexPair();
  await run(function* () {
    const cases: [() => Operation<unknown>, RegExp][] = [
      [() => startTls({} as never), /^startTls\(\): stream must be a weft Reader and Writer with close\(\)/],
      [
        () => acceptTls(null as never, { key: pki.server.key, cert: pki.server.cert }),
        /^acceptTls\(\): stream must be a weft Reader and Writer/,
      ],
      [() => startTls(a), /^startTls\(\): options\.servername is needed to check the server's name/],
      [() => startTls(a, { servername: "localhost", alpn: "h2" as never }), /^startTls\(\): options\.alpn must be a non-empty array/],
      [() => acceptTls(a, undefined as never), /^acceptTls\(\): options must be an object/],
      [() => acceptTls(a, { cert: pki.server.cert } as never), /^acceptTls\(\): options\.key must be/],
    ];
    for (const [body, message] of cases) {
      let caught: unknown;
      try {
        yield* body();
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof TypeError, `${message}: ${caught}`);
      assert.match(caught.message, message);
    }
  });
  assert.equal(a.closed, false, "a call refused for its arguments does not take the stream over");
});
