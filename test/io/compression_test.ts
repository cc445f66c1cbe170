/**
 * Compression streams (`gzipWriter`, `gunzipReader` and kin) on both engines
 * the host has: node:zlib and the Web `CompressionStream`. Round trips at
 * random chunk boundaries against the host's own codec, flush, truncated and
 * corrupt streams, the output limit, cancellation both ways, bad arguments.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Cancelled,
  Unsupported,
  WeftUsageError,
  call,
  run,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
} from "../../src/index.ts";
import {
  BufferedWriter,
  OutputLimitExceeded,
  brotliReader,
  brotliWriter,
  deflateWriter,
  gunzipReader,
  gzipWriter,
  inflateReader,
  pipe,
  type Reader,
  type Writer,
} from "../../src/io.ts";
import { nodeZlib } from "../../src/io/compression/node_codec.ts";
import { webStreams } from "../../src/io/compression/web_codec.ts";
import { CollectingWriter, QueueingWriter, ScriptedReader, concat, pattern, utf8 } from "./support.ts";
import { testOnEveryDriver } from "../support.ts";

type Impl = "node" | "web";

/** A promise settled by the host's own timer after `ms`, whatever clock the scheduler runs on. */
function hostDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
type Format = "gzip" | "deflate" | "brotli";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const propertyRuns = override !== undefined && override !== "" ? Number(override) : 40;

const zlib = nodeZlib();
/** The engines this host has; each test runs once per engine. */
const impls: Impl[] = [...(zlib !== undefined ? ["node" as const] : []), ...(webStreams(true) !== undefined ? ["web" as const] : [])];

/** Options with the test-only engine choice (not in the public option types). */
function on<T extends object>(impl: Impl, options?: T): T {
  return { ...options, implementation: impl } as T;
}

function writerFor(format: Format, impl: Impl, sink: Writer, options?: { level?: number; closeUnderlying?: boolean }) {
  if (format === "gzip") return gzipWriter(sink, on(impl, options));
  if (format === "deflate") return deflateWriter(sink, on(impl, options));
  // Quality 5, not brotli's default 11: the same code paths, a fraction of the CPU on a loaded machine.
  return brotliWriter(sink, on(impl, { quality: 5, ...options }));
}

function readerFor(format: Format, impl: Impl, source: Reader, options?: { maxOutput?: number; closeUnderlying?: boolean }) {
  if (format === "gzip") return gunzipReader(source, on(impl, options));
  if (format === "deflate") return inflateReader(source, on(impl, options));
  return brotliReader(source, on(impl, options));
}

/** The formats an engine has: brotli only on node:zlib. */
function formatsOf(impl: Impl): Format[] {
  return impl === "node" ? ["gzip", "deflate", "brotli"] : ["gzip", "deflate"];
}

/** The host's own codec, to check against: node:zlib's one-shot functions, else the Web streams. */
async function referenceDecode(format: Format, bytes: Uint8Array): Promise<Uint8Array> {
  if (zlib !== undefined) {
    if (format === "gzip") return zlib.gunzipSync(bytes);
    if (format === "deflate") return zlib.inflateSync(bytes);
    return zlib.brotliDecompressSync(bytes);
  }
  return new Uint8Array(
    await new Response(new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream(format as CompressionFormat))).arrayBuffer(),
  );
}

async function referenceEncode(format: Format, bytes: Uint8Array): Promise<Uint8Array> {
  if (zlib !== undefined) {
    if (format === "gzip") return zlib.gzipSync(bytes);
    if (format === "deflate") return zlib.deflateSync(bytes);
    return zlib.brotliCompressSync(bytes);
  }
  return new Uint8Array(
    await new Response(new Blob([bytes.slice()]).stream().pipeThrough(new CompressionStream(format as CompressionFormat))).arrayBuffer(),
  );
}

/** Cuts `data` at the given offsets (sorted, deduplicated). */
function cut(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, data.length)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) pieces.push(data.subarray(from, p));
    from = p;
  }
  if (from < data.length) pieces.push(data.subarray(from));
  return pieces;
}

/** Compresses `pieces` with our writer into memory. */
function* compress(format: Format, impl: Impl, pieces: readonly Uint8Array[]): Operation<Uint8Array> {
  const sink = new CollectingWriter();
  using w = writerFor(format, impl, sink);
  for (const p of pieces) yield* w.write(p);
  yield* w.end();
  return sink.bytes();
}

