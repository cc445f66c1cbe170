/**
 * TCP on loopback: connectTcp, listenTcp, TcpServer.accept/serve and
 * TcpConnection (reading, writing, closing, half-closing), with leak checks
 * on the process's socket handles.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { Cancelled, Queue, Semaphore, WeftUsageError, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { connectTcp, listenTcp, resolveHost, TcpConnection, type HostAddress, type TcpServer } from "../../src/node.ts";
import { BlackHole, quietResources, settleResources } from "./net_support.ts";

type OsError = Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number };

/** The error `body` throws; fails if it returns. */
function* failure(body: () => Operation<unknown>): Operation<OsError> {
  try {
    yield* body();
  } catch (error) {
    return error as OsError;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

function* echo(conn: TcpConnection): Operation<void> {
  yield* conn.writeReader(conn);
}

/** Runs `body` with a server on 127.0.0.1 serving `handler`; the server ends with the body. */
function* withServer<T>(
  handler: (conn: TcpConnection) => Operation<void>,
  body: (server: TcpServer) => Operation<T>,
  host = "127.0.0.1",
): Operation<T> {
  using server = yield* listenTcp({ host, port: 0 });
  return yield* withTaskGroup<T>(function* (group) {
    group.startSoon(() => server.serve(handler), { daemon: true });
    return yield* body(server);
  });
}

/** A port nothing listens on (just freed). */
async function closedPort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls (yielding to the event loop) until `condition` holds; fails after `ms`. */
function* eventually(what: string, condition: () => boolean, ms = 5000): Operation<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    yield* sleep(5);
  }
}

const utf8 = new TextDecoder();

test("echo: written bytes come back, and both ends report their addresses", async () => {
  await run(function* () {
    yield* withServer(echo, function* (server) {
      assert.ok(server.port > 0, "port 0 is replaced by the real bound port");
      assert.equal(server.address, "127.0.0.1");
      assert.equal(server.family, 4);
      using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      assert.equal(conn.remoteAddress, "127.0.0.1");
      assert.equal(conn.remotePort, server.port);
      assert.equal(conn.localAddress, "127.0.0.1");
      assert.ok(conn.localPort > 0 && conn.localPort !== server.port);
      assert.equal(conn.family, 4);
      yield* conn.write("hello\n");
      yield* conn.write(new Uint8Array([1, 2, 3]));
      assert.equal(yield* conn.readLine(), "hello");
      assert.deepEqual([...(yield* conn.readExactly(3))], [1, 2, 3]);
    });
  });
});

