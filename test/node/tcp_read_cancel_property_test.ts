/**
 * A property test of "a cancelled read loses nothing" on a real TCP
 * connection (docs/semantics.md, «IO»), through the hand-written read every
 * `TcpConnection` read goes through: the peer writes random chunks, pausing
 * at random; on this side a series of reader tasks each takes one
 * `readSome()`, and random ones of them are cancelled after a random number
 * of pauses, while they wait or in the round their bytes arrive. Whatever
 * the interleaving (it depends on the host, and the property holds for all
 * of them): the bytes taken by the reads that returned, in order, are
 * exactly the bytes written, none lost and none twice, and the connection
 * is no longer waiting on anything at the end.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pause, run, withTaskGroup, type Operation } from "../../src/index.ts";
import { defaultScheduler } from "../../src/drivers/event_loop.ts";
import { connectTcp, listenTcp } from "../../src/node.ts";
import { CANCELLED, concat, readCancelledAfter } from "../io/support.ts";

interface Plan {
  /** The peer's chunks (sizes) and how many times it pauses before each. */
  chunks: Array<{ size: number; pausesBefore: number }>;
  /** For the reader tasks in turn: cancel after this many pauses, or never (null). */
  readers: Array<number | null>;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  chunks: fc.array(fc.record({ size: fc.integer({ min: 1, max: 3000 }), pausesBefore: fc.nat({ max: 3 }) }), {
    minLength: 1,
    maxLength: 12,
  }),
  readers: fc.array(fc.option(fc.nat({ max: 3 }), { nil: null }), { minLength: 1, maxLength: 8 }),
});

/** Chunk `c` of a run: bytes that say where they are, so a loss or a repeat shows. */
function chunkBytes(c: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (c * 31 + i) & 0xff;
  return bytes;
}

function* scenario(plan: Plan): Operation<{ written: Uint8Array; read: Uint8Array; cancelled: number }> {
  using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
  const written = concat(plan.chunks.map(({ size }, c) => chunkBytes(c, size)));
  const taken: Uint8Array[] = [];
  let cancelled = 0;
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(function* () {
      using peer = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      for (const [c, { size, pausesBefore }] of plan.chunks.entries()) {
        for (let i = 0; i < pausesBefore; i++) yield* pause();
        yield* peer.write(chunkBytes(c, size));
      }
      peer.shutdownWrite();
      // Stays open until this side has read everything, so the test's end is this side's.
      yield* peer.readAll();
    });
    using conn = yield* server.accept();
    for (let r = 0; ; r++) {
      const chunk = yield* readCancelledAfter(group, () => conn.readSome(), plan.readers[r % plan.readers.length]!);
      if (chunk === CANCELLED) {
        cancelled++;
        continue;
      }
      if (chunk === undefined) break;
      taken.push(chunk.slice());
    }
    conn.close();
  });
  return { written, read: concat(taken), cancelled };
}

test("TCP reads cancelled at random lose no byte and take none twice", { timeout: 240_000 }, async () => {
  const externalBefore = defaultScheduler().external;
  let cancelledInAll = 0;
  await fc.assert(
    fc.asyncProperty(planArb, async (plan) => {
      const { written, read, cancelled } = await run(() => scenario(plan));
      cancelledInAll += cancelled;
      assert.equal(read.length, written.length, "bytes were lost or taken twice");
      assert.deepEqual(read, written);
      assert.equal(defaultScheduler().external, externalBefore, "a read was left waiting");
    }),
    { numRuns: 60, includeErrorInReport: true },
  );
  // The property is about cancelled reads: make sure the runs had some.
  assert.ok(cancelledInAll > 0, "no read was cancelled in any run");
});