/** Text that compresses a little and not too well. */
function sample(n: number, seed = 1): Uint8Array {
  const out = pattern(n, seed);
  for (let i = 0; i < n; i += 7) out[i] = 97 + ((i / 7) % 26);
  return out;
}

/** Deno 2's node:zlib brotli decoder ends a truncated or corrupt stream silently: nothing weft can check (brotli has no checksum). */
const brotliUnchecked = "Deno" in globalThis ? "Deno's node:zlib brotli decoder does not report truncated or corrupt streams" : false;

for (const impl of impls) {
  for (const format of formatsOf(impl)) {
    const tag = `${format}, ${impl}`;
    const decoderChecks = { skip: format === "brotli" ? brotliUnchecked : false };

    testOnEveryDriver(`${tag}: what a writer compresses through a pipe, a reader in another task decodes`, async (runOn) => {
      const data = sample(300_000);
      const got = await runOn(function* () {
        const [r, w] = pipe();
        return yield* withTaskGroup<Uint8Array>(function* (group) {
          group.startSoon(function* () {
            using out = writerFor(format, impl, w, { closeUnderlying: true });
            for (let at = 0; at < data.length; at += 10_000) yield* out.write(data.subarray(at, at + 10_000));
            yield* out.end();
          });
          return (yield* readerFor(format, impl, r).readAll()).bytes();
        });
      });
      assert.deepEqual(new Uint8Array(got), data);
    });

    test(`${tag}: writes at random boundaries decode with the host's codec to the same bytes`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 40_000 }),
          fc.array(fc.nat({ max: 40_000 }), { maxLength: 10 }),
          fc.nat(1000),
          async (n, cuts, seed) => {
            const data = sample(n, seed);
            const compressed = await run(() => compress(format, impl, cut(data, cuts)));
            assert.deepEqual(new Uint8Array(await referenceDecode(format, compressed)), data);
          },
        ),
        { numRuns: propertyRuns },
      );
    });

    test(`${tag}: the host codec's output read at random boundaries decodes to the same bytes`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 40_000 }),
          fc.array(fc.nat({ max: 20_000 }), { maxLength: 12 }),
          fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }),
          fc.nat(1000),
          async (n, cuts, reads, seed) => {
            const data = sample(n, seed);
            const compressed = await referenceEncode(format, data);
            const got = await run(function* () {
              const r = readerFor(format, impl, new ScriptedReader(cut(compressed, cuts)));
              const parts: Uint8Array[] = [];
              for (let i = 0; ; i++) {
                const part = yield* r.readSome(reads[i % reads.length]);
                if (part === undefined) return concat(parts);
                parts.push(part.slice());
              }
            });
            assert.deepEqual(new Uint8Array(got), data);
          },
        ),
        { numRuns: propertyRuns },
      );
    });

    test(`${tag}: a truncated stream is an error, after the bytes decoded before the cut`, {
      timeout: 30_000,
      ...decoderChecks,
    }, async () => {
      const data = sample(100_000);
      const compressed = await referenceEncode(format, data);
      for (const keep of [0, 1, 5, Math.floor(compressed.length / 2), compressed.length - 1]) {
        const { decoded, error } = await run(function* () {
          const r = readerFor(format, impl, new ScriptedReader([compressed.slice(0, keep)]));
          let decoded = 0;
          try {
            for (let part; (part = yield* r.readSome()) !== undefined; ) decoded += part.length;
          } catch (error) {
            return { decoded, error };
          }
          return { decoded, error: undefined };
        });
        assert.ok(error instanceof Error, `keeping ${keep} of ${compressed.length} bytes read ${decoded} bytes and no error`);
        assert.ok(decoded <= data.length);
      }
    });

    test(`${tag}: a corrupt stream is an error`, { timeout: 30_000, ...decoderChecks }, async () => {
      const data = sample(50_000);
      const compressed = await referenceEncode(format, data);
      const bad = compressed.slice();
      // gzip and zlib: the checksum at the end; brotli: bytes in the middle.
      const at = format === "brotli" ? Math.floor(bad.length / 2) : bad.length - (format === "gzip" ? 6 : 2);
      bad[at] = bad[at]! ^ 0x55;
      const error = await run(function* () {
        try {
          yield* readerFor(format, impl, new ScriptedReader([bad])).readAll();
        } catch (error) {
          return error;
        }
        return undefined;
      });
      assert.ok(error instanceof Error, "a corrupt stream read without an error");
      const garbage = await run(function* () {
        try {
          yield* readerFor(format, impl, new ScriptedReader([utf8("this is not compressed at all, not at all")])).readAll();
        } catch (error) {
          return error;
        }
        return undefined;
      });
      assert.ok(garbage instanceof Error, "plain text read as compressed without an error");
    });

    test(`${tag}: maxOutput stops the decoding with OutputLimitExceeded naming the limit, for good`, { timeout: 30_000 }, async () => {
      const compressed = await referenceEncode(format, new Uint8Array(1_000_000));
      const { error, again, decoded } = await run(function* () {
        const r = readerFor(format, impl, new ScriptedReader([compressed]), { maxOutput: 100_000 });
        let error: unknown;
        try {
          yield* r.readAll();
        } catch (e) {
          error = e;
        }
        let again: unknown;
        try {
          yield* r.readAll(); // the bytes decoded before the limit, then the error again
        } catch (e) {
          again = e;
        }
        return { error, again, decoded: r.decoded };
      });
      assert.ok(error instanceof OutputLimitExceeded);
      assert.ok(error instanceof RangeError);
      assert.equal(error.limit, 100_000);
      assert.match(error.message, /maxOutput \(100000 bytes\)/);
      assert.equal(again, error);
      assert.ok(decoded <= 100_000);
      // Exactly at the limit is fine.
      const exact = await run(function* () {
        return (yield* readerFor(format, impl, new ScriptedReader([compressed]), { maxOutput: 1_000_000 }).readAll()).bytes().length;
      });
      assert.equal(exact, 1_000_000);
    });

    testOnEveryDriver(`${tag}: a cancelled read takes nothing; the next read gets every decoded byte`, async (runOn) => {
      const data = sample(200_000);
      const compressed = await referenceEncode(format, data);
      const half = Math.floor(compressed.length / 2);
      const got = await runOn(function* () {
        const [source, feed] = pipe();
        const [goReader, goWriter] = pipe();
        return yield* withTaskGroup<{ bytes: Uint8Array; buffered: number }>(function* (group) {
          group.startSoon(function* () {
            using f = feed;
            yield* f.write(compressed.slice(0, half));
            yield* goReader.readLine(); // the second half only once the first read was cancelled
            yield* f.write(compressed.slice(half));
          });
          const r = readerFor(format, impl, source);
          const reading = group.spawn(() => r.readExactly(data.length));
          // Decoding takes host time: wait (bounded) until the read holds some decoded bytes, then cancel it.
          // The wait is on the host's clock: under virtual time a sleep takes no host time at all, and a
          // loaded host could still be decoding after any number of them.
          for (let i = 0; i < 60_000 && r.buffered === 0; i++) yield* call(() => hostDelay(1));
          reading.cancel();
          try {
            yield* reading.wait();
            assert.fail("the read returned before its input was complete");
          } catch (error) {
            if (!(error instanceof Cancelled)) throw error;
          }
          const buffered = r.buffered;
          yield* goWriter.write("go\n");
          const parts: Uint8Array[] = [];
          for (let part; (part = yield* r.readSome(7777)) !== undefined; ) parts.push(part.slice());
          return { bytes: concat(parts), buffered };
        });
      });
      assert.ok(got.buffered > 0, "the cancelled readExactly had decoded bytes buffered");
      assert.deepEqual(got.bytes, data);
    });

    testOnEveryDriver(`${tag}: a cancelled write keeps its bytes: they are compressed and delivered once`, async (runOn) => {
      const got = await runOn(function* () {
        const [r, w] = pipe();
        return yield* withTaskGroup<Uint8Array>(function* (group) {
          const reading = group.spawn(function* () {
            yield* sleep(100); // nobody reads for a while: the compressed bytes wait in the pipe
            return (yield* readerFor(format, impl, r).readAll()).bytes();
          });
          const out = writerFor(format, impl, w, { closeUnderlying: true });
          const big = sample(500_000, 3);
          yield* out.write(big.subarray(0, 250_000)); // returns once the compressor has it
          // This one waits for the first part's output to go into the pipe, which nobody reads yet.
          const written = yield* withTimeoutOpt(10, function* () {
            yield* out.write(big.subarray(250_000));
            // Brotli may hold all its output back until here: then the flush is what waits, and is cancelled.
            if (impl === "node") yield* out.flush();
            return "written";
          });
          // On the real clock a stalled host (or a host whose codec blocks its thread) can let the reader's
          // sleep end first, and the write then completes: only the result below holds everywhere.
          if (runOn.exact) assert.equal(written, undefined, "the write was cancelled by its timeout");
          yield* out.write("tail");
          yield* out.end();
          const all = yield* reading.wait();
          return all;
        });
      });
      assert.deepEqual(new Uint8Array(got), concat([sample(500_000, 3), utf8("tail")]));
    });

    testOnEveryDriver(
      `${tag}: over a BufferedWriter in front of a writer that queues cancelled writes, a cancelled write is delivered once`,
      async (runOn) => {
        const big = sample(300_000, 5);
        const got = await runOn(function* () {
          const sink = new QueueingWriter(50);
          const buffered = new BufferedWriter(sink, 4096);
          const out = writerFor(format, impl, buffered);
          for (let at = 0; at < big.length; at += 30_000) {
            // Short timeouts: some writes are cancelled while the sink drains, their bytes queued there.
            yield* withTimeoutOpt(5, function* () {
              yield* out.write(big.subarray(at, at + 30_000));
              if (impl === "node") yield* out.flush();
            });
          }
          yield* out.write("tail");
          yield* out.end();
          yield* buffered.flush();
          return (yield* readerFor(format, impl, new ScriptedReader([concat(sink.chunks)])).readAll()).bytes();
        });
        assert.deepEqual(new Uint8Array(got), concat([big, utf8("tail")]));
      },
    );

    test(`${tag}: close() without end() leaves a stream that decodes as truncated, not as a shorter one`, {
      timeout: 30_000,
      ...decoderChecks,
    }, async () => {
      const error = await run(function* () {
        const sink = new CollectingWriter();
        const w = writerFor(format, impl, sink);
        yield* w.write(sample(100_000));
        w.close();
        assert.equal(w.ended, false);
        try {
          yield* readerFor(format, impl, new ScriptedReader([sink.bytes()])).readAll();
        } catch (error) {
          return error;
        }
        return undefined;
      });
      assert.ok(error instanceof Error);
    });

    testOnEveryDriver(`${tag}: closing the reader from another task ends a waiting read; later reads are usage errors`, async (runOn) => {
      const outcome = await runOn(function* () {
        const [source, feed] = pipe();
        const reader = readerFor(format, impl, source, { closeUnderlying: true });
        return yield* withTaskGroup<string[]>(function* (group) {
          const reading = group.spawn(() => reader.readSome());
          yield* sleep(5);
          reader.close();
          const seen = [`read: ${String(yield* reading.wait())}`, `source closed: ${source.closed}`];
          try {
            yield* reader.readSome();
          } catch (error) {
            seen.push(`then: ${(error as Error).name}`);
          }
          feed.close();
          return seen;
        });
      });
      assert.deepEqual(outcome, ["read: undefined", "source closed: true", "then: WeftUsageError"]);
    });

    test(`${tag}: writes after end() and after close() are usage errors; end() twice is fine`, { timeout: 30_000 }, async () => {
      await run(function* () {
        const sink = new CollectingWriter();
        const w = writerFor(format, impl, sink);
        yield* w.write("x");
        yield* w.end();
        yield* w.end();
        assert.equal(w.ended, true);
        yield* assertThrows(() => w.write("y"), WeftUsageError);
        w.close();
        w.close();
        yield* assertThrows(() => w.write("y"), WeftUsageError);
        yield* sink.write("still open"); // the underlying writer stays open by default
      });
    });
  }
}