test("1,000 sequential echo connections, each closed by `using`, leave no socket behind", async () => {
  const baseline = await quietResources();
  let handled = 0;
  await run(function* () {
    yield* withServer(
      function* (conn) {
        handled++;
        yield* echo(conn);
      },
      function* (server) {
        for (let i = 0; i < 1000; i++) {
          using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
          yield* conn.write(`ping ${i}\n`);
          assert.equal(yield* conn.readLine(), `ping ${i}`);
        }
      },
    );
  });
  assert.equal(handled, 1000);
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("200 concurrent echo connections each get their own bytes back, and leave no socket behind", async () => {
  const baseline = await quietResources();
  let active = 0;
  let mostActive = 0;
  await run(function* () {
    yield* withServer(
      function* (conn) {
        mostActive = Math.max(mostActive, ++active);
        try {
          yield* echo(conn);
        } finally {
          active--;
        }
      },
      function* (server) {
        yield* withTaskGroup<void>(function* (group) {
          for (let i = 0; i < 200; i++) {
            group.startSoon(function* () {
              using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
              const payload = new Uint8Array(4096).map((_, j) => (i * 31 + j) & 0xff);
              yield* conn.write(payload);
              conn.shutdownWrite();
              const back = (yield* conn.readAll()).bytes();
              assert.ok(Buffer.from(back).equals(payload), `connection ${i} got its own bytes`);
            });
          }
        });
      },
    );
  });
  assert.ok(mostActive > 1, `the handlers ran concurrently (at most ${mostActive} at once)`);
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("a read cancelled by a timeout loses nothing: half of a readExactly and half a line stay buffered", async () => {
  await run(function* () {
    const sent = new Queue<string>();
    const next = new Queue<void>();
    yield* withServer(
      function* (conn) {
        for (const part of ["abc", "def", "hel", "lo\nrest"]) {
          yield* conn.write(part);
          yield* sent.put(part);
          yield* next.get();
        }
      },
      function* (server) {
        using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        assert.equal(yield* sent.get(), "abc");
        assert.equal(yield* withTimeoutOpt(500, () => conn.readExactly(6)), undefined);
        assert.equal(conn.buffered, 3, "the 3 bytes that arrived are still buffered");
        yield* next.put();
        assert.equal(utf8.decode(yield* conn.readExactly(6)), "abcdef");
        assert.equal(yield* sent.get(), "def");

        yield* next.put();
        assert.equal(yield* sent.get(), "hel");
        assert.equal(yield* withTimeoutOpt(500, () => conn.readLine()), undefined);
        assert.equal(conn.buffered, 3);
        yield* next.put();
        assert.equal(yield* conn.readLine(), "hello");
        assert.equal(utf8.decode(yield* conn.readExactly(4)), "rest");
        yield* next.put();
      },
    );
  });
});

test("a read cancelled right after a partial chunk arrived keeps it (no timing involved)", async () => {
  await run(function* () {
    const release = new Semaphore(1, 0);
    yield* withServer(
      function* (conn) {
        yield* conn.write("12345");
        yield* release.acquire();
        yield* conn.write("67890");
      },
      function* (server) {
        using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        yield* withTaskGroup<void>(function* (group) {
          const reader = group.spawn(() => conn.readExactly(10));
          yield* eventually("the first 5 bytes are buffered", () => conn.buffered === 5);
          reader.cancel();
        });
        assert.equal(conn.buffered, 5);
        release.release();
        assert.equal(utf8.decode(yield* conn.readExactly(10)), "1234567890");
      },
    );
  });
});

test("close() and leaving a `using` block give the peer end of stream after the bytes written", async () => {
  await run(function* () {
    const received = new Queue<string>();
    yield* withServer(
      function* (conn) {
        yield* received.put((yield* conn.readAll()).text());
      },
      function* (server) {
        const conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        yield* conn.write("closed by close()");
        conn.close();
        conn.close(); // idempotent
        assert.equal(yield* received.get(), "closed by close()");
        {
          using scoped = yield* connectTcp({ host: "127.0.0.1", port: server.port });
          yield* scoped.write("closed by using");
        }
        assert.equal(yield* received.get(), "closed by using");
        const error = yield* failure(() => conn.readSome());
        assert.ok(error instanceof WeftUsageError, "reading a closed connection is a usage error");
        assert.ok(error.message.includes("closed"));
      },
    );
  });
});

test("close() with bytes still queued in Node (after a cancelled write) delivers every byte, then end of stream", async () => {
  const baseline = await quietResources();
  const chunk = 1000;
  let written = 0;
  let received = -1;
  let mismatches = 0;
  await run(function* () {
    const closed = new Semaphore(1, 0);
    const done = new Queue<void>();
    yield* withServer(
      function* (conn) {
        yield* closed.acquire(); // nothing is read until the client has closed
        let n = 0;
        for (let bytes = yield* conn.readSome(); bytes !== undefined; bytes = yield* conn.readSome()) {
          for (let i = 0; i < bytes.length; i++) if (bytes[i] !== Math.floor((n + i) / chunk) % 251) mismatches++;
          n += bytes.length;
        }
        received = n;
        yield* done.put();
      },
      function* (server) {
        const conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        // Write until the kernel buffers are full and a write has to wait for Node's queue to drain.
        for (let i = 0; ; i++) {
          const bytes = new Uint8Array(chunk).fill(i % 251);
          const finished = yield* withTimeoutOpt(200, function* () {
            yield* conn.write(bytes);
            return true;
          });
          written += chunk; // a cancelled write keeps its bytes queued
          if (finished === undefined) break;
          if (written > 256 * 1024 * 1024) throw new Error("the writes never had to wait");
        }
        conn.close();
        closed.release();
        yield* done.get();
      },
    );
  });
  assert.equal(received, written);
  assert.equal(mismatches, 0);
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("shutdownWrite: the peer reads end of stream and can still answer; writing afterwards is a usage error", async () => {
  await run(function* () {
    yield* withServer(
      function* (conn) {
        const request = (yield* conn.readAll()).text();
        yield* conn.write(`got ${request.length} bytes: ${request}`);
      },
      function* (server) {
        using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        yield* conn.write("question");
        conn.shutdownWrite();
        conn.shutdownWrite(); // idempotent
        const error = yield* failure(() => conn.write("more"));
        assert.ok(error instanceof WeftUsageError);
        assert.equal((yield* conn.readAll()).text(), "got 8 bytes: question");
      },
    );
  });
});

test("cancelling the group that serves closes the listener: a later connect is refused, handlers are cancelled", async () => {
  await run(function* () {
    const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    let handlerCancelled = false;
    const client = yield* withTaskGroup<TcpConnection>(function* (group) {
      const serving = group.spawn(() =>
        server.serve(function* () {
          try {
            yield* sleep(10_000);
          } catch (error) {
            handlerCancelled = error instanceof Cancelled;
            throw error;
          }
        }),
      );
      const conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      yield* sleep(50);
      serving.cancel();
      return conn;
    });
    assert.ok(handlerCancelled, "the running handler was cancelled");
    assert.equal(yield* client.readSome(), undefined, "its connection was closed: the client reads end of stream");
    client.close();
    const error = yield* failure(() => connectTcp({ host: "127.0.0.1", port: server.port }));
    assert.equal(error.code, "ECONNREFUSED");
  });
});

test("connecting to a closed port throws ECONNREFUSED with Node's fields and the address in the message", async () => {
  const port = await closedPort();
  const baseline = await quietResources();
  await run(function* () {
    const error = yield* failure(() => connectTcp({ host: "127.0.0.1", port }));
    assert.equal(error.code, "ECONNREFUSED");
    assert.equal(error.syscall, "connect");
    assert.equal(error.address, "127.0.0.1");
    assert.equal(error.port, port);
    assert.equal(typeof error.errno, "number");
    assert.ok(error.message.startsWith("connectTcp(): "), error.message);
    assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
  });
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("a cancelled connect destroys its pending socket", async () => {
  const hole = await BlackHole.start();
  try {
    const baseline = await quietResources();
    const result = await run(() => withTimeoutOpt(300, () => connectTcp({ host: "127.0.0.1", port: hole.port })));
    assert.equal(result, undefined, "the connect hung until the timeout cancelled it");
    assert.deepEqual(await settleResources(baseline), baseline);
  } finally {
    await hole.stop();
  }
});

test("connectTcp in an already-cancelled task throws Cancelled and connects nothing", async () => {
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() => connectTcp({ host: "127.0.0.1", port: server.port }));
      task.cancel();
      const error = yield* failure(() => task.wait());
      assert.ok(error instanceof Cancelled);
    });
    yield* sleep(50);
    assert.equal(server.pending, 0, "no connection reached the server");
  });
});

test("accept: a connection that arrives while nobody accepts is queued; a cancelled accept takes nothing", async () => {
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    assert.equal(yield* withTimeoutOpt(50, () => server.accept()), undefined);
    using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
    yield* client.write("queued");
    yield* eventually("the connection is queued", () => server.pending === 1);
    // An accept in a cancelled task leaves the queued connection where it is.
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() => server.accept());
      task.cancel();
      assert.ok((yield* failure(() => task.wait())) instanceof Cancelled);
    });
    assert.equal(server.pending, 1);
    using conn = yield* server.accept();
    assert.equal(conn.remotePort, client.localPort);
    assert.equal(utf8.decode(yield* conn.readExactly(6)), "queued");
  });
});

