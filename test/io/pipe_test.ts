/**
 * The in-memory `pipe()` (docs/semantics.md, «IO»): order, back-pressure (a write
 * returns once the reader took its bytes), both closes, the one-reader /
 * one-writer rule, and cancellation safety both ways, also when the hand-off
 * and the cancellation meet in one round.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, DeadlockError, WeftUsageError, now, sleep, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { PipeClosed, pipe } from "../../src/io.ts";
import { concat, pattern, utf8 } from "./support.ts";
import { rejection, testOnEveryDriver } from "../support.ts";

testOnEveryDriver("what is written is read in order; closing the write end ends the stream", async (run) => {
  const lines = await run(function* () {
    const [reader, writer] = pipe();
    return yield* withTaskGroup<string[]>(function* (group) {
      group.startSoon(function* () {
        using w = writer;
        yield* w.write("alpha\nbe");
        yield* sleep(5);
        yield* w.write(utf8("ta\r\ngamma"));
      });
      const lines: string[] = [];
      for (let line; (line = yield* reader.readLine()) !== undefined; ) lines.push(line);
      return lines;
    });
  });
  assert.deepEqual(lines, ["alpha", "beta", "gamma"]);
});

test("back-pressure: a write returns only when the reader has taken its bytes", async () => {
  const log = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const log: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* writer.write("first");
        log.push(`write 1 returned at ${now()}`);
        yield* writer.write("second");
        log.push(`write 2 returned at ${now()}`);
        writer.close();
      });
      yield* sleep(100);
      log.push(`read ${new TextDecoder().decode(yield* reader.readSome(2))} at ${now()}`);
      yield* sleep(100);
      log.push(`read ${new TextDecoder().decode(yield* reader.readSome())} at ${now()}`); // the rest of "first", buffered
      log.push(`read ${new TextDecoder().decode(yield* reader.readSome())} at ${now()}`);
      log.push(`end: ${yield* reader.readSome()}`);
    });
    return log;
  });
  assert.deepEqual(log, [
    "read fi at 100",
    "write 1 returned at 100",
    "read rst at 200",
    "read second at 200",
    "write 2 returned at 200",
    "end: undefined",
  ]);
});

test("closing the write end: reads return the bytes already taken, then end of stream; readExactly past them is ReaderClosed", async () => {
  const out = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const out: unknown[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* writer.write("abcdef");
        writer.close();
        writer.close(); // idempotent
      });
      out.push(new TextDecoder().decode(yield* reader.readExactly(2)));
      try {
        yield* reader.readExactly(10);
      } catch (e) {
        out.push((e as Error).name, reader.buffered);
      }
      out.push((yield* reader.readAll()).text(), yield* reader.readSome(), yield* reader.read(new Uint8Array(4)));
    });
    return out;
  });
  assert.deepEqual(out, ["ab", "ReaderClosed", 4, "cdef", undefined, 0]);
});

test("closing the read end: the waiting write and every later write throw PipeClosed and deliver nothing", async () => {
  const out = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const out: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (const data of ["waiting", "later"]) {
          try {
            yield* writer.write(data);
            out.push(`${data}: written`);
          } catch (e) {
            out.push(`${data}: ${e instanceof PipeClosed ? e.message : String(e)}`);
          }
        }
      });
      yield* sleep(10);
      reader.close();
      reader.close(); // idempotent
      out.push(`reader.closed=${reader.closed}`);
    });
    try {
      yield* reader.readSome();
    } catch (e) {
      out.push(`read after close: ${e instanceof WeftUsageError ? e.message : String(e)}`);
    }
    return out;
  });
  assert.deepEqual(out, [
    "reader.closed=true",
    "waiting: write(): the read end of the pipe was closed before the bytes were read",
    "later: write(): the read end of the pipe is closed",
    "read after close: readSome(): the reader is closed",
  ]);
});

test("closing an end while the other side of the same end waits: a waiting write throws PipeClosed, a waiting read sees end of stream", async () => {
  const out = await runVirtual(function* () {
    const out: string[] = [];
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* w1.write("never read");
        } catch (e) {
          out.push(`write: ${(e as Error).message}`);
        }
      });
      group.startSoon(function* () {
        out.push(`read: ${yield* r2.readSome()}`);
      });
      yield* sleep(10);
      w1.close(); // another task closes the write end under the waiting writer
      r2.close(); // and the read end under the waiting reader
    });
    out.push(`r1 after: ${yield* r1.readSome()}`, `w2.closed=${w2.closed}`);
    return out;
  });
  assert.deepEqual(out.sort(), [
    "r1 after: undefined",
    "read: undefined",
    "w2.closed=false",
    "write: write(): the write end of the pipe was closed while this write waited",
  ]);
});

test("one reader and one writer at a time: a second concurrent one gets WeftUsageError, the first is unharmed", async () => {
  const out = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const out: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* writer.write("x"); // waits until reader 1 comes at 20
        yield* sleep(10);
        yield* writer.write("y\n");
      });
      group.startSoon(function* () {
        yield* sleep(5); // the first writer is waiting for a reader now
        try {
          yield* writer.write("z");
        } catch (e) {
          out.push(`writer 2: ${(e as Error).name}: ${(e as Error).message}`);
        }
      });
      group.startSoon(function* () {
        yield* sleep(20);
        out.push(`reader 1: ${yield* reader.readLine()}`);
      });
      group.startSoon(function* () {
        yield* sleep(25); // reader 1 is waiting for the rest of its line
        try {
          yield* reader.readSome();
        } catch (e) {
          out.push(`reader 2: ${(e as Error).name}: ${(e as Error).message}`);
        }
      });
    });
    return out;
  });
  assert.deepEqual(out, [
    "writer 2: WeftUsageError: write(): another task is already writing to this writer; write from one task and fan in with a Queue",
    "reader 2: WeftUsageError: readSome(): another task is already reading from this reader; read from one task and fan out with a Queue",
    "reader 1: xy",
  ]);
});

testOnEveryDriver("a cancelled write delivered nothing and a cancelled read took nothing; both ends stay usable", async (run) => {
  const out = await run(function* () {
    const [reader, writer] = pipe();
    const out: unknown[] = [];
    out.push(yield* withTimeoutOpt(20, () => writer.write("lost")));
    out.push(yield* withTimeoutOpt(20, () => reader.readSome()));
    out.push(yield* withTimeoutOpt(20, () => reader.readExactly(3)));
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* writer.write("kept");
        writer.close();
      });
      out.push((yield* reader.readAll()).text());
    });
    return out;
  });
  assert.deepEqual(out, [undefined, undefined, undefined, "kept"]);
});

test("bytes handed to a waiting reader in the round it is cancelled are kept: the read returns them", async () => {
  const out = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const out: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const readerTask = group.spawn(function* () {
        const got = yield* reader.readSome();
        out.push(`read returned ${new TextDecoder().decode(got)}`);
        try {
          yield* sleep(10_000);
        } catch (e) {
          out.push(`then ${e instanceof Cancelled ? "Cancelled" : String(e)} at the next suspension`);
          throw e;
        }
      });
      yield* sleep(10);
      yield* writer.write("handed"); // the reader waits: hand-off without suspending
      out.push("write returned");
      readerTask.cancel(); // same round
    });
    out.push(`buffered after: ${reader.buffered}`);
    return out;
  });
  assert.deepEqual(out, ["write returned", "read returned handed", "then Cancelled at the next suspension", "buffered after: 0"]);
});

test("a waiting write whose bytes are taken in the round it is cancelled succeeds", async () => {
  const out = await runVirtual(function* () {
    const [reader, writer] = pipe();
    const out: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const writerTask = group.spawn(function* () {
        yield* writer.write("taken");
        out.push("write returned");
        try {
          yield* sleep(10_000);
        } catch (e) {
          out.push(`then ${e instanceof Cancelled ? "Cancelled" : String(e)} at the next suspension`);
          throw e;
        }
      });
      yield* sleep(10);
      const got = yield* reader.readSome(); // takes from the waiting writer without suspending
      out.push(`read ${new TextDecoder().decode(got)}`);
      writerTask.cancel(); // same round
    });
    return out;
  });
  assert.deepEqual(out, ["read taken", "write returned", "then Cancelled at the next suspension"]);
});

test("the reader gets a copy: a writer may reuse its array once write returns", async () => {
  const got = await runVirtual(function* () {
    const [reader, writer] = pipe();
    return yield* withTaskGroup<string>(function* (group) {
      group.startSoon(function* () {
        const buf = new Uint8Array(3);
        for (const text of ["abc", "def"]) {
          buf.set(utf8(text));
          yield* writer.write(buf);
        }
        buf.fill(0);
        writer.close();
      });
      yield* sleep(10);
      return (yield* reader.readAll()).text();
    });
  });
  assert.equal(got, "abcdef");
});

testOnEveryDriver("readAll of a large stream written in uneven pieces gives back every byte in order", async (run) => {
  const data = pattern(3 * 1024 * 1024 + 17);
  const got = await run(function* () {
    const [reader, writer] = pipe();
    return yield* withTaskGroup<Uint8Array>(function* (group) {
      group.startSoon(function* () {
        let at = 0;
        for (let i = 0; at < data.length; i++) {
          const n = Math.min(data.length - at, 1 + ((i * 7919) % 70_000));
          yield* writer.write(data.subarray(at, at + n));
          at += n;
        }
        writer.close();
      });
      return (yield* reader.readAll()).bytes();
    });
  });
  assert.equal(got.length, data.length);
  assert.deepEqual(got, data);
});

test("bad input and misuse: write of a non-string, writing a closed write end, using for both ends", async () => {
  const out = await runVirtual(function* () {
    const out: string[] = [];
    const [reader, writer] = pipe();
    try {
      yield* writer.write(42 as unknown as string);
    } catch (e) {
      out.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
    {
      using w = writer;
      using r = reader;
      void w;
      void r;
    }
    out.push(`closed: ${reader.closed} ${writer.closed}`);
    try {
      yield* writer.write("x");
    } catch (e) {
      out.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
    return out;
  });
  assert.deepEqual(out, [
    "TypeError: write(): data must be a string or a Uint8Array, got number",
    "closed: true true",
    "WeftUsageError: write(): the writer is closed",
  ]);
});

test("a read on a pipe nobody writes to is a deadlock the runtime reports, not a hang", async () => {
  const error = await rejection(
    runVirtual(function* () {
      const [reader, writer] = pipe();
      void writer;
      yield* reader.readSome();
    }),
  );
  assert.ok(error instanceof DeadlockError, String(error));
});

test("a pipe carries bytes unchanged: multi-byte characters split across writes", async () => {
  const text = "héllo wörld ✓ 𝄞 end";
  const bytes = utf8(text);
  const got = await runVirtual(function* () {
    const [reader, writer] = pipe();
    return yield* withTaskGroup<string>(function* (group) {
      group.startSoon(function* () {
        for (let i = 0; i < bytes.length; i++) yield* writer.write(bytes.subarray(i, i + 1));
        writer.close();
      });
      return (yield* reader.readAll()).text();
    });
  });
  assert.equal(got, text);
  assert.deepEqual(concat([bytes]), bytes);
});

/** An array whose `slice` returns a view, as a Node buffer's does: a copy made with it would share the caller's memory. */
class SliceIsAView extends Uint8Array {
  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    return this.subarray(start, end);
  }
}

testOnEveryDriver(
  "a write's bytes are copied, also from a buffer-like array whose slice() is a view (as Node buffers have): reusing the array after the write changes nothing",
  async (run) => {
    const received = await run(function* () {
      const [reader, writer] = pipe();
      return yield* withTaskGroup<string>(function* (group) {
        group.startSoon(function* () {
          using w = writer;
          const scratch = SliceIsAView.from(utf8("first "));
          yield* w.write(scratch); // the reader is not waiting yet: handed over when it reads
          scratch.set(utf8("XXXXXX"));
          const second = SliceIsAView.from(utf8("second"));
          yield* sleep(1); // now the reader waits: the write hands its bytes straight over
          yield* w.write(second);
          second.set(utf8("YYYYYY"));
        });
        return (yield* reader.readAll()).text();
      });
    });
    assert.equal(received, "first second");
  },
);