function* assertThrows(op: () => Operation<unknown>, kind: new (...args: never[]) => Error): Operation<void> {
  try {
    yield* op();
  } catch (error) {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
    return;
  }
  assert.fail(`expected ${kind.name}, but nothing was thrown`);
}

if (impls.includes("node")) {
  testOnEveryDriver("flush() makes everything written so far decodable by a reader while the stream stays open", async (runOn) => {
    const lines = await runOn(function* () {
      const [r, w] = pipe();
      const [ackReader, ackWriter] = pipe();
      return yield* withTaskGroup<string[]>(function* (group) {
        group.startSoon(function* () {
          using out = gzipWriter(w, on("node", { closeUnderlying: true }));
          for (const text of ["first", "second"]) {
            yield* out.write(`${text}\n`);
            yield* out.flush();
            // The stream is still open: the reader must get the line from the flushed bytes alone.
            yield* ackReader.readLine();
          }
          yield* out.end();
        });
        const reader = gunzipReader(r);
        const lines: string[] = [];
        for (let i = 0; i < 2; i++) {
          lines.push((yield* reader.readLine())!);
          yield* ackWriter.write("got it\n");
        }
        lines.push(`end: ${yield* reader.readLine()}`);
        return lines;
      });
    });
    assert.deepEqual(lines, ["first", "second", "end: undefined"]);
  });

  test("concatenated gzip members decode as one stream, as gunzip does", { timeout: 30_000 }, async () => {
    const a = await referenceEncode("gzip", utf8("first member\n"));
    const b = await referenceEncode("gzip", utf8("second member\n"));
    const text = await run(function* () {
      return (yield* gunzipReader(new ScriptedReader([concat([a, b])]), on("node")).readAll()).text();
    });
    assert.equal(text, "first member\nsecond member\n");
  });
}

