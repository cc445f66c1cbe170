/**
 * `BufferedWriter` (docs/semantics.md, «IO»): small writes gather in the buffer,
 * full buffers and large writes are passed on in order, `flush`, `close`
 * (nothing flushed, the loss still visible in `buffered`), bad input, the
 * one-writer rule, and what a cancelled write or flush has written.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { WeftUsageError, sleep, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { BufferedWriter, MemoryReader, WriterBase, pipe } from "../../src/io.ts";
import type { Operation } from "../../src/index.ts";
import type { GiveBack } from "../../src/io/writer.ts";
import fc from "fast-check";
import { CollectingWriter, LendingWriter, concat, pattern } from "./support.ts";

const text = (chunks: Uint8Array[]): string[] => chunks.map((c) => new TextDecoder().decode(c));

test("small writes stay buffered until the buffer is full or flushed; the default size is 1024", async () => {
  const out = await runVirtual(function* () {
    const inner = new CollectingWriter();
    const out = new BufferedWriter(inner);
    const log: unknown[] = [out.size];
    for (let i = 0; i < 100; i++) yield* out.write("0123456789"); // 1000 bytes
    log.push(inner.chunks.length, out.buffered);
    yield* out.write("abcdefghijklmnopqrstuvwxyz"); // tops the buffer up to 1024 and passes it on
    log.push(
      inner.chunks.map((c) => c.length),
      out.buffered,
    );
    yield* out.flush();
    yield* out.flush(); // nothing left: no empty write
    log.push(
      inner.chunks.map((c) => c.length),
      out.buffered,
      inner.text().slice(-5),
    );
    return log;
  });
  assert.deepEqual(out, [1024, 0, 1000, [1024], 2, [1024, 2], 0, "vwxyz"]);
});

test("a write that fills the buffer exactly stays buffered; a write of a whole buffer or more goes straight through after the buffered bytes", async () => {
  const chunks = await runVirtual(function* () {
    const inner = new CollectingWriter();
    const out = new BufferedWriter(inner, 4);
    yield* out.write("ab");
    yield* out.write("cd"); // exactly full: not passed on yet
    const afterFull = inner.chunks.length;
    yield* out.write("e"); // passes the full buffer on
    yield* out.write("0123456789"); // larger than the buffer: "e", then the write itself
    yield* out.write("WXYZ"); // exactly one buffer, with an empty buffer: straight through
    yield* out.write("é"); // two bytes of UTF-8
    yield* out.flush();
    return { afterFull, chunks: text(inner.chunks) };
  });
  assert.deepEqual(chunks, { afterFull: 0, chunks: ["abcd", "e", "0123456789", "WXYZ", "é"] });
});

test("writeReader goes through the buffer and returns the number of bytes copied", async () => {
  const out = await runVirtual(function* () {
    const inner = new CollectingWriter();
    const out = new BufferedWriter(inner, 8);
    const n = yield* out.writeReader(new MemoryReader(["abc", "defgh", "ij"]));
    const before = inner.text();
    yield* out.flush();
    return [n, before, inner.text()];
  });
  assert.deepEqual(out, [10, "abcdefgh", "abcdefghij"]);
});

test("close writes nothing, leaves the wrapped writer open, and buffered still counts what was left behind", async () => {
  const out = await runVirtual(function* () {
    const inner = new CollectingWriter();
    const log: unknown[] = [];
    let kept!: BufferedWriter;
    {
      using out = new BufferedWriter(inner, 16);
      yield* out.write("flushed ");
      yield* out.flush();
      yield* out.write("forgotten");
      log.push(out.closed);
      kept = out;
    }
    log.push(kept.closed, kept.buffered, inner.text());
    kept.close(); // idempotent
    for (const op of [() => kept.write("x"), () => kept.flush(), () => kept.writeReader(new MemoryReader(""))]) {
      try {
        yield* op();
        log.push("no error");
      } catch (e) {
        log.push(e instanceof WeftUsageError ? e.message : String(e));
      }
    }
    yield* inner.write("still open");
    log.push(inner.text());
    return log;
  });
  assert.deepEqual(out, [
    false,
    true,
    9,
    "flushed ",
    "write(): the writer is closed",
    "flush(): the writer is closed",
    "writeReader(): the writer is closed",
    "flushed still open",
  ]);
});

test("bad input gets errors that name the argument", async () => {
  const messages: string[] = [];
  const attempt = (f: () => unknown): void => {
    try {
      f();
      messages.push("no error");
    } catch (e) {
      messages.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
  };
  const inner = new CollectingWriter();
  attempt(() => new BufferedWriter(null as unknown as CollectingWriter));
  attempt(() => new BufferedWriter({} as CollectingWriter));
  attempt(() => new BufferedWriter(inner, 0));
  attempt(() => new BufferedWriter(inner, 1.5));
  attempt(() => new BufferedWriter(inner, "8" as unknown as number));
  await runVirtual(function* () {
    const out = new BufferedWriter(inner);
    try {
      yield* out.write(7 as unknown as string);
    } catch (e) {
      messages.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
  });
  assert.deepEqual(messages, [
    "TypeError: BufferedWriter: writer must be a Writer, got null",
    "TypeError: BufferedWriter: writer must be a Writer, got an object",
    "RangeError: BufferedWriter: size must be at least 1, got 0",
    "TypeError: BufferedWriter: size must be an integer, got number 1.5",
    'TypeError: BufferedWriter: size must be an integer, got the string "8"',
    "TypeError: write(): data must be a string or a Uint8Array, got number",
  ]);
});

test("one writer at a time: a flush during a write that is passing bytes on gets WeftUsageError", async () => {
  const out = await runVirtual(function* () {
    const inner = new CollectingWriter(100); // each pass-on takes 100 ms
    const out = new BufferedWriter(inner, 4);
    const log: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* out.write("0123456789");
        log.push("write done");
      });
      group.startSoon(function* () {
        yield* sleep(10);
        try {
          yield* out.flush();
        } catch (e) {
          log.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      });
    });
    log.push(inner.text());
    return log;
  });
  assert.deepEqual(out, [
    "WeftUsageError: flush(): another task is already writing to this writer; write from one task and fan in with a Queue",
    "write done",
    "0123456789",
  ]);
});

test("a cancelled write accepted none of its data; the bytes buffered before it stay buffered and reach the reader once", async () => {
  const out = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const out = new BufferedWriter(writer, 8);
    const log: unknown[] = [];
    yield* out.write("abcdef"); // buffered
    // Top-up path: "abcdefgh" must be passed on, but nobody reads the pipe yet.
    log.push(yield* withTimeoutOpt(50, () => out.write("ghij")), out.buffered);
    // Straight-through path: "abcdef" passes on once a reader takes it, then the big write waits and is cancelled.
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        log.push(new TextDecoder().decode(yield* reader.readSome()));
      });
      log.push(yield* withTimeoutOpt(50, () => out.write("0123456789")), out.buffered);
    });
    // Flush cancelled: the buffer is kept.
    yield* out.write("XY");
    log.push(yield* withTimeoutOpt(50, () => out.flush()), out.buffered);
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* out.write("Z");
        yield* out.flush();
        writer.close();
      });
      log.push((yield* reader.readAll()).text());
    });
    return log;
  });
  assert.deepEqual(out, [undefined, 6, "abcdef", undefined, 0, undefined, 2, "XYZ"]);
});

test("many writes of every size reach the wrapped writer complete and in order", async () => {
  const data = pattern(200_000, 3);
  const got = await runVirtual(function* () {
    const inner = new CollectingWriter();
    const out = new BufferedWriter(inner, 1000);
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = Math.min(data.length - at, (i * 37) % 2500);
      yield* out.write(data.subarray(at, at + n));
      at += n;
    }
    yield* out.flush();
    return inner.bytes();
  });
  assert.deepEqual(got, data);
});

test("a flush of a buffer at least half full hands the buffer itself over and goes on in a fresh one; an emptier one is copied", async () => {
  const out = await runVirtual(function* () {
    const inner = new CollectingWriter(); // keeps handed-over bytes as they are, as a socket does
    const out = new BufferedWriter(inner, 8);
    const log: unknown[] = [];
    yield* out.write("abcd"); // half full
    yield* out.flush();
    log.push(inner.transfers);
    yield* out.write("xyz"); // under half: copied
    yield* out.flush();
    log.push(inner.transfers);
    yield* out.write("1234567");
    yield* out.write("89"); // tops up and hands over "12345678"; "9" goes into the fresh buffer
    yield* out.write("0123456789"); // larger than the buffer: "9" is copied out, then the caller's bytes are copied
    log.push(inner.transfers);
    yield* out.write("ABCDEFGH"); // fills the fresh buffer exactly
    yield* out.flush(); // full: handed over
    log.push(inner.transfers);
    // Had the writer gone on in a buffer it handed over, the chunks kept above would have changed since.
    log.push(text(inner.chunks));
    return log;
  });
  assert.deepEqual(out, [1, 1, 2, 3, ["abcd", "xyz", "12345678", "9", "0123456789", "ABCDEFGH"]]);
});

test("a handed-over buffer that the writer kept when it failed is never changed afterwards; its bytes stay buffered", async () => {
  /** Keeps the first buffer handed to it and fails, as a socket that queued the bytes and then broke. */
  class KeepsAndFails extends CollectingWriter {
    held: Uint8Array | undefined = undefined;
    protected override *writeChunk(bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> {
      if (this.held === undefined && giveBack !== null) {
        this.held = bytes;
        throw new Error("the write failed after queueing");
      }
      yield* super.writeChunk(bytes, giveBack);
    }
  }
  const out = await runVirtual(function* () {
    const inner = new KeepsAndFails();
    const out = new BufferedWriter(inner, 8);
    const log: unknown[] = [];
    yield* out.write("abcde");
    try {
      yield* out.write("fghij"); // tops up to "abcdefgh", handed over: the writer keeps it and throws
    } catch (error) {
      log.push((error as Error).message);
    }
    log.push(out.buffered); // the failed write took nothing: "abcde" is still buffered
    yield* out.write("XYZ"); // lands after "abcde", in a buffer that is not the one the writer holds
    yield* out.flush();
    log.push(new TextDecoder().decode(inner.held), inner.text());
    return log;
  });
  assert.deepEqual(out, ["the write failed after queueing", 5, "abcdefgh", "abcdeXYZ"]);
});