test("accept: no connection is lost while accepts keep being cancelled at random moments", async () => {
  const clients = 100;
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    const accepted: TcpConnection[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let i = 0; i < clients; i++) {
          const conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
          yield* conn.write(`${i}\n`);
          conn.close();
          if (i % 7 === 0) yield* sleep(3);
        }
      });
      const deadline = Date.now() + 20_000;
      let timeouts = 0;
      while (accepted.length < clients && Date.now() < deadline) {
        const conn = yield* withTimeoutOpt(1 + (accepted.length % 4), () => server.accept());
        if (conn === undefined) timeouts++;
        else accepted.push(conn);
      }
      assert.ok(timeouts > 0, "some accepts were cancelled");
    });
    const seen = new Set<string>();
    for (const conn of accepted) {
      seen.add((yield* conn.readLine())!);
      conn.close();
    }
    assert.equal(seen.size, clients, "every client's connection was accepted exactly once");
  });
});

test("serve: maxConnections bounds the handlers running at once", async () => {
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    let active = 0;
    let mostActive = 0;
    const gate = new Semaphore(3, 0);
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        () =>
          server.serve(
            function* (conn) {
              mostActive = Math.max(mostActive, ++active);
              yield* gate.acquire();
              active--;
              yield* conn.write("served");
            },
            { maxConnections: 2 },
          ),
        { daemon: true },
      );
      const conns: TcpConnection[] = [];
      for (let i = 0; i < 3; i++) conns.push(yield* connectTcp({ host: "127.0.0.1", port: server.port }));
      yield* eventually("two handlers run and the third connection waits", () => active === 2 && server.pending === 1);
      yield* sleep(100);
      assert.equal(active, 2, "the third connection is not handled while two are");
      gate.release();
      yield* eventually("the third connection is handled", () => server.pending === 0 && active === 2);
      gate.release();
      gate.release();
      for (const conn of conns) {
        assert.equal((yield* conn.readAll()).text(), "served");
        conn.close();
      }
    });
    assert.equal(mostActive, 2);
  });
});

