/**
 * `WriterBase` / `WriteGate` (weft/io `Writer`): `write` of strings and bytes,
 * `writeReader`, bad input, the one-writer rule, closed writers, and the
 * cancellation entry check.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { DuplexBase, MemoryReader, type Reader } from "../../src/io.ts";
import { CollectingWriter, utf8 } from "./support.ts";

test("a write started in an already-cancelled task throws Cancelled and writes nothing, even an empty one", async () => {
  const { outcomes, written } = await runVirtual(function* () {
    const w = new CollectingWriter();
    const outcomes: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      for (const data of ["abc", new Uint8Array(0)]) {
        const task = group.spawn(function* () {
          try {
            yield* w.write(data);
            outcomes.push("ran");
          } catch (e) {
            outcomes.push(e instanceof Cancelled ? "Cancelled" : String(e));
          }
        });
        task.cancel();
      }
    });
    return { outcomes, written: w.chunks.length };
  });
  assert.deepEqual(outcomes, ["Cancelled", "Cancelled"]);
  assert.equal(written, 0);
});

test("write takes strings as UTF-8 and bytes as they are; an empty write reaches nothing", async () => {
  const chunks = await runVirtual(function* () {
    const w = new CollectingWriter();
    yield* w.write("héllo ✓");
    yield* w.write(Uint8Array.of(0, 255));
    yield* w.write("");
    yield* w.write(new Uint8Array(0));
    return w.chunks.map((c) => [...c]);
  });
  assert.deepEqual(chunks, [[...utf8("héllo ✓")], [0, 255]]);
});

test("writeReader copies a reader to its end, chunk by chunk, and returns the byte count", async () => {
  const out = await runVirtual(function* () {
    const w = new CollectingWriter(5);
    const n = yield* w.writeReader(new MemoryReader(["ab", "", "cde", utf8("fg")]));
    return [n, w.chunks.length, w.text()];
  });
  assert.deepEqual(out, [7, 3, "abcdefg"]);
});

test("bad input, a closed writer and a second concurrent writer get errors that say so", async () => {
  const out = await runVirtual(function* () {
    const w = new CollectingWriter(50);
    const out: string[] = [];
    const attempt = function* (op: () => Operation<unknown>): Operation<void> {
      try {
        yield* op();
        out.push("no error");
      } catch (e) {
        out.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    };
    yield* attempt(() => w.write(null as unknown as string));
    yield* attempt(() => w.write([1, 2] as unknown as Uint8Array));
    yield* attempt(() => w.writeReader({} as Reader));
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => w.write("slow"));
      group.startSoon(function* () {
        yield* sleep(10);
        yield* attempt(() => w.write("second"));
        yield* attempt(() => w.writeReader(new MemoryReader("x")));
      });
    });
    {
      using disposed = w;
      void disposed;
    }
    yield* attempt(() => w.write("after close"));
    out.push(w.text());
    return out;
  });
  assert.deepEqual(out, [
    "TypeError: write(): data must be a string or a Uint8Array, got null",
    "TypeError: write(): data must be a string or a Uint8Array, got object",
    "TypeError: writeReader(): reader must be a Reader",
    "WeftUsageError: write(): another task is already writing to this writer; write from one task and fan in with a Queue",
    "WeftUsageError: writeReader(): another task is already writing to this writer; write from one task and fan in with a Queue",
    "WeftUsageError: write(): the writer is closed",
    "slow",
  ]);
});

/** A duplex whose writes come back as its reads (a loopback). */
class Loopback extends DuplexBase {
  readonly #pending: Uint8Array[] = [];
  #closed = false;
  #writeShut = false;
  protected *readChunk(): Operation<Uint8Array | undefined> {
    return this.#pending.shift();
  }
  protected *writeChunk(bytes: Uint8Array): Operation<void> {
    this.#pending.push(bytes.slice());
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  protected override get isWriteClosed(): boolean {
    return this.#closed || this.#writeShut;
  }
  shutdownWrite(): void {
    this.#writeShut = true;
  }
  close(): void {
    this.#closed = true;
  }
}

test("DuplexBase: one object reads and writes; a shut write side refuses writes while reads go on", async () => {
  const out = await runVirtual(function* () {
    const d = new Loopback();
    const out: string[] = [];
    yield* d.write("ping\n");
    out.push((yield* d.readLine())!);
    yield* d.write("tail");
    d.shutdownWrite();
    try {
      yield* d.write("x");
    } catch (e) {
      out.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
    out.push((yield* d.readAll()).text());
    return out;
  });
  assert.deepEqual(out, ["ping", "WeftUsageError: write(): the writer is closed", "tail"]);
});