test("buffers the writer gives back are written into again: a stream of full buffers uses one more than the sink holds at once", async () => {
  const out = await runVirtual(function* () {
    const log: unknown[] = [];
    // holdFor 1: a socket that sends a buffer while the next one fills; 0: one that is done before the write returns.
    for (const holdFor of [1, 0]) {
      const inner = new LendingWriter({ holdFor });
      const out = new BufferedWriter(inner, 8);
      const data = pattern(8 * 20, holdFor);
      for (let at = 0; at < data.length; at += 4) yield* out.write(data.subarray(at, at + 4));
      yield* out.flush();
      inner.settle();
      log.push([inner.lentBuffers.size, inner.changedWhileLent, concat(inner.chunks).join() === data.join()]);
    }
    return log;
  });
  // holdFor 1: the sink holds two at the moment a buffer is handed over (the last one and this one), plus the one
  // being filled. holdFor 0: one, plus the one being filled.
  assert.deepEqual(out, [
    [3, 0, true],
    [2, 0, true],
  ]);
});

test("a buffer given back twice is still written into by one owner only", async () => {
  const got = await runVirtual(function* () {
    const inner = new LendingWriter({ holdFor: 2, giveBackTwice: true });
    const out = new BufferedWriter(inner, 8);
    const data = pattern(8 * 30 + 5, 9);
    for (let at = 0; at < data.length; at += 3) yield* out.write(data.subarray(at, at + 3));
    yield* out.flush();
    inner.settle();
    return { changed: inner.changedWhileLent, same: concat(inner.chunks).join() === data.join() };
  });
  assert.deepEqual(got, { changed: 0, same: true });
});

