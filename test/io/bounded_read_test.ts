/**
 * `readUntil` and `readLine` with `maxLength`: a bounded read accepts text up
 * to the limit, refuses longer text with `ReadLimitExceeded` while keeping
 * every byte buffered, and never pulls more than the limit and one chunk from
 * its source (a peer sending an endless header line cannot grow memory).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { ReadLimitExceeded, ReaderBase } from "../../src/io.ts";
import { ScriptedReader, utf8 } from "./support.ts";

/** Reads `op` and reports its value or the limit it refused, then everything left. */
function* attempt(
  reader: ReaderBase,
  op: () => Operation<string | undefined>,
): Operation<{ got: string | undefined | { refused: number }; rest: string }> {
  let got: string | undefined | { refused: number };
  try {
    got = yield* op();
  } catch (e) {
    if (!(e instanceof ReadLimitExceeded)) throw e;
    got = { refused: e.limit };
  }
  return { got, rest: (yield* reader.readAll()).text() };
}

test("readLine accepts a line of exactly maxLength bytes, with \\n or \\r\\n, and refuses one byte more", async () => {
  const results = await runVirtual(function* () {
    const out = [];
    for (const input of ["abcd\nnext", "abcd\r\nnext", "abcde\nnext", "abcd\rx\nnext"]) {
      const r = new ScriptedReader([input]);
      out.push(yield* attempt(r, () => r.readLine({ maxLength: 4 })));
    }
    return out;
  });
  assert.deepEqual(results, [
    { got: "abcd", rest: "next" },
    { got: "abcd", rest: "next" },
    { got: { refused: 4 }, rest: "abcde\nnext" },
    { got: { refused: 4 }, rest: "abcd\rx\nnext" },
  ]);
});

test("readUntil with a separator split across chunks accepts text at the limit and refuses text over it", async () => {
  const results = await runVirtual(function* () {
    const at = new ScriptedReader(["ab", "c\r", "\n\r", "\ntail"]);
    const over = new ScriptedReader(["ab", "cd\r", "\n\r\n"]);
    return [
      yield* attempt(at, () => at.readUntil("\r\n\r\n", { maxLength: 3 })),
      yield* attempt(over, () => over.readUntil("\r\n\r\n", { maxLength: 3 })),
    ];
  });
  assert.deepEqual(results, [
    { got: "abc", rest: "tail" },
    { got: { refused: 3 }, rest: "abcd\r\n\r\n" },
  ]);
});

test("at end of stream the rest is returned within the limit and refused over it", async () => {
  const results = await runVirtual(function* () {
    const within = new ScriptedReader(["abc"]);
    const over = new ScriptedReader(["abcd"]);
    const empty = new ScriptedReader([]);
    return [
      yield* attempt(within, () => within.readLine({ maxLength: 3 })),
      yield* attempt(over, () => over.readUntil(";", { maxLength: 3 })),
      yield* attempt(empty, () => empty.readLine({ maxLength: 0 })),
    ];
  });
  assert.deepEqual(results, [
    { got: "abc", rest: "" },
    { got: { refused: 3 }, rest: "abcd" },
    { got: undefined, rest: "" },
  ]);
});

test("maxLength 0 accepts only an empty line", async () => {
  const results = await runVirtual(function* () {
    const empty = new ScriptedReader(["\r\nx"]);
    const one = new ScriptedReader(["x\n"]);
    return [yield* attempt(empty, () => empty.readLine({ maxLength: 0 })), yield* attempt(one, () => one.readLine({ maxLength: 0 }))];
  });
  assert.deepEqual(results, [
    { got: "", rest: "x" },
    { got: { refused: 0 }, rest: "x\n" },
  ]);
});

/** An endless line: 64 KiB chunks of "x" up to `total` bytes, counting what was pulled. */
class EndlessLine extends ReaderBase {
  pulled = 0;
  #closed = false;
  constructor(readonly total: number) {
    super();
  }
  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    if (this.pulled >= this.total) return undefined;
    const n = Math.min(sizeHint, this.total - this.pulled);
    this.pulled += n;
    return new Uint8Array(n).fill(0x78);
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  close(): void {
    this.#closed = true;
  }
}