test("serve: by default a failing handler ends only its connection and goes to onError", async () => {
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    const errors: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        () =>
          server.serve(
            function* (conn) {
              const line = yield* conn.readLine();
              if (line === "fail") throw new Error("handler failed");
              yield* conn.write(`ok ${line}\n`);
            },
            { onError: (error, conn) => errors.push(`${(error as Error).message} on port ${conn.localPort}`) },
          ),
        { daemon: true },
      );
      using bad = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      yield* bad.write("fail\n");
      assert.equal(yield* bad.readSome(), undefined, "the failed handler's connection was closed");
      using good = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      yield* good.write("still here\n");
      assert.equal(yield* good.readLine(), "ok still here");
    });
    assert.deepEqual(errors, [`handler failed on port ${server.port}`]);
  });
});

test("serve with allowFailure: false fails with the handler's error and closes the listener", async () => {
  await run(function* () {
    const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    const serving = withTaskGroup<OsError>(function* (group) {
      const task = group.spawn(() =>
        failure(() =>
          server.serve(
            function* () {
              throw new Error("fatal handler");
            },
            { allowFailure: false },
          ),
        ),
      );
      using _conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      return yield* task.wait();
    });
    const error = yield* serving;
    assert.equal(error.message, "fatal handler");
    assert.equal((yield* failure(() => connectTcp({ host: "127.0.0.1", port: server.port }))).code, "ECONNREFUSED");
  });
});

test("close() from another task stops serve, which lets running handlers finish; a blocked accept gets a usage error", async () => {
  await run(function* () {
    const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    let finished = false;
    yield* withTaskGroup<void>(function* (group) {
      const serving = group.spawn(() =>
        server.serve(function* (conn) {
          yield* sleep(100);
          yield* conn.write("finished");
          finished = true;
        }),
      );
      using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      yield* sleep(20);
      server.close();
      yield* serving.wait();
      assert.ok(finished, "serve returned after its handler finished");
      assert.equal((yield* conn.readAll()).text(), "finished");
    });
    const other = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    yield* withTaskGroup<void>(function* (group) {
      const waiting = group.spawn(() => other.accept(), { allowFailure: true });
      yield* sleep(20);
      other.close();
      const error = yield* failure(() => waiting.wait());
      assert.ok(error instanceof WeftUsageError && error.message.includes("closed"), String(error));
    });
  });
});