test("a give-back the writer does not expect, of a buffer already given back or of the one in use, is ignored", async () => {
  const out = await runVirtual(function* () {
    const log: unknown[] = [];
    // Whether the loans still out (all but the first, which was given back) changed.
    const changed = (inner: LendingWriter): boolean[] =>
      inner.loans.slice(1).map((loan) => loan.bytes.some((byte, i) => byte !== loan.snapshot[i]));
    {
      // Given back twice in a row: taken as a spare once, or it would be written into twice over.
      const inner = new LendingWriter({ holdFor: Number.POSITIVE_INFINITY });
      const out = new BufferedWriter(inner, 4);
      yield* out.write("abcd");
      yield* out.flush(); // lends A, goes on in a new B
      inner.loans[0]!.giveBack();
      inner.loans[0]!.giveBack();
      yield* out.write("efgh");
      yield* out.flush(); // lends B, goes on in A
      yield* out.write("ijkl");
      yield* out.flush(); // lends A: must go on in a new buffer, not A again
      yield* out.write("mnop");
      log.push(changed(inner), text(inner.chunks));
    }
    {
      // Given back again while it is the buffer in use.
      const inner = new LendingWriter({ holdFor: Number.POSITIVE_INFINITY });
      const out = new BufferedWriter(inner, 4);
      yield* out.write("abcd");
      yield* out.flush(); // lends A, goes on in a new B
      inner.loans[0]!.giveBack();
      yield* out.write("efgh");
      yield* out.flush(); // lends B, goes on in A
      inner.loans[0]!.giveBack(); // A is in use
      yield* out.write("ijkl");
      yield* out.flush(); // lends A: must go on in a new buffer, not A again
      yield* out.write("mnop");
      log.push(changed(inner), text(inner.chunks));
    }
    return log;
  });
  assert.deepEqual(out, [
    [false, false],
    ["abcd", "efgh", "ijkl"],
    [false, false],
    ["abcd", "efgh", "ijkl"],
  ]);
});