test("a 64 MiB line read with maxLength 8192 stops after less than 1 MiB pulled from the source", async () => {
  const { pulled, buffered, limit } = await runVirtual(function* () {
    const r = new EndlessLine(64 * 1024 * 1024);
    try {
      yield* r.readLine({ maxLength: 8192 });
      throw new Error("the endless line was accepted");
    } catch (e) {
      if (!(e instanceof ReadLimitExceeded)) throw e;
      return { pulled: r.pulled, buffered: r.buffered, limit: e.limit };
    }
  });
  assert.equal(limit, 8192);
  assert.ok(pulled < 1024 * 1024, `pulled ${pulled} bytes`);
  assert.ok(pulled > 8192, `pulled ${pulled} bytes`);
  assert.equal(buffered, pulled, "every pulled byte stays buffered");
});

test("bad options are refused with a TypeError or RangeError naming options.maxLength, before reading", async () => {
  const errors = await runVirtual(function* () {
    const r = new ScriptedReader(["abc\n"]);
    const out: string[] = [];
    const bad: unknown[] = [null, 5, { maxLength: -1 }, { maxLength: 1.5 }, { maxLength: "8" }, { maxLength: Number.NaN }];
    for (const options of bad) {
      for (const op of [() => r.readLine(options as never), () => r.readUntil("\n", options as never)]) {
        try {
          yield* op();
          out.push("accepted");
        } catch (e) {
          out.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
    }
    out.push(`then: ${yield* r.readLine({ maxLength: 3 })}`);
    return out;
  });
  assert.deepEqual(errors, [
    "TypeError: readLine(): options must be an object, got null",
    "TypeError: readUntil(): options must be an object, got null",
    "TypeError: readLine(): options must be an object, got number 5",
    "TypeError: readUntil(): options must be an object, got number 5",
    "RangeError: readLine(): options.maxLength must be >= 0, got -1",
    "RangeError: readUntil(): options.maxLength must be >= 0, got -1",
    "TypeError: readLine(): options.maxLength must be an integer, got 1.5",
    "TypeError: readUntil(): options.maxLength must be an integer, got 1.5",
    "TypeError: readLine(): options.maxLength must be an integer, got string",
    "TypeError: readUntil(): options.maxLength must be an integer, got string",
    "TypeError: readLine(): options.maxLength must be an integer, got NaN",
    "TypeError: readUntil(): options.maxLength must be an integer, got NaN",
    "then: abc",
  ]);
});

test("property: a bounded readLine returns what an unbounded one would when the line fits, else refuses and loses no byte", async () => {
  const text = fc.stringMatching(/^[ab\r\n]{0,40}$/);
  await fc.assert(
    fc.asyncProperty(text, fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), fc.nat({ max: 12 }), (input, cuts, maxLength) =>
      runVirtual(function* () {
        const bytes = utf8(input);
        const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((x, y) => x - y);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          if (p > from) chunks.push(bytes.subarray(from, p));
          from = p;
        }
        const bounded = new ScriptedReader(chunks);
        const unbounded = new ScriptedReader([bytes]);
        let consumed = 0; // the input is ASCII: string indices are byte indices
        for (;;) {
          const expected = yield* unbounded.readLine();
          let got: string | undefined;
          try {
            got = yield* bounded.readLine({ maxLength });
          } catch (e) {
            if (!(e instanceof ReadLimitExceeded)) throw e;
            assert.ok(expected !== undefined && expected.length > maxLength, `refused ${JSON.stringify(expected)} under ${maxLength}`);
            const rest = (yield* bounded.readAll()).text();
            assert.equal(rest, input.slice(consumed), "the refused line and all after it stay buffered");
            return;
          }
          assert.equal(got, expected);
          if (expected === undefined) return;
          assert.ok(expected.length <= maxLength);
          const newline = input.indexOf("\n", consumed);
          consumed = newline === -1 ? input.length : newline + 1;
        }
      }),
    ),
    { numRuns: 300 },
  );
});
