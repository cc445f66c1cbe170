/**
 * `WritePort` with handed-over bytes (`giveBack`, what a `BufferedWriter`
 * passes a full buffer with): a socket queues them without a copy and gives
 * them back once, when it is done with them (written at once, written later,
 * or dropped by a destroyed socket); any other stream gets a copy and the
 * bytes back at once, since it may hold a chunk past its callback.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { PassThrough, Writable } from "node:stream";
import { NO_RETURN } from "../../src/io/writer.ts";
import { WritePort } from "../../src/node/stream_port.ts";
import { pattern } from "../io/support.ts";
import { rawServer } from "./net_support.ts";

const LIMIT = { timeout: 30_000 };

/** More than loopback's socket buffers on both sides can take while the peer reads nothing. */
const BIG = 32 * 1024 * 1024;

/** A client socket connected to a server whose side of the connection reads nothing until it is resumed. */
async function stalledPair(): Promise<{ socket: net.Socket; peer: net.Socket; stop(): void }> {
  let accept!: (socket: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => (accept = resolve));
  const server = await rawServer((socket) => accept(socket), { pauseOnConnect: true });
  const socket = net.connect(server.port, "127.0.0.1");
  socket.on("error", () => {});
  const [peer] = await Promise.all([accepted, once(socket, "connect")]);
  return {
    socket,
    peer,
    stop: () => {
      socket.destroy();
      server.stop();
    },
  };
}

/** Lets Node's stream machinery run: write callbacks come on later ticks. */
const hostTurns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** Reads `n` bytes from `socket` (resuming it) and returns them. */
async function receive(socket: net.Socket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  socket.on("data", (chunk: Buffer) => {
    out.set(chunk.subarray(0, Math.min(chunk.length, n - at)), at);
    at += chunk.length;
  });
  socket.resume();
  while (at < n) await once(socket, "data");
  return out;
}

test("a socket sends handed-over bytes from the caller's own array and gives it back once, after they are written", LIMIT, async () => {
  const { socket, peer, stop } = await stalledPair();
  try {
    const port = new WritePort(socket);
    const bytes = pattern(BIG, 1);
    let givenBack = 0;
    const room = port.offer(bytes, () => givenBack++);
    await hostTurns();
    const heldWhileQueued = givenBack;
    // Not copied: the socket still sends from `bytes`, so a change the caller should not have made shows at the
    // peer. (A copy would have sent the pattern.)
    bytes.fill(0xee, BIG - 1024);
    const got = await receive(peer, BIG);
    while (givenBack === 0) await hostTurns(1);
    await hostTurns();
    assert.deepEqual(
      { room, heldWhileQueued, givenBack, tail: got.subarray(BIG - 1024).every((b) => b === 0xee) },
      { room: false, heldWhileQueued: 0, givenBack: 1, tail: true },
    );
    assert.deepEqual(got.subarray(0, BIG - 1024 * 1024), pattern(BIG, 1).subarray(0, BIG - 1024 * 1024));
  } finally {
    stop();
  }
});

test("a socket that writes handed-over bytes at once gives them back before offer returns, and only then", LIMIT, async () => {
  const { socket, peer, stop } = await stalledPair();
  try {
    const port = new WritePort(socket);
    const bytes = pattern(1024, 2);
    let givenBack = 0;
    const room = port.offer(bytes, () => givenBack++);
    const atOnce = givenBack;
    await hostTurns(); // the socket's own callback comes now: it must not give the bytes back a second time
    const got = await receive(peer, 1024);
    assert.deepEqual({ room, atOnce, givenBack }, { room: true, atOnce: 1, givenBack: 1 });
    assert.deepEqual(got, pattern(1024, 2));
  } finally {
    stop();
  }
});

test("a socket destroyed while handed-over bytes are still queued gives them back once", LIMIT, async () => {
  const { socket, stop } = await stalledPair();
  try {
    const port = new WritePort(socket);
    let givenBack = 0;
    port.offer(pattern(BIG, 3), () => givenBack++);
    await hostTurns();
    const before = givenBack;
    socket.destroy();
    while (givenBack === 0) await hostTurns(1);
    await hostTurns();
    assert.deepEqual({ before, givenBack }, { before: 0, givenBack: 1 });
  } finally {
    stop();
  }
});

test("a stream that is not a socket gets a copy of handed-over bytes and gives them back at once", LIMIT, async () => {
  // A PassThrough keeps each chunk in its readable side after its write callback: it must never hold the caller's array.
  const stream = new PassThrough();
  const port = new WritePort(stream);
  const bytes = pattern(4096, 4);
  let givenBack = 0;
  port.offer(bytes, () => givenBack++);
  const atOnce = givenBack;
  bytes.fill(0); // the caller writes into its buffer again, as a BufferedWriter does once it is given back
  const chunk = stream.read() as Buffer;
  await hostTurns();
  assert.deepEqual({ atOnce, givenBack }, { atOnce: 1, givenBack: 1 });
  assert.deepEqual(new Uint8Array(chunk), pattern(4096, 4));
});

/** A Writable that keeps every chunk it is given. */
function recordingStream(): { stream: Writable; chunks: unknown[] } {
  const chunks: unknown[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, chunks };
}

test(
  "bytes handed over for good reach the stream as a copy when small (at most 64 bytes) and as a view of the caller's memory when larger",
  LIMIT,
  () => {
    const { stream, chunks } = recordingStream();
    const port = new WritePort(stream);
    const small = pattern(64, 4);
    const large = pattern(65, 5);
    port.offer(small, NO_RETURN);
    port.offer(large, NO_RETURN);
    const [first, second] = chunks as Buffer[];
    assert.ok(first instanceof Buffer && second instanceof Buffer);
    assert.deepEqual(
      {
        smallBytes: new Uint8Array(first),
        smallShares: first.buffer === small.buffer,
        largeShares: second.buffer === large.buffer && second.byteOffset === large.byteOffset,
      },
      { smallBytes: pattern(64, 4), smallShares: false, largeShares: true },
    );
  },
);

test("a Node Buffer handed over for good is passed on as it is, however small", LIMIT, () => {
  const { stream, chunks } = recordingStream();
  const port = new WritePort(stream);
  const small = Buffer.from(pattern(16, 6));
  port.offer(small, NO_RETURN);
  assert.equal(chunks[0], small);
});
