/**
 * Closing a TCP connection whose peer has stopped reading: the linger bound
 * (how long queued bytes may wait before the socket is dropped) holds, is
 * configurable, and the file descriptor is released.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { run, sleep, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { connectTcp, listenTcp, type TcpConnection } from "../../src/node.ts";
import { rawServer, socketResources } from "./net_support.ts";

/** The socket file descriptors this process holds (Linux), or undefined where /proc is missing. */
function socketFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:");
      } catch {
        return false;
      }
    }).length;
  } catch {
    return undefined;
  }
}

/** A listener whose connections are never read: what we send piles up in the kernel buffers. */
function deafPeer(): Promise<{ port: number; stop(): void }> {
  return rawServer(undefined, { pauseOnConnect: true });
}

/** Fills Node's and the kernel's buffers: the write can never complete, so it is cut short by a timeout. */
function* clog(conn: TcpConnection): Operation<void> {
  const written = yield* withTimeoutOpt(200, () => conn.write(new Uint8Array(32 << 20)));
  assert.equal(written, undefined, "a deaf peer cannot take 32 MiB");
}

/** Polls until the process holds at most `count` socket handles; returns the elapsed ms, or Infinity. */
async function released(count: number, limitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if (socketResources().length <= count) return Date.now() - start;
    await delay(20);
  }
  return Infinity;
}

test("close() drops a connection whose peer never reads once the configured linger is up, not twice that, and releases the fd", {
  timeout: 30_000,
}, async () => {
  const peer = await deafPeer();
  try {
    const lingerMs = 2500;
    let closedAt = 0;
    let fdsBefore: number | undefined;
    let handlesBefore = 0;
    await run(function* () {
      const conn = yield* connectTcp({ host: "127.0.0.1", port: peer.port, lingerMs });
      yield* clog(conn);
      fdsBefore = socketFds();
      handlesBefore = socketResources().length;
      closedAt = Date.now();
      conn.close();
    });
    // A timer never fires early, so only the upper bound can be broken by
    // a loaded host; it is 2 × linger because the defect was a doubled wait.
    const elapsed = await released(handlesBefore - 1, 4 * lingerMs);
    const sinceClose = elapsed === Infinity ? Infinity : Date.now() - closedAt;
    assert.ok(sinceClose < 2 * lingerMs, `the socket was released ${sinceClose} ms after close(), linger ${lingerMs} ms`);
    if (fdsBefore !== undefined) assert.equal(socketFds(), fdsBefore - 1, "the socket's file descriptor is closed");
  } finally {
    peer.stop();
  }
});

test("lingerMs: 0 drops the queued bytes at close() at once; listenTcp passes lingerMs to accepted connections", {
  timeout: 20_000,
}, async () => {
  const peer = await deafPeer();
  try {
    let handlesBefore = 0;
    await run(function* () {
      const conn = yield* connectTcp({ host: "127.0.0.1", port: peer.port, lingerMs: 0 });
      yield* clog(conn);
      handlesBefore = socketResources().length;
      conn.close();
    });
    assert.ok((await released(handlesBefore - 1, 5000)) < Infinity, "the socket was released without waiting");

    // The server side: an accepted connection closed towards a client that does not read.
    await run(function* () {
      using server = yield* listenTcp({ host: "127.0.0.1", port: 0, lingerMs: 0 });
      const client = net.connect({ port: server.port, host: "127.0.0.1" });
      client.pause();
      client.on("error", () => {});
      try {
        const conn = yield* server.accept();
        yield* clog(conn);
        const before = socketResources().length;
        conn.close();
        server.close();
        const deadline = Date.now() + 5000;
        while (socketResources().length >= before && Date.now() < deadline) yield* sleep(20);
        assert.ok(socketResources().length < before, "the accepted connection was dropped at once");
      } finally {
        client.destroy();
      }
    });
  } finally {
    peer.stop();
  }
});

test("bad input: lingerMs must be an integer number of milliseconds in [0, 2^31 - 1]", { timeout: 10_000 }, async () => {
  await run(function* () {
    for (const lingerMs of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 1e300]) {
      for (const open of [() => connectTcp({ host: "127.0.0.1", port: 1, lingerMs }), () => listenTcp({ host: "127.0.0.1", lingerMs })]) {
        let error: unknown;
        try {
          (yield* open()).close();
        } catch (caught) {
          error = caught;
        }
        assert.ok(error instanceof RangeError && /options\.lingerMs/.test(error.message), `${String(error)} for ${lingerMs}`);
      }
    }
    let error: unknown;
    try {
      yield* connectTcp({ host: "127.0.0.1", port: 1, lingerMs: "5" as never });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof TypeError && /options\.lingerMs must be a number/.test(error.message), String(error));
  });
});

test("bad input: setKeepAlive and setNoDelay check their arguments; -0 and huge counts are taken as numbers, not crashes", {
  timeout: 10_000,
}, async () => {
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: -0, backlog: 1e300 });
    using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port, lingerMs: -0 });
    for (const [call, cls, pattern] of [
      [() => conn.setKeepAlive(true, Number.NaN), RangeError, /TcpConnection\.setKeepAlive\(\): initialDelayMs/],
      [() => conn.setKeepAlive(true, -1), RangeError, /initialDelayMs/],
      [() => conn.setKeepAlive(true, 2 ** 31), RangeError, /initialDelayMs/],
      [() => conn.setKeepAlive("yes" as never), TypeError, /TcpConnection\.setKeepAlive\(\): enable must be a boolean/],
      [() => conn.setNoDelay(1 as never), TypeError, /TcpConnection\.setNoDelay\(\): noDelay must be a boolean/],
    ] as const) {
      assert.throws(call, (error: unknown) => error instanceof cls && pattern.test((error as Error).message));
    }
    conn.setKeepAlive(true, 60_000);
    conn.setKeepAlive(false);
  });
});