test("a sink of one's own is not handed buffers: it gets the one buffer, never a giveBack, and no buffer is allocated per flush", async () => {
  /** A sink that processes each write at once and keeps nothing: what a user's `WriterBase` subclass typically is. */
  class Summing extends WriterBase {
    sum = 0;
    readonly buffers = new Set<ArrayBufferLike>();
    readonly giveBacks: unknown[] = [];
    protected *writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void> {
      this.buffers.add(bytes.buffer);
      if (giveBack !== null) this.giveBacks.push(giveBack);
      for (const byte of bytes) this.sum += byte;
    }
    protected get isClosed(): boolean {
      return false;
    }
    close(): void {}
  }
  const out = await runVirtual(function* () {
    const inner = new Summing();
    const out = new BufferedWriter(inner, 8);
    const data = pattern(8 * 10, 5);
    for (let at = 0; at < data.length; at += 4) yield* out.write(data.subarray(at, at + 4));
    yield* out.flush();
    return [inner.buffers.size, inner.giveBacks.length, inner.sum === data.reduce((a, b) => a + b, 0)];
  });
  assert.deepEqual(out, [1, 0, true]);
});

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const propertyRuns = override !== undefined && override !== "" ? Number(override) : 80;

test("property: over a sink that holds handed-over buffers for a while, with cancellations, no buffer changes while it is out and every byte arrives once, in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        bufferSize: fc.integer({ min: 1, max: 24 }),
        holdFor: fc.integer({ min: 0, max: 4 }),
        delay: fc.integer({ min: 0, max: 10 }),
        giveBackTwice: fc.boolean(),
        writes: fc.array(
          fc.record({ size: fc.integer({ min: 1, max: 60 }), timeout: fc.option(fc.integer({ min: 0, max: 15 })), flush: fc.boolean() }),
          { minLength: 1, maxLength: 30 },
        ),
      }),
      async ({ bufferSize, holdFor, delay, giveBackTwice, writes }) => {
        const result = await runVirtual(function* () {
          const inner = new LendingWriter({ holdFor, delay, giveBackTwice });
          const out = new BufferedWriter(inner, bufferSize);
          const written: Uint8Array[] = [];
          let seed = 0;
          for (const { size, timeout, flush } of writes) {
            const data = pattern(size, ++seed);
            // The sink queues a cancelled write's bytes, so every write counts, cancelled or not.
            written.push(data);
            if (timeout === null) yield* out.write(data);
            else yield* withTimeoutOpt(timeout, () => out.write(data));
            if (flush) yield* withTimeoutOpt(timeout ?? 100, () => out.flush());
          }
          yield* out.flush();
          inner.settle();
          return { changed: inner.changedWhileLent, expected: concat(written), received: concat(inner.chunks) };
        });
        assert.equal(result.changed, 0);
        assert.deepEqual(result.received, result.expected);
      },
    ),
    { numRuns: propertyRuns },
  );
});
