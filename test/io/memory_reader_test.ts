/**
 * `MemoryReader`: over a string, bytes or an iterable (lazily, copied, a
 * generator finished by `close`), and `MemoryReader.from(group, body)`: the
 * producer streams through a pipe, its failure reaches the reads and the
 * group, `close` cancels it, and it never outlives its group.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { WeftUsageError, protectFromCancel, sleep, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { MemoryReader, ReaderClosed, type Writer } from "../../src/io.ts";
import { pattern, utf8 } from "./support.ts";
import { Boom, rejection, testOnEveryDriver } from "../support.ts";

test("a string, bytes, or an iterable of both are read in order; lines split anywhere, \\r\\n, multi-byte characters split across items", async () => {
  const out = await runVirtual(function* () {
    const e = utf8("é"); // two bytes
    const items = ["one\r", "\ntw", Uint8Array.of(0x6f, 0x0a, e[0]!), Uint8Array.of(e[1]!), "\n", "last"];
    const r = new MemoryReader(items);
    const lines: Array<string | undefined> = [];
    for (let i = 0; i < 5; i++) lines.push(yield* r.readLine());
    return {
      lines,
      text: (yield* new MemoryReader("plain ✓").readAll()).text(),
      bytes: [...(yield* new MemoryReader(Uint8Array.of(1, 2, 3)).readAll()).bytes()],
    };
  });
  assert.deepEqual(out, { lines: ["one", "two", "é", "last", undefined], text: "plain ✓", bytes: [1, 2, 3] });
});

test("bytes are copied: changing the caller's array after the reader was made changes nothing", async () => {
  const got = await runVirtual(function* () {
    const data = Uint8Array.of(1, 2, 3);
    const item = Uint8Array.of(4, 5);
    const r1 = new MemoryReader(data);
    const r2 = new MemoryReader([item]);
    data.fill(0);
    const first = yield* r2.readSome(1); // the item was copied when reached
    item.fill(0);
    return [[...(yield* r1.readAll()).bytes()], [...first!, ...(yield* r2.readAll()).bytes()]];
  });
  assert.deepEqual(got, [
    [1, 2, 3],
    [4, 5],
  ]);
});

test("an iterable is consumed lazily, and close() finishes a generator early", async () => {
  const log: string[] = [];
  await runVirtual(function* () {
    function* source(): Generator<string> {
      try {
        for (let i = 0; ; i++) {
          log.push(`yield ${i}`);
          yield `${i}\n`;
        }
      } finally {
        log.push("generator finished");
      }
    }
    const r = new MemoryReader(source());
    log.push(`line ${yield* r.readLine()}`);
    log.push(`line ${yield* r.readLine()}`);
    r.close();
    r.close(); // idempotent
    try {
      yield* r.readLine();
    } catch (e) {
      log.push(e instanceof WeftUsageError ? e.message : String(e));
    }
  });
  assert.deepEqual(log, ["yield 0", "line 0", "yield 1", "line 1", "generator finished", "readLine(): the reader is closed"]);
});

test("bad input: data of the wrong type at once, an iterable item of the wrong type when it is reached", async () => {
  const messages: string[] = [];
  for (const data of [null, 42, { length: 3 }]) {
    try {
      new MemoryReader(data as unknown as string);
    } catch (e) {
      messages.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  await runVirtual(function* () {
    const r = new MemoryReader(["ok", 7 as unknown as string]);
    messages.push(new TextDecoder().decode((yield* r.readSome())!));
    try {
      yield* r.readSome();
    } catch (e) {
      messages.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
  });
  assert.deepEqual(messages, [
    "TypeError: MemoryReader: data must be a string, a Uint8Array or an iterable of them, got null",
    "TypeError: MemoryReader: data must be a string, a Uint8Array or an iterable of them, got number 42",
    "TypeError: MemoryReader: data must be a string, a Uint8Array or an iterable of them, got an object",
    "ok",
    "TypeError: MemoryReader: data must yield strings or Uint8Arrays, got number 7",
  ]);
});

testOnEveryDriver(
  "from(group, body): what the producer writes over time is read as one stream, and it ends when the producer returns",
  async (run) => {
    const sum = await run(function* () {
      return yield* withTaskGroup<number>(function* (group) {
        const numbers = MemoryReader.from(group, function* (w) {
          for (let i = 1; i <= 10; i++) {
            yield* w.write(`${i}\n`);
            if (i % 3 === 0) yield* sleep(2);
          }
        });
        let sum = 0;
        for (let line; (line = yield* numbers.readLine()) !== undefined; ) sum += Number(line);
        return sum;
      });
    });
    assert.equal(sum, 55);
  },
);

test("from(): a producer failure is thrown by reads after the bytes written before it, and fails the group", async () => {
  const seen: string[] = [];
  const error = await rejection(
    runVirtual(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const r = MemoryReader.from(group, function* (w) {
          yield* w.write("partial");
          throw new Boom("producer broke");
        });
        // The failing producer cancels the group; shielded, the reader still sees what happened.
        yield* protectFromCancel(function* () {
          seen.push(new TextDecoder().decode((yield* r.readSome())!));
          try {
            yield* r.readSome();
          } catch (e) {
            seen.push(`read threw ${(e as Error).message}`);
          }
        });
        try {
          yield* r.readSome();
        } catch (e) {
          seen.push(`unshielded: ${(e as Error).name}`);
        }
      });
    }),
  );
  assert.ok(error instanceof Boom);
  assert.deepEqual(seen, ["partial", "read threw producer broke", "unshielded: Cancelled"]);
});

test("from(): close() cancels a producer that is still running; its finally runs and the group ends", async () => {
  const log = await runVirtual(function* () {
    const log: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const r = MemoryReader.from(group, function* (w) {
        try {
          for (let i = 0; ; i++) {
            yield* w.write(`${i}\n`);
            yield* sleep(1);
          }
        } finally {
          log.push("producer stopped");
        }
      });
      log.push(`got ${yield* r.readLine()}`);
      r.close();
      log.push(`closed: ${r.closed}`);
    });
    log.push("group ended");
    return log;
  });
  assert.deepEqual(log, ["got 0", "closed: true", "producer stopped", "group ended"]);
});

test("from(): a producer cancelled because its group is ending gives a reader still at it ReaderClosed, never a clean end", async () => {
  const out = await runVirtual(function* () {
    const out: string[] = [];
    let outside!: MemoryReader;
    yield* withTaskGroup<void>(function* (group) {
      outside = MemoryReader.from(group, function* (w: Writer) {
        yield* w.write("a");
        yield* sleep(10_000);
        yield* w.write("b");
      });
      out.push(new TextDecoder().decode((yield* outside.readSome())!));
    }); // nothing else waits: the producer is cancelled in its sleep
    try {
      yield* outside.readSome();
      out.push("clean end");
    } catch (e) {
      out.push(e instanceof ReaderClosed ? `ReaderClosed: ${e.message}` : String(e));
    }
    return out;
  });
  assert.deepEqual(out, ["a", "ReaderClosed: MemoryReader: the producer was cancelled before it finished its data"]);
});

test("from(): a read cancelled by a timeout loses nothing; the producer simply waits", async () => {
  const out = await runVirtual(function* () {
    return yield* withTaskGroup<unknown[]>(function* (group) {
      const r = MemoryReader.from(group, function* (w) {
        yield* w.write("he");
        yield* sleep(100);
        yield* w.write("llo\n");
      });
      const first = yield* withTimeoutOpt(50, () => r.readExactly(5));
      return [first, r.buffered, yield* r.readLine()];
    });
  });
  assert.deepEqual(out, [undefined, 2, "hello"]);
});

test("from(): bad input names the argument", async () => {
  const messages: string[] = [];
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (const [g, body] of [
        [null, function* () {}],
        [group, "body"],
      ] as const) {
        try {
          MemoryReader.from(g as never, body as never);
        } catch (e) {
          messages.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
    });
  });
  assert.deepEqual(messages, [
    "TypeError: MemoryReader.from(): group must be a TaskGroup, got null",
    'TypeError: MemoryReader.from(): body must be a function* (writer) producing the data, got the string "body"',
  ]);
});

test("from(): readAll of a large stream gives back every byte", async () => {
  const data = pattern(1_000_000, 5);
  const got = await runVirtual(function* () {
    return yield* withTaskGroup<Uint8Array>(function* (group) {
      const r = MemoryReader.from(group, function* (w) {
        for (let at = 0; at < data.length; at += 999) yield* w.write(data.subarray(at, at + 999));
      });
      return (yield* r.readAll()).bytes();
    });
  });
  assert.deepEqual(got, data);
});

test("bytes are copied also from a buffer-like array whose slice() is a view (as Node buffers have)", async () => {
  class SliceIsAView extends Uint8Array {
    override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
      return this.subarray(start, end);
    }
  }
  const bytes = SliceIsAView.from(new TextEncoder().encode("kept"));
  const reader = new MemoryReader([bytes]);
  const text = await runVirtual(function* () {
    const first = yield* reader.readSome(1);
    bytes.set(new TextEncoder().encode("XXXX"));
    return new TextDecoder().decode(first) + (yield* reader.readAll()).text();
  });
  assert.equal(text, "kept");
});
