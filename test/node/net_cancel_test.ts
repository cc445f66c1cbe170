/**
 * Cancellation meets real IO: an operation that is cancelled either had no
 * effect or completed, and a handle it obtained is handed to the caller or
 * closed, never leaked (listenTcp, bindUdp, connectTcp, accept).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import net from "node:net";
import { Cancelled, pause, run, withTaskGroup, withTimeout, type Operation, type Task } from "../../src/index.ts";
import { bindUdp, connectTcp, listenTcp, TcpConnection, TcpServer, type UdpSocket } from "../../src/node.ts";
import { quietResources, settleResources } from "./net_support.ts";

/**
 * Starts `open` in a task and cancels the task as soon as it is suspended in
 * the operation: a round later, within the same turn of the event loop, so
 * before Node can have finished the address lookup that precedes a bind.
 * Returns what the operation gave (closed by the caller) or the error.
 */
function* cancelWhilePending<T>(open: () => Operation<T>): Operation<{ value?: T; error?: unknown }> {
  const outcome: { value?: T; error?: unknown } = {};
  yield* withTaskGroup<void>(function* (group) {
    const task = group.spawn(function* () {
      try {
        outcome.value = yield* open();
      } catch (error) {
        outcome.error = error;
      }
    });
    yield* pause(); // the task runs and suspends in the operation
    task.cancel();
  });
  return outcome;
}

for (const host of ["127.0.0.1", "localhost"]) {
  test(`listenTcp({ host: "${host}" }) cancelled before the socket is listening leaves no listening socket behind`, {
    timeout: 20_000,
  }, async () => {
    const baseline = await quietResources();
    for (let i = 0; i < 5; i++) {
      const outcome = await run(() => cancelWhilePending(() => listenTcp({ host, port: 0 })));
      // If the bind won the race it was handed over (a settlement that came first wins): close it.
      if (outcome.value !== undefined) outcome.value.close();
      else assert.ok(outcome.error instanceof Cancelled, String(outcome.error));
    }
    assert.deepEqual(await settleResources(baseline), baseline, "every listening socket was closed");
  });

  test(`bindUdp({ host: "${host}" }) cancelled before the socket is bound leaves no socket behind`, { timeout: 20_000 }, async () => {
    const baseline = await quietResources();
    for (let i = 0; i < 5; i++) {
      const outcome = await run(() =>
        cancelWhilePending<UdpSocket>(() => bindUdp({ host, port: 0, type: host === "localhost" ? undefined : "udp4" })),
      );
      if (outcome.value !== undefined) outcome.value.close();
      else assert.ok(outcome.error instanceof Cancelled, String(outcome.error));
    }
    assert.deepEqual(await settleResources(baseline), baseline, "every UDP socket was closed");
  });
}

test("connectTcp: a connection made in the round its task is cancelled is returned to the caller, not dropped", {
  timeout: 20_000,
}, async () => {
  const baseline = await quietResources();
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    let got: TcpConnection | undefined;
    let thrown: unknown;
    let task: Task<void> | undefined;
    // Cancel the task from the socket's own 'connect' event, just before
    // connectTcp hears of it: the connection and the cancellation arrive in
    // the same round.
    const onSocket = (message: unknown): void => {
      const { socket } = message as { socket: net.Socket };
      socket.prependOnceListener("connect", () => task?.cancel());
    };
    diagnostics.subscribe("net.client.socket", onSocket);
    try {
      yield* withTaskGroup<void>(function* (group) {
        task = group.spawn(function* () {
          try {
            got = yield* connectTcp({ host: "127.0.0.1", port: server.port });
          } catch (error) {
            thrown = error;
          }
        });
      });
    } finally {
      diagnostics.unsubscribe("net.client.socket", onSocket);
    }
    assert.equal(thrown, undefined, `connectTcp threw ${String(thrown)}`);
    assert.ok(got instanceof TcpConnection, "the connection was handed over");
    using accepted = yield* withTimeout(5000, () => server.accept());
    assert.equal(accepted.remotePort, got.localPort, "the server got the very connection");
    yield* got.write("still open\n");
    assert.equal(yield* accepted.readLine(), "still open");
    got.close();
  });
  assert.deepEqual(await settleResources(baseline), baseline);
});

// The accept completes (the queue hands the connection to the accepting task
// before that task hears of the cancellation); what withTimeout then does
// with the value is the composite's part: until it returns a body's value
// even when the caller was cancelled meanwhile, the connection is dropped.
test("accept under withTimeout: a connection handed over in the round the caller is cancelled is returned or closed, never leaked", {
  timeout: 20_000,
}, async () => {
  const baseline = await quietResources();
  const raw = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  const server = new TcpServer(raw);
  const controller = new AbortController();
  // Abort the run in the event that queues the connection, just before it is queued.
  raw.prependOnceListener("connection", () => controller.abort());
  let client: net.Socket | undefined;
  let accepted: TcpConnection | undefined;
  try {
    accepted = await run(
      () =>
        withTimeout(10_000, () => {
          // Connecting from inside: the connection arrives on a later turn
          // of the event loop, when the accept is certainly waiting.
          client = net.connect(server.port, "127.0.0.1");
          client.on("error", () => {});
          return server.accept();
        }),
      { signal: controller.signal },
    );
  } catch (error) {
    assert.ok(error instanceof Cancelled, String(error));
  }
  const queued = server.pending;
  accepted?.close();
  server.close();
  client?.destroy();
  assert.deepEqual(await settleResources(baseline), baseline, "the server-side connection was handed over or closed");
  assert.ok(accepted !== undefined || queued === 1, "the connection was returned, or left queued for the next accept");
});
