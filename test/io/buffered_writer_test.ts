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
import { BufferedWriter, MemoryReader, pipe } from "../../src/io.ts";
import { CollectingWriter, pattern } from "./support.ts";

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
