/**
 * UDP on loopback: bindUdp, UdpSocket.send/recv, the bounded receive queue,
 * recv cancellation and close.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, WeftUsageError, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { bindUdp } from "../../src/node.ts";
import { quietResources, settleResources } from "./net_support.ts";

type OsError = Error & { code?: string; address?: string; port?: number };

function* failure(body: () => Operation<unknown>): Operation<OsError> {
  try {
    yield* body();
  } catch (error) {
    return error as OsError;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

function* eventually(what: string, condition: () => boolean, ms = 5000): Operation<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    yield* sleep(5);
  }
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

test("send and recv: a round trip on 127.0.0.1 reports the sender and its port", async () => {
  const baseline = await quietResources();
  await run(function* () {
    using server = yield* bindUdp({ host: "127.0.0.1", port: 0 });
    using client = yield* bindUdp({ host: "127.0.0.1" });
    assert.ok(server.port > 0);
    assert.equal(server.address, "127.0.0.1");
    assert.equal(server.family, 4);
    yield* client.send("ping", server.port, "127.0.0.1");
    const request = yield* server.recv();
    assert.equal(text(request.data), "ping");
    assert.equal(request.address, "127.0.0.1");
    assert.equal(request.port, client.port);
    assert.equal(request.family, 4);
    yield* server.send(new Uint8Array([0, 1, 255]), request.port, request.address);
    const reply = yield* client.recv();
    assert.deepEqual([...reply.data], [0, 1, 255]);
    assert.equal(reply.port, server.port);
  });
  assert.deepEqual(await settleResources(baseline), baseline, "both sockets were closed by `using`");
});

test("udp6 on ::1: the type follows an IPv6 host", async () => {
  await run(function* () {
    using server = yield* bindUdp({ host: "::1" });
    using client = yield* bindUdp({ host: "::1", type: "udp6" });
    assert.equal(server.family, 6);
    yield* client.send("six", server.port, "::1");
    const got = yield* server.recv();
    assert.equal(text(got.data), "six");
    assert.equal(got.address, "::1");
    assert.equal(got.family, 6);
  });
});

test("a cancelled recv takes nothing: datagrams that arrive meanwhile wait in the queue", async () => {
  await run(function* () {
    using server = yield* bindUdp({ host: "127.0.0.1" });
    using client = yield* bindUdp({ host: "127.0.0.1" });
    assert.equal(yield* withTimeoutOpt(50, () => server.recv()), undefined);
    yield* client.send("one", server.port, "127.0.0.1");
    yield* client.send("two", server.port, "127.0.0.1");
    yield* eventually("both datagrams are queued", () => server.pending === 2);
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() => server.recv());
      task.cancel(); // cancelled before it ran: it must not take a datagram
      assert.ok((yield* failure(() => task.wait())) instanceof Cancelled);
    });
    assert.equal(server.pending, 2);
    assert.equal(text((yield* server.recv()).data), "one");
    assert.equal(text((yield* server.recv()).data), "two");
  });
});

test("no datagram is lost while receives keep being cancelled at random moments", async () => {
  const count = 200;
  await run(function* () {
    using server = yield* bindUdp({ host: "127.0.0.1" });
    using client = yield* bindUdp({ host: "127.0.0.1" });
    const seen = new Set<string>();
    let timeouts = 0;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let i = 0; i < count; i++) {
          yield* client.send(String(i), server.port, "127.0.0.1");
          if (i % 5 === 0) yield* sleep(2);
        }
      });
      const deadline = Date.now() + 20_000;
      while (seen.size < count && Date.now() < deadline) {
        const datagram = yield* withTimeoutOpt(1 + (seen.size % 3), () => server.recv());
        if (datagram === undefined) timeouts++;
        else seen.add(text(datagram.data));
      }
    });
    assert.ok(timeouts > 0, "some receives were cancelled");
    assert.equal(seen.size, count);
    assert.equal(server.dropped, 0);
  });
});

test("the receive queue is bounded: when full, newly arriving datagrams are dropped and counted", async () => {
  await run(function* () {
    using server = yield* bindUdp({ host: "127.0.0.1", maxQueued: 3 });
    using client = yield* bindUdp({ host: "127.0.0.1" });
    for (let i = 0; i < 10; i++) yield* client.send(String(i), server.port, "127.0.0.1");
    yield* eventually("all ten arrived", () => server.pending + server.dropped === 10);
    assert.equal(server.pending, 3);
    assert.equal(server.dropped, 7);
    const kept = [];
    for (let i = 0; i < 3; i++) kept.push(text((yield* server.recv()).data));
    assert.deepEqual(kept, ["0", "1", "2"], "the oldest are kept");
  });
});

test("close: a blocked recv and later calls get WeftUsageError, close is idempotent, the handle goes away", async () => {
  const baseline = await quietResources();
  await run(function* () {
    const socket = yield* bindUdp({ host: "127.0.0.1" });
    yield* withTaskGroup<void>(function* (group) {
      const waiting = group.spawn(() => socket.recv(), { allowFailure: true });
      yield* sleep(20);
      socket.close();
      socket.close();
      const error = yield* failure(() => waiting.wait());
      assert.ok(error instanceof WeftUsageError && /UdpSocket\.recv\(\): the socket is closed/.test(error.message));
    });
    assert.ok((yield* failure(() => socket.recv())) instanceof WeftUsageError);
    assert.ok((yield* failure(() => socket.send("x", 9, "127.0.0.1"))) instanceof WeftUsageError);
  });
  assert.deepEqual(await settleResources(baseline), baseline);
});

test("bindUdp on a port in use throws EADDRINUSE naming the address; reuseAddr allows sharing it", async () => {
  await run(function* () {
    using first = yield* bindUdp({ host: "127.0.0.1" });
    const error = yield* failure(() => bindUdp({ host: "127.0.0.1", port: first.port }));
    assert.equal(error.code, "EADDRINUSE");
    assert.ok(error.message.startsWith("bindUdp(): "), error.message);
    assert.ok(error.message.includes(`127.0.0.1:${first.port}`), error.message);
    using shared1 = yield* bindUdp({ host: "127.0.0.1", reuseAddr: true });
    using shared2 = yield* bindUdp({ host: "127.0.0.1", port: shared1.port, reuseAddr: true });
    assert.equal(shared2.port, shared1.port);
  });
});

test("bad input: TypeError or RangeError naming the function and the argument", async () => {
  await run(function* () {
    using socket = yield* bindUdp({ host: "127.0.0.1" });
    const cases: [() => Operation<unknown>, ErrorConstructor, RegExp][] = [
      [() => bindUdp({ port: 70000 }), RangeError, /bindUdp\(\): options\.port/],
      [() => bindUdp({ type: "udp5" as never }), RangeError, /bindUdp\(\): options\.type/],
      [() => bindUdp({ host: "" }), RangeError, /bindUdp\(\): options\.host/],
      [() => bindUdp({ maxQueued: 0 }), RangeError, /bindUdp\(\): options\.maxQueued/],
      [() => bindUdp(7 as never), TypeError, /bindUdp\(\): options must be an object/],
      [() => socket.send(42 as never, 9, "127.0.0.1"), TypeError, /UdpSocket\.send\(\): data must be a string or a Uint8Array/],
      [() => socket.send("x", 0, "127.0.0.1"), RangeError, /UdpSocket\.send\(\): port/],
      [() => socket.send("x", 9, undefined as never), TypeError, /UdpSocket\.send\(\): host/],
    ];
    for (const [body, cls, pattern] of cases) {
      const error = yield* failure(body);
      assert.ok(error instanceof cls && pattern.test(error.message), `${String(error)} should match ${pattern}`);
    }
  });
});
