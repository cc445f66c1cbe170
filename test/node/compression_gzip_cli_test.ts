/**
 * `gzipWriter` and `gunzipReader` against the `gzip` command line tool, both
 * directions, at random chunk boundaries (fast-check), on both engines: what
 * we write `gzip -d` decodes, what `gzip` writes we decode, concatenated
 * members decode as `gzip -d` decodes them, and a flushed but unfinished
 * stream gives `gzip -d` the whole prefix.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { run, type Operation } from "../../src/index.ts";
import { gunzipReader, gzipWriter, type Reader, type Writer } from "../../src/io.ts";
import { CollectingWriter, ScriptedReader, pattern } from "../io/support.ts";

const override = process.env["WEFT_PROPERTY_RUNS"];
const runs = override !== undefined && override !== "" ? Number(override) : 15;

function gzipCli(args: string[], input: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const result = spawnSync("gzip", args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

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

function sample(n: number, seed: number): Uint8Array {
  const out = pattern(n, seed);
  for (let i = 0; i < n; i += 5) out[i] = 32 + ((i / 5 + seed) % 90);
  return out;
}

for (const implementation of ["node", "web"] as const) {
  const writer = (sink: Writer, level?: number) => gzipWriter(sink, { level, implementation } as { level?: number });
  const reader = (source: Reader) => gunzipReader(source, { implementation } as object);

  test(`gzip -d decodes what gzipWriter wrote at random boundaries [${implementation}]`, { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.nat({ max: 200_000 }), { maxLength: 10 }),
        fc.integer({ min: -1, max: 9 }),
        fc.nat(1000),
        async (n, cuts, level, seed) => {
          const data = sample(n, seed);
          const compressed = await run(function* (): Operation<Uint8Array> {
            const sink = new CollectingWriter();
            using w = writer(sink, level);
            for (const piece of cut(data, cuts)) yield* w.write(piece);
            yield* w.end();
            return sink.bytes();
          });
          const out = gzipCli(["-dc"], compressed);
          assert.equal(out.status, 0, out.stderr);
          assert.deepEqual(new Uint8Array(out.stdout), data);
        },
      ),
      { numRuns: runs },
    );
  });

  test(`gunzipReader decodes what gzip wrote, read at random boundaries [${implementation}]`, { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.nat({ max: 100_000 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(1000),
        async (n, cuts, level, seed) => {
          const data = sample(n, seed);
          const compressed = gzipCli([`-${level}`, "-c"], data);
          assert.equal(compressed.status, 0, compressed.stderr);
          const decoded = await run(function* () {
            return (yield* reader(new ScriptedReader(cut(compressed.stdout, cuts))).readAll()).bytes();
          });
          assert.deepEqual(new Uint8Array(decoded), data);
        },
      ),
      { numRuns: runs },
    );
  });
}

test("concatenated gzip members: gunzipReader gives what gzip -d gives", { timeout: 30_000 }, async () => {
  const a = gzipCli(["-c"], Buffer.from("first member\n")).stdout;
  const b = gzipCli(["-c"], Buffer.from("second member\n")).stdout;
  const both = Buffer.concat([a, b]);
  const expected = gzipCli(["-dc"], both);
  assert.equal(expected.status, 0, expected.stderr);
  const text = await run(function* () {
    return (yield* gunzipReader(new ScriptedReader([both])).readAll()).text();
  });
  assert.equal(text, expected.stdout.toString());
  assert.equal(text, "first member\nsecond member\n");
});

test("after flush(), gzip -d decodes the whole prefix of a stream that was never ended", { timeout: 30_000 }, async () => {
  const prefix = sample(100_000, 7);
  const compressed = await run(function* () {
    const sink = new CollectingWriter();
    const w = gzipWriter(sink);
    yield* w.write(prefix);
    yield* w.flush();
    w.close(); // never ended: no trailer
    return sink.bytes();
  });
  const out = gzipCli(["-dc"], compressed);
  assert.notEqual(out.status, 0, "gzip -d must see the stream as incomplete");
  assert.match(out.stderr, /unexpected end of file/);
  assert.deepEqual(new Uint8Array(out.stdout), prefix);
});

test("a truncated gzip stream from gzip is an error for gunzipReader", { timeout: 30_000 }, async () => {
  const compressed = gzipCli(["-c"], sample(50_000, 3)).stdout;
  const error = await run(function* () {
    try {
      yield* gunzipReader(new ScriptedReader([compressed.subarray(0, compressed.length - 4)])).readAll();
    } catch (error) {
      return error;
    }
    return undefined;
  });
  assert.ok(error instanceof Error);
  assert.equal((error as { code?: string }).code, "Z_BUF_ERROR");
});

test("trailing garbage after the last member: gzip -d warns and exits 2, gunzipReader fails; zero padding is fine for both", {
  timeout: 30_000,
}, async () => {
  const member = gzipCli(["-c"], Buffer.from("the data\n")).stdout;
  const input = Buffer.concat([member, Buffer.from("garbage")]);
  const theirs = gzipCli(["-dc"], input);
  assert.equal(theirs.status, 2);
  assert.match(theirs.stderr, /trailing garbage ignored/);
  assert.equal(theirs.stdout.toString(), "the data\n");
  const error = await run(function* () {
    try {
      yield* gunzipReader(new ScriptedReader([input])).readAll();
    } catch (error) {
      return error;
    }
    return undefined;
  });
  // Stricter than gzip: an error, never a silent success (node:zlib drops the member that shared the garbage's chunk).
  assert.ok(error instanceof Error);
  assert.equal((error as { code?: string }).code, "Z_DATA_ERROR");
  // Zero padding (a tape block's tail) is ignored by both.
  const padded = Buffer.concat([member, Buffer.alloc(512)]);
  assert.equal(gzipCli(["-dc"], padded).status, 0);
  const text = await run(function* () {
    return (yield* gunzipReader(new ScriptedReader([padded])).readAll()).text();
  });
  assert.equal(text, "the data\n");
});
