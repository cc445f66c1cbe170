/**
 * `TcpConnection.abort()` and `TcpServer.connections`: a connection is reset
 * at once (the peer sees ECONNRESET, queued bytes are dropped, no linger), a
 * task blocked on it and every later read or write get ECONNABORTED, and a
 * server can drop a client that another task is handling. Nothing leaks.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { connectTcp, listenTcp, type TcpConnection } from "../../src/node.ts";
import { quietResources, settleResources } from "./net_support.ts";

type OsError = Error & { code?: string };

const LIMIT = { timeout: 20_000 };

/** The error `body` throws; fails if it returns. */
function* failure(body: () => Operation<unknown>): Operation<OsError> {
  try {
    yield* body();
  } catch (error) {
    return error as OsError;
  }
  throw new Error("expected an error");
}

/** Waits (bounded by the test's limit, not by a clock guess) until `ready()` holds. */
function* until(ready: () => boolean): Operation<void> {
  while (!ready()) yield* sleep(1);
}

test(
  "abort() resets the connection: the peer's read fails with ECONNRESET, and our reads and writes then throw ECONNABORTED",
  LIMIT,
  async () => {
    const baseline = await quietResources();
    await run(function* () {
      using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
      using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      using served = yield* server.accept();
      yield* client.write("hello\n");
      assert.equal(yield* served.readLine(), "hello");
      client.abort();
      client.abort(); // idempotent
      const peer = yield* failure(() => served.readLine());
      assert.equal(peer.code, "ECONNRESET", String(peer));
      const read = yield* failure(() => client.readLine());
      assert.equal(read.code, "ECONNABORTED");
      assert.match(
        read.message,
        /^TcpConnection\.read\(\): the connection was aborted by abort\(\) on this side \(peer 127\.0\.0\.1:\d+\)$/,
      );
      const write = yield* failure(() => client.write("more"));
      assert.equal(write.code, "ECONNABORTED");
      assert.match(write.message, /^TcpConnection\.write\(\): the connection was aborted/);
      client.close(); // after abort: nothing more to do
    });
    assert.deepEqual(await settleResources(baseline), baseline);
  },
);

test("abort() wakes a task blocked in a read on the same connection with ECONNABORTED, not end of stream", LIMIT, async () => {
  const baseline = await quietResources();
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
    using served = yield* server.accept();
    yield* withTaskGroup<void>(function* (group) {
      const reader = group.spawn(() => failure(() => client.readLine()));
      yield* sleep(5); // let it block (if it has not yet, it meets the abort at its read: same error)
      client.abort();
      const error = yield* reader.wait();
      assert.equal(error.code, "ECONNABORTED", String(error));
    });
    assert.equal((yield* failure(() => served.readSome())).code, "ECONNRESET");
  });
  assert.deepEqual(await settleResources(baseline), baseline);
});

test(
  "abort() drops bytes still queued for a peer that does not read, at once, even during close()'s linger, and wakes the blocked write with ECONNABORTED",
  LIMIT,
  async () => {
    const baseline = await quietResources();
    await run(function* () {
      using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
      // The client never reads: the server's writes fill the buffers and queue in Node.
      using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      void client;
      const served = yield* server.accept();
      // One write far larger than the loopback buffers: most of it stays queued in Node.
      const chunk = new Uint8Array(64 << 20);
      yield* withTaskGroup<void>(function* (group) {
        const writer = group.spawn(() => failure(() => served.write(chunk)));
        yield* sleep(20); // the writer runs first and is blocked in its write from then on
        served.close(); // would linger (10 s by default) with the bytes queued
        served.abort(); // now
        // The write blocked on the full socket is woken by the abort.
        assert.equal((yield* writer.wait()).code, "ECONNABORTED");
      });
    });
    // A lingering socket would hold its handle for 10 s; the test's resources settle at once.
    assert.deepEqual(await settleResources(baseline, 5_000), baseline);
  },
);

test(
  "server.connections holds the served connections: another task drops one client, whose handler's read ends with ECONNABORTED while the other client is still served",
  LIMIT,
  async () => {
    const baseline = await quietResources();
    const handlerErrors: string[] = [];
    await run(function* () {
      using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
      yield* withTaskGroup<void>(function* (group) {
        const serving = group.spawn(() =>
          server.serve(
            function* (conn) {
              for (let line = yield* conn.readLine(); line !== undefined; line = yield* conn.readLine()) {
                yield* conn.write(`${line}!\n`);
              }
            },
            { onError: (error) => handlerErrors.push(String((error as OsError).code)) },
          ),
        );
        using a = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        using b = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        yield* until(() => server.connections.size === 2);
        // Identify a's handler connection by its peer port.
        let dropped: TcpConnection | undefined;
        for (const conn of server.connections) if (conn.remotePort === a.localPort) dropped = conn;
        assert.ok(dropped !== undefined);
        dropped.abort();
        assert.equal((yield* failure(() => a.readLine())).code, "ECONNRESET");
        yield* until(() => server.connections.size === 1);
        assert.deepEqual(handlerErrors, ["ECONNABORTED"]);
        yield* b.write("still here\n");
        assert.equal(yield* b.readLine(), "still here!");
        b.close();
        yield* until(() => server.connections.size === 0);
        serving.cancel();
      });
      assert.equal(server.connections.size, 0);
    });
    assert.deepEqual(await settleResources(baseline), baseline);
  },
);

test("when serve is cancelled, its connections leave server.connections as their handlers end", LIMIT, async () => {
  const baseline = await quietResources();
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
    yield* withTaskGroup<void>(function* (group) {
      const serving = group.spawn(() =>
        server.serve(function* (conn) {
          yield* conn.readLine();
        }),
      );
      yield* until(() => server.connections.size === 1);
      serving.cancel();
    });
    assert.equal(server.connections.size, 0);
    assert.equal(yield* client.readLine(), undefined, "the handler's connection was closed");
  });
  assert.deepEqual(await settleResources(baseline), baseline);
});
