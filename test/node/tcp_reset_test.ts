/**
 * What a TCP reader sees when the connection breaks: bytes that arrived
 * before a reset are delivered before the error, and a write failing after
 * the peer's end of stream does not turn that end into an error.
 *
 * "Arrived" means Node has read them from the kernel. A write that fails
 * synchronously (EPIPE) destroys the socket at once, so bytes the kernel
 * still held because the process was stalled are lost with it: no reader
 * can get them back. Each test therefore waits until Node holds what the
 * peer sent (see `untilNodeHolds`) before it breaks the connection, so that a
 * loaded machine cannot reorder the two.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { call, run, sleep, type Operation } from "../../src/index.ts";
import { TcpConnection } from "../../src/node.ts";
import { rawServer } from "./net_support.ts";

type OsError = Error & { code?: string };

/**
 * Writes a byte every few ms until a write fails (the connection is broken
 * and Node knows it), without reading; returns that error. Bounded, so a
 * connection that never breaks fails the test instead of hanging it.
 */
function* writeUntilBroken(conn: TcpConnection, ms = 10_000): Operation<OsError> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      yield* conn.write("x");
    } catch (error) {
      return error as OsError;
    }
    if (Date.now() > deadline) throw new Error("the connection never broke");
    yield* sleep(10);
  }
}

/** Connects a plain socket and wraps it, keeping the socket for `untilNodeHolds`. */
function* connectKeepingSocket(port: number): Operation<{ conn: TcpConnection; socket: net.Socket }> {
  const socket = net.connect(port, "127.0.0.1");
  yield* call(
    () =>
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
  );
  return { conn: new TcpConnection(socket), socket };
}

/**
 * Waits (bounded) until Node has read `bytes` bytes from the kernel (into the
 * socket's buffer, or the connection's queue: a socket flows into it), and
 * its end of stream too when `andEnd`, without consuming any of it.
 */
function* untilNodeHolds(socket: net.Socket, bytes: number, andEnd: boolean, ms = 10_000): Operation<void> {
  const deadline = Date.now() + ms;
  const state = (socket as unknown as { _readableState: { ended: boolean } })._readableState;
  while (socket.bytesRead < bytes || (andEnd && !state.ended)) {
    if (Date.now() > deadline) throw new Error(`Node never held ${bytes} bytes${andEnd ? " and the end" : ""}`);
    yield* sleep(1);
  }
}

test("a line that arrived before the peer's reset is read first; ECONNRESET comes after it", { timeout: 20_000 }, async () => {
  // The peer sends a line, and resets the connection once it hears from us.
  const peer = await rawServer((socket) => {
    socket.write("important line\n");
    socket.once("data", () => socket.resetAndDestroy());
  });
  try {
    await run(function* () {
      const { conn, socket } = yield* connectKeepingSocket(peer.port);
      using _conn = conn;
      yield* untilNodeHolds(socket, "important line\n".length, false);
      const broken = yield* writeUntilBroken(conn);
      assert.ok(broken.code === "ECONNRESET" || broken.code === "EPIPE", String(broken));
      assert.equal(yield* conn.readLine(), "important line");
      let error: OsError | undefined;
      try {
        yield* conn.readLine();
      } catch (caught) {
        error = caught as OsError;
      }
      assert.ok(error !== undefined, "after the buffered line, the reset is reported");
      assert.ok(error.code === "ECONNRESET" || error.code === "EPIPE", String(error));
    });
  } finally {
    peer.stop();
  }
});

test("after the peer's end of stream and a failed write, reads give the buffered lines, then end of stream (not EPIPE)", {
  timeout: 20_000,
}, async () => {
  // The peer sends two lines and closes completely: our writes then fail.
  const peer = await rawServer((socket) => {
    socket.end("first\nlast words\n", () => socket.destroy());
  });
  try {
    await run(function* () {
      const { conn, socket } = yield* connectKeepingSocket(peer.port);
      using _conn = conn;
      yield* untilNodeHolds(socket, "first\nlast words\n".length, true);
      const broken = yield* writeUntilBroken(conn);
      assert.ok(broken.code === "EPIPE" || broken.code === "ECONNRESET", String(broken));
      assert.equal(yield* conn.readLine(), "first");
      assert.equal(yield* conn.readLine(), "last words");
      assert.equal(yield* conn.readLine(), undefined, "end of stream");
      assert.equal(yield* conn.readSome(), undefined, "and end of stream again");
    });
  } finally {
    peer.stop();
  }
});
