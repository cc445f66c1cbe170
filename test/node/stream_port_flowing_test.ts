/**
 * A `ReadPort` in flowing mode (what a TCP or TLS connection reads through):
 * the stream hands each chunk to the port's own queue as it arrives. What
 * paused mode got from Node's buffer for free must still hold: the queue is
 * bounded (the stream is paused while it is full), no byte is lost or
 * repeated, bytes received before a failure are read before it, and a port
 * that hands its stream on stops taking from it.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { call, run, withTaskGroup, type Operation } from "../../src/index.ts";
import { ReadPort } from "../../src/node/stream_port.ts";
import { concat, pattern } from "../io/support.ts";

const LIMIT = { timeout: 20_000 };

/** Lets Node's stream machinery run (resumes and 'data' events come on later ticks). */
function* hostTurns(n = 3): Operation<void> {
  for (let i = 0; i < n; i++) yield* call(() => new Promise<void>((resolve) => setImmediate(resolve)));
}

/** Reads the port until its end of stream. */
function* readAll(port: ReadPort): Operation<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let chunk; (chunk = yield* port.read()) !== undefined; ) parts.push(chunk);
  return concat(parts);
}

test(
  "a flood nobody reads fills the queue to about the high-water mark and no further; then every byte reads back in order",
  LIMIT,
  async () => {
    const stream = new PassThrough();
    const port = new ReadPort(stream, { flowing: true });
    const limit = stream.readableHighWaterMark;
    const sent = pattern(64 * limit, 3);
    const piece = 1000;
    const outcome = await run(function* () {
      // Written as the stream takes it: the writable side fills up once the port has paused the readable side.
      let at = 0;
      let stalled = false;
      while (at < sent.length) {
        if (!stream.write(sent.subarray(at, at + piece))) {
          stalled = true;
          break;
        }
        at += piece;
      }
      yield* hostTurns(5);
      const held = port.queued;
      stream.end(sent.subarray(at + piece));
      // The write that filled the writable side was taken too: it is in the stream, after what was written before.
      const got = yield* readAll(port);
      return { stalled, held, got };
    });
    assert.ok(outcome.stalled, "the stream never pushed back: the port kept taking");
    assert.ok(outcome.held >= limit && outcome.held < limit + piece, `the queue held ${outcome.held} bytes (high-water mark ${limit})`);
    assert.deepEqual(outcome.got, sent);
  },
);

test("bytes left in the stream's buffer when it fails while paused are read before the error", LIMIT, async () => {
  const stream = new PassThrough();
  const port = new ReadPort(stream, { flowing: true });
  const limit = stream.readableHighWaterMark;
  const first = pattern(limit, 1); // fills the queue: the port pauses the stream
  const second = pattern(100, 2); // stays in the stream's own buffer
  const failure = new Error("boom");
  const outcome = await run(function* () {
    stream.write(first);
    yield* hostTurns();
    stream.write(second);
    yield* hostTurns();
    const inStream = stream.readableLength;
    stream.destroy(failure);
    const parts: Uint8Array[] = [];
    let error: unknown;
    try {
      for (let chunk; (chunk = yield* port.read()) !== undefined; ) parts.push(chunk);
    } catch (e) {
      error = e;
    }
    return { inStream, got: concat(parts), error };
  });
  assert.equal(outcome.inStream, second.length, "the second write did not wait in the stream's buffer: the test proves nothing");
  assert.deepEqual(outcome.got, concat([first, second]));
  assert.equal(outcome.error, failure);
});

test("detach() stops the flow: bytes that arrive later stay in the stream for its next owner", LIMIT, async () => {
  const stream = new PassThrough();
  const port = new ReadPort(stream, { flowing: true });
  const later = await run(function* () {
    stream.write("before");
    yield* hostTurns();
    assert.equal(Buffer.from((yield* port.read())!).toString(), "before");
    port.detach();
    stream.write("after");
    yield* hostTurns();
    assert.equal(port.queued, 0, "the detached port still took bytes");
    return String(stream.read());
  });
  assert.equal(later, "after");
});

test("a stream someone listens to for 'readable' is read in paused mode: a read that waits still gets its bytes", LIMIT, async () => {
  const stream = new PassThrough();
  stream.on("readable", () => {});
  const port = new ReadPort(stream, { flowing: true });
  assert.equal(stream.listenerCount("data"), 0, "the port listens for 'data' on a stream that 'readable' holds in paused mode");
  const got = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      const reader = group.spawn(function* () {
        return Buffer.from(yield* readAll(port)).toString();
      });
      yield* hostTurns(); // the read waits
      stream.end("paused after all");
      return yield* reader.wait();
    });
  });
  assert.equal(got, "paused after all");
});

test("a stream someone else resumes while the queue is full is paused again at its next chunk", LIMIT, async () => {
  const stream = new PassThrough();
  const port = new ReadPort(stream, { flowing: true });
  const limit = stream.readableHighWaterMark;
  const piece = 1000;
  const sent = pattern(8 * limit, 9);
  const outcome = await run(function* () {
    stream.write(sent.subarray(0, limit)); // fills the queue: the port pauses the stream
    yield* hostTurns();
    const pausedByPort = stream.readableFlowing === false;
    stream.resume(); // as Node does to a child's output pipes when the child exits
    for (let at = limit; at < sent.length; at += piece) stream.write(sent.subarray(at, at + piece));
    stream.end();
    yield* hostTurns(10);
    const held = port.queued;
    return { pausedByPort, held, got: yield* readAll(port) };
  });
  assert.ok(outcome.pausedByPort, "the full queue did not pause the stream: the test proves nothing");
  assert.ok(outcome.held <= limit + piece, `the queue held ${outcome.held} bytes (high-water mark ${limit})`);
  assert.deepEqual(outcome.got, sent);
});