test("listenTcp on a port in use throws EADDRINUSE naming the address", async () => {
  await run(function* () {
    using first = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    const error = yield* failure(() => listenTcp({ host: "127.0.0.1", port: first.port }));
    assert.equal(error.code, "EADDRINUSE");
    assert.ok(error.message.startsWith("listenTcp(): "), error.message);
    assert.ok(error.message.includes(String(first.port)), error.message);
  });
});

test("a connection reset by the peer fails the read with ECONNRESET naming the peer", async () => {
  const raw = net.createServer((socket) => {
    socket.once("data", () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  const { port } = raw.address() as net.AddressInfo;
  try {
    await run(function* () {
      using conn = yield* connectTcp({ host: "127.0.0.1", port });
      yield* conn.write("x");
      const error = yield* failure(() => conn.readAll());
      assert.equal(error.code, "ECONNRESET");
      assert.ok(error.message.startsWith("TcpConnection.read(): "), error.message);
      assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
      // The same error again, not prefixed twice.
      const again = yield* failure(() => conn.readSome());
      assert.equal(again.message, error.message);
    });
  } finally {
    raw.close();
  }
});

test('happy eyeballs: connecting to "localhost" works whatever it resolves to', async () => {
  const addresses = await run(() => resolveHost("localhost"));
  for (const { address } of addresses) {
    await run(function* () {
      yield* withServer(
        echo,
        function* (server) {
          using conn = yield* connectTcp({ host: "localhost", port: server.port });
          assert.equal(conn.remoteAddress, address);
          yield* conn.write("hi\n");
          assert.equal(yield* conn.readLine(), "hi");
        },
        address,
      );
    });
  }
});

test("happy eyeballs: localhost as ::1 and 127.0.0.1 with the server on only one family connects to that one", async () => {
  for (const [order, serverHost] of [
    [["::1", "127.0.0.1"], "127.0.0.1"],
    [["127.0.0.1", "::1"], "::1"],
    [["::1", "127.0.0.1"], "::1"],
  ] as const) {
    const asked: string[] = [];
    const lookup = function* (host: string): Operation<HostAddress[]> {
      asked.push(host);
      return order.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }) as const);
    };
    await run(function* () {
      yield* withServer(
        echo,
        function* (server) {
          using conn = yield* connectTcp({ host: "localhost", port: server.port, lookup });
          assert.equal(conn.remoteAddress, serverHost, `order ${order.join(", ")}`);
          assert.equal(conn.family, serverHost === "::1" ? 6 : 4);
          yield* conn.write("dual\n");
          assert.equal(yield* conn.readLine(), "dual");
        },
        serverHost,
      );
    });
    assert.deepEqual(asked, ["localhost"]);
  }
});

test("happy eyeballs: an attempt that hangs gets company after 250 ms, and the loser's socket is destroyed", async () => {
  const hole = await BlackHole.start("127.0.0.1");
  const v6 = net.createServer((socket) => socket.end("from ::1"));
  try {
    await new Promise<void>((resolve, reject) => {
      v6.once("error", reject);
      v6.listen(hole.port, "::1", resolve);
    });
    const baseline = await quietResources();
    const lookup = function* (): Operation<HostAddress[]> {
      return [
        { address: "127.0.0.1", family: 4 },
        { address: "::1", family: 6 },
      ];
    };
    await run(function* () {
      const started = Date.now();
      using conn = yield* connectTcp({ host: "dual.test", port: hole.port, lookup });
      const elapsed = Date.now() - started;
      assert.equal(conn.remoteAddress, "::1");
      assert.ok(elapsed >= 240, `the second attempt started only after the stagger (${elapsed} ms)`);
      assert.equal((yield* conn.readAll()).text(), "from ::1");
    });
    assert.deepEqual(await settleResources(baseline), baseline, "the hanging attempt was destroyed");

    // Every attempt hangs: cancelling the race destroys all of them.
    const both = function* (): Operation<HostAddress[]> {
      return [
        { address: "127.0.0.1", family: 4 },
        { address: "127.0.0.1", family: 4 },
      ];
    };
    const result = await run(() => withTimeoutOpt(600, () => connectTcp({ host: "dual.test", port: hole.port, lookup: both })));
    assert.equal(result, undefined);
    assert.deepEqual(await settleResources(baseline), baseline, "both pending attempts were destroyed");
  } finally {
    v6.close();
    await hole.stop();
  }
});

