/**
 * What a cancelled write did with its bytes, through the layers that pass
 * writes on (`BufferedWriter`, the compression writers): over a writer that
 * keeps such bytes queued (a socket) everything written arrives once; over
 * one that drops them (a `pipe()`) exactly the writes that returned arrive
 * (docs/semantics.md, «IO»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { withTaskGroup, withTimeoutOpt, sleep } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { BufferedWriter, pipe, type Writer } from "../../src/io.ts";
import { CollectingWriter, QueueingWriter, concat, pattern } from "./support.ts";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const propertyRuns = override !== undefined && override !== "" ? Number(override) : 60;

test("each writer says what a cancelled write did with its bytes: a pipe drops them, a BufferedWriter follows the writer it wraps", () => {
  const [, toPipe] = pipe();
  const queueing = new QueueingWriter(1);
  const plain: Writer = new CollectingWriter();
  assert.deepEqual(
    [toPipe.cancelledWrite, new BufferedWriter(toPipe).cancelledWrite, new BufferedWriter(queueing).cancelledWrite, plain.cancelledWrite],
    ["dropped", "dropped", "queued", undefined],
  );
});

test("over a writer that keeps cancelled writes queued, a cancelled BufferedWriter write accepted all of it: every byte arrives once, in order", async () => {
  const out = await runVirtual(function* () {
    const sink = new QueueingWriter(100);
    const out = new BufferedWriter(sink, 8);
    const log: unknown[] = [];
    yield* out.write("abcdef"); // buffered
    // Top-up path: "abcdefgh" is passed on and queued; "ij" stays buffered.
    log.push(yield* withTimeoutOpt(50, () => out.write("ghij")), out.buffered, sink.text());
    // Straight-through path, cancelled while the buffer is passed on: "ij" is queued, the large write is kept here.
    log.push(yield* withTimeoutOpt(50, () => out.write("0123456789")), out.buffered, sink.text());
    // A flush cancelled while it passes the kept bytes on: they were queued, nothing is left.
    log.push(yield* withTimeoutOpt(50, () => out.flush()), out.buffered);
    yield* out.write("XYZ");
    yield* out.flush();
    log.push(sink.text());
    return log;
  });
  assert.deepEqual(out, [undefined, 2, "abcdefgh", undefined, 10, "abcdefghij", undefined, 0, "abcdefghij0123456789XYZ"]);
});

test("property: through a BufferedWriter with random cancellations, a queueing writer gets every byte once and a pipe exactly the writes that returned", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("queued", "dropped"),
      fc.integer({ min: 1, max: 32 }),
      fc.array(fc.record({ size: fc.integer({ min: 1, max: 80 }), timeout: fc.option(fc.integer({ min: 0, max: 30 })) }), {
        minLength: 1,
        maxLength: 25,
      }),
      async (kind, bufferSize, writes) => {
        const { expected, received } = await runVirtual(function* () {
          const accepted: Uint8Array[] = [];
          let seed = 0;
          const next = (size: number): Uint8Array => pattern(size, ++seed);
          if (kind === "queued") {
            const sink = new QueueingWriter(10);
            const out = new BufferedWriter(sink, bufferSize);
            for (const { size, timeout } of writes) {
              const data = next(size);
              // Cancelled or not, the write's bytes count: the sink keeps what it was given.
              accepted.push(data);
              if (timeout === null) yield* out.write(data);
              else yield* withTimeoutOpt(timeout, () => out.write(data));
            }
            yield* out.flush();
            return { expected: concat(accepted), received: concat(sink.chunks) };
          }
          const [reader, writer] = pipe();
          return yield* withTaskGroup<{ expected: Uint8Array; received: Uint8Array }>(function* (group) {
            const reading = group.spawn(function* () {
              const parts: Uint8Array[] = [];
              for (let chunk; (chunk = yield* reader.readSome()) !== undefined; ) {
                parts.push(chunk.slice());
                yield* sleep(7);
              }
              return concat(parts);
            });
            const out = new BufferedWriter(writer, bufferSize);
            for (const { size, timeout } of writes) {
              const data = next(size);
              let returned = false;
              if (timeout === null) {
                yield* out.write(data);
                returned = true;
              } else {
                yield* withTimeoutOpt(timeout, function* () {
                  yield* out.write(data);
                  returned = true;
                });
              }
              // A cancelled write gave the pipe none of its bytes.
              if (returned) accepted.push(data);
            }
            yield* out.flush();
            writer.close();
            return { expected: concat(accepted), received: yield* reading.wait() };
          });
        });
        assert.deepEqual(received, expected);
      },
    ),
    { numRuns: propertyRuns },
  );
});