if (impls.includes("web")) {
  test("on the Web streams engine flush() throws Unsupported and brotli is Unsupported", { timeout: 30_000 }, async () => {
    await run(function* () {
      const w = gzipWriter(new CollectingWriter(), on("web"));
      assert.throws(() => w.flush(), Unsupported);
      w.close();
      assert.throws(() => brotliWriter(new CollectingWriter(), on("web")), Unsupported);
      assert.throws(() => brotliReader(new ScriptedReader([]), on("web")), Unsupported);
      yield* sleep(0);
    });
  });
}

test("bad arguments are TypeErrors and RangeErrors naming the function and the argument", { timeout: 30_000 }, () => {
  const sink = new CollectingWriter();
  assert.throws(() => gzipWriter(null as unknown as Writer), { name: "TypeError", message: /^gzipWriter\(\): writer must be a Writer/ });
  assert.throws(() => gzipWriter(sink, { level: 10 }), {
    name: "RangeError",
    message: /^gzipWriter\(\): options.level must be between -1 and 9, got 10/,
  });
  assert.throws(() => deflateWriter(sink, { level: 1.5 }), {
    name: "TypeError",
    message: /^deflateWriter\(\): options.level must be an integer/,
  });
  assert.throws(() => brotliWriter(sink, { quality: 12 }), { name: "RangeError", message: /^brotliWriter\(\): options.quality/ });
  assert.throws(() => gzipWriter(sink, { closeUnderlying: "yes" as unknown as boolean }), {
    name: "TypeError",
    message: /closeUnderlying/,
  });
  assert.throws(() => gunzipReader({} as Reader), { name: "TypeError", message: /^gunzipReader\(\): reader must be a Reader/ });
  assert.throws(() => inflateReader(new ScriptedReader([]), { maxOutput: -1 }), {
    name: "RangeError",
    message: /^inflateReader\(\): options.maxOutput must be >= 0/,
  });
  assert.throws(() => gunzipReader(new ScriptedReader([]), { maxOutput: 1.5 }), {
    name: "TypeError",
    message: /maxOutput must be an integer/,
  });
  assert.throws(() => gzipWriter(sink, on("vax" as Impl)), { name: "TypeError", message: /implementation/ });
});

