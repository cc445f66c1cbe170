/**
 * A 100 MiB message under `maxMessageSize` streams through a WebSocket pair
 * with bounded memory (issue 14): the receiver reads it chunk by chunk, and
 * the heap plus array buffers grow by far less than the message.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { withTaskGroup } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { wsPair } from "../ws/support.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Live heap and array buffers after a full collection (twice: array buffers are freed by a sweeper that a second collection waits for). */
const used = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

test("a 100 MiB message streams through with bounded memory (growth under 16 MiB)", { timeout: 120_000 }, async () => {
  const total = 100 * 1024 * 1024;
  const piece = new Uint8Array(64 * 1024);
  for (let i = 0; i < piece.length; i++) piece[i] = i & 0xff;
  const before = used();
  let peak = 0;
  const received = await runVirtual(function* () {
    const { server, client } = wsPair({ maxMessageSize: 128 * 1024 * 1024 });
    return yield* withTaskGroup<number>(function* (group) {
      group.startSoon(function* () {
        using w = yield* client.startMessage("binary");
        for (let sent = 0; sent < total; sent += piece.length) yield* w.write(piece);
        yield* w.end();
      });
      const m = yield* server.recv();
      let n = 0;
      let nextSample = 0;
      for (let chunk; (chunk = yield* m.reader.readSome()) !== undefined; ) {
        // The payload is the piece pattern: byte i of the message is i mod 256.
        assert.equal(chunk[0], n & 0xff);
        n += chunk.length;
        if (n >= nextSample) {
          peak = Math.max(peak, used() - before);
          nextSample += 8 * 1024 * 1024;
        }
      }
      client[Symbol.dispose]();
      server[Symbol.dispose]();
      return n;
    });
  });
  assert.equal(received, total);
  assert.ok(peak < 16 * 1024 * 1024, `memory grew by ${(peak / 1024 / 1024).toFixed(1)} MiB`);
});
