/**
 * TLS on loopback: connectTls against listenTls with certificates made at
 * test time: verification (custom CA, another root, host name mismatch),
 * client certificates, ALPN, half-close, the handshake timeout of the server,
 * and bad input. Leak checks on the process's socket handles.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { run, until, withTaskGroup, type Operation } from "../../src/index.ts";
import { connectTls, listenTls, TlsConnection, type ListenTlsOptions, type TlsServer } from "../../src/node.ts";
import { quietResources, settleResources } from "./net_support.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

type CodedError = Error & { code?: string };

function* failure(body: () => Operation<unknown>): Operation<CodedError> {
  try {
    yield* body();
  } catch (error) {
    return error as CodedError;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

function* echo(conn: TlsConnection): Operation<void> {
  yield* conn.writeReader(conn);
}

/** Runs `body` with a TLS server on 127.0.0.1 serving `handler`; the server ends with the body. */
function* withServer<T>(
  options: Partial<ListenTlsOptions>,
  handler: (conn: TlsConnection) => Operation<void>,
  body: (server: TlsServer) => Operation<T>,
): Operation<T> {
  using server = yield* listenTls({ host: "127.0.0.1", port: 0, key: pki.server.key, cert: pki.server.cert, ...options });
  return yield* withTaskGroup<T>(function* (group) {
    group.startSoon(() => server.serve(handler), { daemon: true });
    return yield* body(server);
  });
}

test("connectTls to listenTls with the test CA: bytes echo both ways, the peer certificate and authorized are reported, nothing leaks", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const baseline = await quietResources();
  const result = await run(() =>
    withServer({}, echo, function* (server) {
      using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
      assert.ok(conn instanceof TlsConnection);
      assert.equal(conn.authorized, true);
      assert.equal(conn.peerCertificate()?.subject.CN, "localhost");
      yield* conn.write("hello\n");
      const line = yield* conn.readLine();
      conn.shutdownWrite();
      const rest = yield* conn.readAll();
      return { line, rest: rest.length };
    }),
  );
  assert.deepEqual(result, { line: "hello", rest: 0 });
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("connectTls to an IP literal checks the certificate's IP address", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const line = await run(() =>
    withServer({}, echo, function* (server) {
      using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert });
      yield* conn.write("ip\n");
      return yield* conn.readLine();
    }),
  );
  assert.equal(line, "ip");
});

test("connectTls rejects a server whose certificate comes from another root, with Node's code, and closes the socket", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const baseline = await quietResources();
  let handled = 0;
  const error = await run(() =>
    withServer(
      {},
      function* () {
        handled++;
      },
      (server) => failure(() => connectTls({ host: "localhost", port: server.port, ca: pki.otherCa.cert })),
    ),
  );
  assert.match(error.message, /^connectTls\(\): /);
  assert.ok(
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "SELF_SIGNED_CERT_IN_CHAIN"].includes(error.code ?? ""),
    `code ${error.code}: ${error.message}`,
  );
  assert.equal(handled, 0);
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("connectTls with the system roots (no ca) rejects the test CA's certificate", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const error = await run(() => withServer({}, echo, (server) => failure(() => connectTls({ host: "localhost", port: server.port }))));
  assert.ok(typeof error.code === "string" && error.code !== "ERR_TLS_CERT_ALTNAME_INVALID", `code ${error.code}`);
});

test("connectTls rejects a certificate for another host name with ERR_TLS_CERT_ALTNAME_INVALID", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const error = await run(() =>
    withServer({ key: pki.wrongHost.key, cert: pki.wrongHost.cert }, echo, (server) =>
      failure(() => connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert })),
    ),
  );
  assert.equal(error.code, "ERR_TLS_CERT_ALTNAME_INVALID", error.message);
  assert.match(error.message, /localhost/);
});

test("rejectUnauthorized: false connects to a mismatched certificate and reports authorized false", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const result = await run(() =>
    withServer({ key: pki.wrongHost.key, cert: pki.wrongHost.cert }, echo, function* (server) {
      using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert, rejectUnauthorized: false });
      yield* conn.write("x\n");
      return { authorized: conn.authorized, error: conn.authorizationError, line: yield* conn.readLine() };
    }),
  );
  assert.deepEqual(result, { authorized: false, error: "ERR_TLS_CERT_ALTNAME_INVALID", line: "x" });
});

test("requestCert: a client with a certificate from the CA is served and seen as authorized; one without is refused and never reaches the handler", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const seen: string[] = [];
  const result = await run(() =>
    withServer(
      { requestCert: true, ca: pki.ca.cert },
      function* (conn) {
        seen.push(`${conn.authorized} ${conn.peerCertificate()?.subject.CN}`);
        yield* conn.write("welcome\n");
      },
      function* (server) {
        const anonymous = yield* failure(function* () {
          using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
          // TLS 1.3: the server's refusal arrives after the client's handshake.
          return yield* conn.readLine();
        });
        using conn = yield* connectTls({
          host: "localhost",
          port: server.port,
          ca: pki.ca.cert,
          cert: pki.client.cert,
          key: pki.client.key,
        });
        return { anonymous: anonymous.code, line: yield* conn.readLine() };
      },
    ),
  );
  assert.equal(result.line, "welcome");
  assert.equal(typeof result.anonymous, "string");
  assert.deepEqual(seen, ["true weft test client"]);
});