test("a cancelled task's write throws Cancelled before it starts", { timeout: 30_000 }, async () => {
  const error = await run(function* () {
    return yield* withTaskGroup<unknown>(function* (group) {
      const t = group.spawn(function* () {
        const w = gzipWriter(new CollectingWriter());
        try {
          yield* sleep(1000);
        } catch {
          try {
            yield* w.write("x");
          } catch (error) {
            return error;
          } finally {
            w.close();
          }
        }
        return undefined;
      });
      yield* sleep(1);
      t.cancel();
      return yield* t.wait();
    });
  });
  assert.ok(error instanceof Cancelled);
});

test("with no engine (no node:zlib, no Web streams) the constructors throw Unsupported naming the function", { timeout: 30_000 }, () => {
  const host = globalThis as { CompressionStream?: unknown; DecompressionStream?: unknown };
  const saved = { c: host.CompressionStream, d: host.DecompressionStream };
  // Stands in for QuickJS: the Web engine is asked for, and the Web streams are gone.
  host.CompressionStream = undefined;
  host.DecompressionStream = undefined;
  try {
    assert.throws(() => gzipWriter(new CollectingWriter(), on("web")), {
      name: "Unsupported",
      message: /^gzipWriter\(\): this host has neither node:zlib nor the Web CompressionStream/,
    });
    assert.throws(() => inflateReader(new ScriptedReader([]), on("web")), {
      name: "Unsupported",
      message: /^inflateReader\(\): .*DecompressionStream/,
    });
  } finally {
    host.CompressionStream = saved.c;
    host.DecompressionStream = saved.d;
  }
});
