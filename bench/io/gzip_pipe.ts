/**
 * gzip_pipe: `n` KiB of text-like data compressed and decompressed within
 * one process: the producer writes 64 KiB blocks into a gzip compressor,
 * whose output goes to a gunzip decompressor, and the consumer checks the
 * decoded stream (the IO pattern's five bytes per KiB, and the count).
 * weft: `gzipWriter` over one end of a `pipe()`, `gunzipReader` over the
 * other, in two tasks; the peers: node:zlib's own streams, piped.
 */
import { once } from "node:events";
import * as zlib from "node:zlib";
import { run, withTaskGroup, type Operation } from "../../src/index.ts";
import { gunzipReader, gzipWriter, pipe } from "../../src/io.ts";
import type { Consume } from "./buffered_pipe.ts";
import { CHUNK, PatternCheck, fillChunk } from "./pattern.ts";

/** The producer's writes, and the consumer's read buffer. */
const BLOCK = 64 * 1024;
const CHUNKS_PER_BLOCK = BLOCK / CHUNK;

/** 1 MiB of filler text (words from a small vocabulary, in a fixed pseudo-random order): it compresses about 3:1. */
const corpus: Uint8Array = (() => {
  const words =
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people".split(
      " ",
    );
  const text: string[] = [];
  let length = 0;
  let seed = 12345;
  while (length < 1024 * 1024) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const word = words[(seed >>> 8) % words.length]!;
    text.push(word);
    length += word.length + 1;
  }
  return new TextEncoder().encode(text.join(" ")).subarray(0, 1024 * 1024);
})();

/** Block `b` of the stream, `chunks` KiB long: corpus text with the pattern's checked bytes set. */
function fillBlock(block: Uint8Array, b: number, chunks: number): Uint8Array {
  const at = (b * BLOCK) % corpus.length;
  block.set(corpus.subarray(at, at + BLOCK));
  const view = block.subarray(0, chunks * CHUNK);
  for (let j = 0; j < chunks; j++) fillChunk(view.subarray(j * CHUNK, (j + 1) * CHUNK), b * CHUNKS_PER_BLOCK + j);
  return view;
}

function blocks(n: number): number {
  return Math.ceil(n / CHUNKS_PER_BLOCK);
}

function chunksIn(n: number, b: number): number {
  return Math.min(CHUNKS_PER_BLOCK, n - b * CHUNKS_PER_BLOCK);
}

/** weft: `gzipWriter` into a `pipe()`, `gunzipReader` out of it, in two tasks. */
export function weftGzipPipe(n: number): Promise<number> {
  return run(function* (): Operation<number> {
    const [r, w] = pipe();
    return yield* withTaskGroup<number>(function* (group) {
      group.startSoon(function* () {
        using gz = gzipWriter(w, { closeUnderlying: true });
        const block = new Uint8Array(BLOCK);
        for (let b = 0; b < blocks(n); b++) yield* gz.write(fillBlock(block, b, chunksIn(n, b)));
        yield* gz.end();
      });
      using plain = gunzipReader(r);
      const received = new PatternCheck();
      const buf = new Uint8Array(BLOCK);
      for (let got; (got = yield* plain.read(buf)) > 0; ) received.add(buf, 0, got);
      return received.chunks();
    });
  });
}

/** node:zlib streams: `createGzip().pipe(createGunzip())`, written with 'drain' back-pressure, read by `consume`. */
export async function streamsGzipPipe(n: number, consume: Consume): Promise<number> {
  const gz = zlib.createGzip({ chunkSize: BLOCK });
  const gunzip = zlib.createGunzip({ chunkSize: BLOCK });
  gz.pipe(gunzip);
  const produce = async (): Promise<void> => {
    for (let b = 0; b < blocks(n); b++) {
      // A fresh buffer per block: a stream keeps what it is given.
      if (!gz.write(fillBlock(Buffer.allocUnsafe(BLOCK), b, chunksIn(n, b)))) await once(gz, "drain");
    }
    gz.end();
  };
  const received = new PatternCheck();
  await Promise.all([produce(), consume(gunzip, received)]);
  return received.chunks();
}