test("ALPN: the protocol both sides support is agreed and reported on both connections", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const result = await run(() =>
    withServer(
      { alpn: ["h2", "weft/1"] },
      function* (conn) {
        yield* conn.write(`${conn.alpnProtocol}\n`);
      },
      function* (server) {
        using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert, alpn: ["weft/1", "http/1.1"] });
        return { client: conn.alpnProtocol, server: yield* conn.readLine() };
      },
    ),
  );
  assert.deepEqual(result, { client: "weft/1", server: "weft/1" });
});

test("without ALPN on either side alpnProtocol is undefined", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const alpn = await run(() =>
    withServer({}, echo, function* (server) {
      using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
      return conn.alpnProtocol;
    }),
  );
  assert.equal(alpn, undefined);
});

test("listenTls: a client that never finishes its handshake is dropped at handshakeTimeout, never reaches a handler, and the server keeps serving", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  let handled = 0;
  const result = await run(() =>
    withServer(
      { handshakeTimeout: 200 },
      function* (conn) {
        handled++;
        yield* echo(conn);
      },
      function* (server) {
        // A TCP client that says nothing: no ClientHello ever.
        const silent = net.connect(server.port, "127.0.0.1");
        silent.on("error", () => {});
        const closed = new Promise<string>((resolve) => silent.on("close", () => resolve("dropped")));
        const dropped = yield* until(closed);
        using conn = yield* connectTls({ host: "localhost", port: server.port, ca: pki.ca.cert });
        yield* conn.write("still serving\n");
        return { dropped, line: yield* conn.readLine() };
      },
    ),
  );
  assert.deepEqual(result, { dropped: "dropped", line: "still serving" });
  assert.equal(handled, 1, "only the real client reached a handler");
});

test("bad input: TypeError or RangeError naming the function and the option", {
  timeout: 30_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  await run(function* () {
    const cases: [() => Operation<unknown>, RegExp, ErrorConstructor][] = [
      [() => connectTls(undefined as never), /^connectTls\(\): options must be an object/, TypeError],
      [() => connectTls({ host: "localhost", port: 0 }), /^connectTls\(\): options\.port must be an integer in \[1, 65535\]/, RangeError],
      [() => connectTls({ host: "localhost", port: 1, ca: 5 as never }), /^connectTls\(\): options\.ca must be/, TypeError],
      [() => connectTls({ host: "localhost", port: 1, alpn: [] }), /^connectTls\(\): options\.alpn must be a non-empty array/, TypeError],
      [
        () => connectTls({ host: "localhost", port: 1, alpn: ["x".repeat(256)] }),
        /^connectTls\(\): options\.alpn entries must be 1 to 255 bytes/,
        RangeError,
      ],
      [
        () => connectTls({ host: "localhost", port: 1, handshakeTimeout: 0 }),
        /^connectTls\(\): options\.handshakeTimeout must be at least 1 ms/,
        RangeError,
      ],
      [
        () => connectTls({ host: "localhost", port: 1, servername: "127.0.0.1" }),
        /^connectTls\(\): options\.servername must be a host name/,
        RangeError,
      ],
      [
        () => connectTls({ host: "localhost", port: 1, cert: pki.client.cert }),
        /^connectTls\(\): options\.cert and options\.key go together/,
        TypeError,
      ],
      [
        () => connectTls({ host: "localhost", port: 1, rejectUnauthorized: "no" as never }),
        /^connectTls\(\): options\.rejectUnauthorized must be a boolean/,
        TypeError,
      ],
      [() => listenTls(undefined as never), /^listenTls\(\): options must be an object/, TypeError],
      [() => listenTls({ key: pki.server.key } as never), /^listenTls\(\): options\.cert must be/, TypeError],
      [
        () => listenTls({ key: pki.server.key, cert: pki.server.cert, port: -1 }),
        /^listenTls\(\): options\.port must be an integer/,
        RangeError,
      ],
      [
        () => listenTls({ key: pki.server.key, cert: pki.server.cert, requestCert: 1 as never }),
        /^listenTls\(\): options\.requestCert must be a boolean/,
        TypeError,
      ],
    ];
    for (const [body, message, kind] of cases) {
      const error = yield* failure(body);
      assert.ok(error instanceof kind, `${message}: ${error}`);
      assert.match(error.message, message);
    }
    // Key material Node cannot parse: an error from listenTls, not a crash.
    const garbage = yield* failure(() => listenTls({ key: "not a key", cert: "not a cert" }));
    assert.match(garbage.message, /^listenTls\(\): /);
  });
});
