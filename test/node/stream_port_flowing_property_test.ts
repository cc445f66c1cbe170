/**
 * A property test of a `ReadPort` in flowing mode (what TCP and TLS
 * connections read through) under backpressure: a writer pushes random
 * chunks into a stream with a small high-water mark, waiting for 'drain'
 * when the stream says so, each chunk from its task or from a host callback
 * (whose write then runs the woken reader inside it, see
 * `Scheduler.wake`); reader tasks take one read each, and random ones
 * are cancelled after a random number of pauses. Whatever the interleaving:
 * the bytes taken by the reads that returned are exactly the bytes written,
 * in order, none lost and none twice; the port's queue never holds more
 * than the high-water mark plus one chunk (the stream was paused in time);
 * and no read is left waiting at the end.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { call, pause, run, withTaskGroup, type Operation } from "../../src/index.ts";
import { defaultScheduler } from "../../src/drivers/event_loop.ts";
import { ReadPort } from "../../src/node/stream_port.ts";
import { CANCELLED, concat, readCancelledAfter } from "../io/support.ts";

const HIGH_WATER_MARK = 1024;

interface Plan {
  /** The writer's chunks (sizes), how many times it pauses before each, and whether a host callback writes it. */
  chunks: Array<{ size: number; pausesBefore: number; fromHost: boolean }>;
  /** For the reader tasks in turn: pauses before reading, and cancel after this many pauses or never (null). */
  readers: Array<{ pausesBefore: number; cancelAfter: number | null }>;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  chunks: fc.array(fc.record({ size: fc.integer({ min: 1, max: 3000 }), pausesBefore: fc.nat({ max: 3 }), fromHost: fc.boolean() }), {
    minLength: 1,
    maxLength: 16,
  }),
  readers: fc.array(fc.record({ pausesBefore: fc.nat({ max: 4 }), cancelAfter: fc.option(fc.nat({ max: 3 }), { nil: null }) }), {
    minLength: 1,
    maxLength: 8,
  }),
});

/** Chunk `c` of a run: bytes that say where they are, so a loss or a repeat shows. */
function chunkBytes(c: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (c * 31 + i) & 0xff;
  return bytes;
}

interface Outcome {
  written: Uint8Array;
  read: Uint8Array;
  cancelled: number;
  mostQueued: number;
  /** Reads that returned inside a host callback's write (the reader ran in the 'data' listener). */
  insideWrite: number;
}

function* scenario(plan: Plan): Operation<Outcome> {
  const stream = new PassThrough({ highWaterMark: HIGH_WATER_MARK });
  const port = new ReadPort(stream, { flowing: true });
  const written = concat(plan.chunks.map(({ size }, c) => chunkBytes(c, size)));
  const taken: Uint8Array[] = [];
  let cancelled = 0;
  let mostQueued = 0;
  let writing = false;
  let insideWrite = 0;
  const watch = (): void => {
    mostQueued = Math.max(mostQueued, port.queued);
  };
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(function* () {
      for (const [c, { size, pausesBefore, fromHost }] of plan.chunks.entries()) {
        for (let i = 0; i < pausesBefore; i++) {
          yield* pause();
          watch();
        }
        const bytes = chunkBytes(c, size);
        const room = fromHost
          ? yield* call(
              () =>
                new Promise<boolean>((resolve) =>
                  setImmediate(() => {
                    writing = true;
                    try {
                      resolve(stream.write(bytes));
                    } finally {
                      writing = false;
                    }
                  }),
                ),
            )
          : stream.write(bytes);
        if (!room) yield* call(() => once(stream, "drain"));
        watch();
      }
      stream.end();
    });
    for (let r = 0; ; r++) {
      const { pausesBefore, cancelAfter } = plan.readers[r % plan.readers.length]!;
      for (let i = 0; i < pausesBefore; i++) {
        yield* pause();
        watch();
      }
      const chunk = yield* readCancelledAfter(group, () => port.read(), cancelAfter);
      watch();
      if (chunk === CANCELLED) {
        cancelled++;
        continue;
      }
      if (chunk === undefined) break;
      if (writing) insideWrite++;
      taken.push(chunk.slice());
    }
  });
  return { written, read: concat(taken), cancelled, mostQueued, insideWrite };
}

test("a flowing port read by randomly cancelled readers under backpressure loses no byte, takes none twice, and stays bounded", {
  timeout: 120_000,
}, async () => {
  const externalBefore = defaultScheduler().external;
  let cancelledInAll = 0;
  let pausedInAll = 0;
  let insideWriteInAll = 0;
  await fc.assert(
    fc.asyncProperty(planArb, async (plan) => {
      const { written, read, cancelled, mostQueued, insideWrite } = await run(() => scenario(plan));
      cancelledInAll += cancelled;
      insideWriteInAll += insideWrite;
      if (mostQueued >= HIGH_WATER_MARK) pausedInAll++;
      assert.equal(read.length, written.length, "bytes were lost or taken twice");
      assert.deepEqual(read, written);
      assert.ok(mostQueued < HIGH_WATER_MARK + 3000, `the queue held ${mostQueued} bytes (high-water mark ${HIGH_WATER_MARK})`);
      assert.equal(defaultScheduler().external, externalBefore, "a read was left waiting");
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  // The property is about cancelled reads, a full queue and readers run inside a write: make sure the runs had all.
  assert.ok(cancelledInAll > 0, "no read was cancelled in any run");
  assert.ok(insideWriteInAll > 0, "no reader ran inside a host callback's write in any run");
  assert.ok(pausedInAll > 0, "the queue never reached the high-water mark in any run");
});
