/**
 * A decompression bomb (1 MiB of gzip that decodes to just over 1 GiB) stops
 * at `maxOutput` with `OutputLimitExceeded`, and memory stays bounded on the
 * way: the decoder works only as fast as the bytes are read. Node only: it
 * reads the process's memory figures. Both engines run (node:zlib and Node's
 * Web `DecompressionStream`).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { run } from "../../src/index.ts";
import { MemoryReader, OutputLimitExceeded, gunzipReader } from "../../src/io.ts";

const MiB = 1024 * 1024;

/** 1025 gzip members of 1 MiB of zeros each: about 1 MiB of input, 1 GiB + 1 MiB once decoded. */
function bomb(): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(MiB), { level: 9 });
  return Buffer.concat(Array.from({ length: 1025 }, () => member));
}

for (const implementation of ["node", "web"] as const) {
  test(`a 1 MiB gzip bomb stops at the default 1 GiB maxOutput with bounded memory [${implementation}]`, {
    timeout: 300_000,
  }, async (t) => {
    const input = bomb();
    assert.ok(input.length < 2 * MiB, `the bomb is ${input.length} bytes`);
    const before = process.memoryUsage();
    let peak = 0;
    const outcome = await run(function* () {
      const options = { implementation } as { maxOutput?: number };
      const reader = gunzipReader(new MemoryReader(input), options);
      let decoded = 0;
      try {
        for (let part; (part = yield* reader.readSome()) !== undefined; ) {
          decoded += part.length;
          if ((decoded & (64 * MiB - 1)) < part.length) {
            const now = process.memoryUsage();
            peak = Math.max(peak, now.rss - before.rss, now.arrayBuffers + now.heapUsed - before.arrayBuffers - before.heapUsed);
          }
        }
      } catch (error) {
        return { decoded, error };
      } finally {
        reader.close();
      }
      return { decoded, error: undefined };
    });
    assert.ok(outcome.error instanceof OutputLimitExceeded, `expected OutputLimitExceeded, got ${String(outcome.error)}`);
    assert.equal(outcome.error.limit, 2 ** 30);
    assert.ok(outcome.decoded <= 2 ** 30 && outcome.decoded > 2 ** 30 - 4 * MiB, `decoded ${outcome.decoded} bytes`);
    t.diagnostic(`peak memory growth ${Math.round(peak / MiB)} MiB`);
    // Far below the gigabyte that was decoded: what is left is buffers in flight and garbage not yet collected.
    assert.ok(peak < 256 * MiB, `memory grew by ${Math.round(peak / MiB)} MiB while 1 GiB was decoded`);
  });
}
