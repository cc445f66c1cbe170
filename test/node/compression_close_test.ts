/**
 * Nothing leaks: the zlib handle behind a compression writer or reader is
 * closed by `close()` (whether the stream was finished or not, also when a
 * cancelled operation left work behind), and by the end of the stream. Node
 * only: it watches the streams node:zlib creates, through the same module
 * object `process.getBuiltinModule` gives weft.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import type * as Zlib from "node:zlib";
import { run, sleep, withTimeoutOpt } from "../../src/index.ts";
import { brotliWriter, gunzipReader, gzipWriter, inflateReader } from "../../src/io.ts";
import { CollectingWriter, ScriptedReader, pattern } from "../io/support.ts";

const zlib = process.getBuiltinModule("node:zlib") as typeof Zlib & Record<string, unknown>;

/** Runs `body` while recording every zlib stream created; returns them. */
async function recording(body: () => Promise<void>): Promise<Array<{ destroyed: boolean; _handle?: unknown }>> {
  const created: Array<{ destroyed: boolean; _handle?: unknown }> = [];
  const names = ["createGzip", "createGunzip", "createDeflate", "createInflate", "createBrotliCompress", "createBrotliDecompress"];
  const saved = names.map((name) => Object.getOwnPropertyDescriptor(zlib, name)!);
  for (const [i, name] of names.entries()) {
    const original = saved[i]!.value as (...args: unknown[]) => { destroyed: boolean };
    // Node defines these read-only but configurable: redefine, then put the originals back.
    Object.defineProperty(zlib, name, {
      ...saved[i],
      value: (...args: unknown[]) => {
        const stream = original(...args);
        created.push(stream);
        return stream;
      },
    });
  }
  try {
    await body();
  } finally {
    for (const [i, name] of names.entries()) Object.defineProperty(zlib, name, saved[i]!);
  }
  return created;
}

test("close() closes the zlib handle of writers and readers, finished or not, after a cancelled write", { timeout: 30_000 }, async () => {
  const streams = await recording(() =>
    run(function* () {
      const sink = new CollectingWriter(20); // slow: the big write below is cancelled while it waits
      const cancelled = gzipWriter(sink);
      assert.equal(yield* withTimeoutOpt(5, () => cancelled.write(pattern(2_000_000))), undefined);
      cancelled.close();

      const unfinished = brotliWriter(new CollectingWriter(), { quality: 1 });
      yield* unfinished.write("never ended");
      unfinished.close();

      const finished = new CollectingWriter();
      const ended = gzipWriter(finished);
      yield* ended.write(pattern(10_000));
      yield* ended.end();

      const halfRead = gunzipReader(new ScriptedReader([finished.bytes()]));
      yield* halfRead.readSome(10);
      halfRead.close();

      const readToEnd = gunzipReader(new ScriptedReader([finished.bytes()]));
      yield* readToEnd.readAll(); // not closed: the end of the stream frees the decoder

      const neverRead = inflateReader(new ScriptedReader([]));
      neverRead.close();
      yield* sleep(10);
    }),
  );
  assert.equal(streams.length, 6);
  streams.forEach((stream, i) => {
    assert.equal(stream.destroyed, true, `stream ${i} is destroyed`);
    assert.equal(stream._handle ?? null, null, `stream ${i}'s zlib handle is closed`);
  });
});