test("happy eyeballs: when every attempt fails, the first attempt's error is thrown", async () => {
  const port = await closedPort();
  const lookup = function* (): Operation<HostAddress[]> {
    return [
      { address: "::1", family: 6 },
      { address: "127.0.0.1", family: 4 },
    ];
  };
  await run(function* () {
    const error = yield* failure(() => connectTcp({ host: "nowhere.test", port, lookup }));
    assert.equal(error.code, "ECONNREFUSED");
    assert.equal(error.address, "::1");
    assert.ok(error.message.includes(`nowhere.test:${port}`), error.message);
    const none = yield* failure(() => connectTcp({ host: "nowhere.test", port, lookup, family: 4 }));
    assert.equal(none.address, "127.0.0.1", "family: 4 tries only the IPv4 address");
  });
});

test("bad input: TypeError or RangeError naming the function and the argument", async () => {
  const cases: [() => Operation<unknown>, ErrorConstructor, RegExp][] = [
    [() => connectTcp(undefined as never), TypeError, /connectTcp\(\): options must be an object/],
    [() => connectTcp({ host: 1 as never, port: 80 }), TypeError, /connectTcp\(\): options\.host must be a string/],
    [() => connectTcp({ host: "", port: 80 }), RangeError, /connectTcp\(\): options\.host must not be empty/],
    [() => connectTcp({ host: "h", port: "80" as never }), TypeError, /connectTcp\(\): options\.port must be a number/],
    [() => connectTcp({ host: "h", port: 0 }), RangeError, /connectTcp\(\): options\.port must be an integer in \[1, 65535\]/],
    [() => connectTcp({ host: "h", port: 70000 }), RangeError, /options\.port/],
    [() => connectTcp({ host: "h", port: 80, family: 5 as never }), RangeError, /connectTcp\(\): options\.family/],
    [() => connectTcp({ host: "h", port: 80, lookup: 1 as never }), TypeError, /connectTcp\(\): options\.lookup/],
    [
      () =>
        connectTcp({
          host: "h",
          port: 80,
          lookup: function* () {
            return [{ address: 1 }] as never;
          },
        }),
      TypeError,
      /connectTcp\(\): options\.lookup must return an array/,
    ],
    [() => listenTcp({ port: -1 }), RangeError, /listenTcp\(\): options\.port/],
    [() => listenTcp({ backlog: 1.5 }), RangeError, /listenTcp\(\): options\.backlog/],
    [() => listenTcp("x" as never), TypeError, /listenTcp\(\): options must be an object/],
  ];
  await run(function* () {
    for (const [body, cls, pattern] of cases) {
      const error = yield* failure(body);
      assert.ok(error instanceof cls && pattern.test(error.message), `${String(error)} should match ${pattern}`);
    }
    using server = yield* listenTcp({ host: "127.0.0.1" });
    for (const [body, pattern] of [
      [() => server.serve(null as never), /TcpServer\.serve\(\): handler must be/],
      [() => server.serve(echo, { maxConnections: 0 }), /TcpServer\.serve\(\): options\.maxConnections/],
      [() => server.serve(echo, { allowFailure: "yes" as never }), /TcpServer\.serve\(\): options\.allowFailure/],
    ] as const) {
      const error = yield* failure(body);
      assert.ok(pattern.test(error.message), `${String(error)} should match ${pattern}`);
    }
  });
});
