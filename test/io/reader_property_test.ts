/**
 * Property test of `ReaderBase` over an in-memory pipe: random bytes (ASCII,
 * separators, multi-byte characters, a byte order mark and bytes that are not
 * UTF-8), cut into random chunks (empty ones too) that a producer writes with
 * random pauses, are read back by a random mix of read / readSome /
 * readExactly / readUntil / readLine / drop, each possibly cancelled by
 * `withTimeoutOpt` at a random moment, on virtual time. A reference model (a
 * position in the original bytes) predicts every result, and a final readAll
 * must give exactly the rest: no byte lost, duplicated or reordered, whatever
 * was cancelled where.
 *
 * A timed-out operation must have taken nothing. An operation that completes
 * in the same round as its timeout does return (its bytes are consumed) while
 * `withTimeoutOpt` still gives `undefined`, so each body records its outcome
 * the moment the operation returns, and that record is the truth.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { ReaderClosed, pipe, type PipeReader } from "../../src/io.ts";

const ATOMS: readonly number[][] = [
  [0x61],
  [0x62],
  [0x3b], // ";", the readUntil separator
  [0x0a],
  [0x0d],
  [0xc3, 0xa9], // é
  [0xf0, 0x9d, 0x84, 0x9e], // 𝄞
  [0xef, 0xbb, 0xbf], // U+FEFF
  [0xff], // never valid UTF-8
];

type Op =
  | { kind: "read"; n: number }
  | { kind: "readSome"; n: number | undefined }
  | { kind: "readExactly"; n: number }
  | { kind: "readUntil" }
  | { kind: "readLine" }
  | { kind: "drop"; n: number };

interface Step {
  op: Op;
  /** Cancel after this many ms (withTimeoutOpt), or never. */
  timeout: number | undefined;
}

interface Plan {
  data: Uint8Array;
  /** Chunk lengths (they add up to data.length), each written after a delay. */
  chunks: Array<{ length: number; delay: number }>;
  steps: Step[];
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.nat({ max: 12 }).map((n): Op => ({ kind: "read", n })),
  fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }).map((n): Op => ({ kind: "readSome", n })),
  fc.nat({ max: 12 }).map((n): Op => ({ kind: "readExactly", n })),
  fc.constant<Op>({ kind: "readUntil" }),
  fc.constant<Op>({ kind: "readLine" }),
  fc.nat({ max: 12 }).map((n): Op => ({ kind: "drop", n })),
);

const planArb: fc.Arbitrary<Plan> = fc
  .array(fc.constantFrom(...ATOMS), { maxLength: 60 })
  .chain((atoms) => {
    const data = Uint8Array.from(atoms.flat());
    return fc.record({
      data: fc.constant(data),
      cuts: fc.array(fc.nat({ max: data.length }), { maxLength: 12 }),
      delays: fc.array(fc.nat({ max: 4 }), { minLength: 14, maxLength: 14 }),
      steps: fc.array(fc.record({ op: opArb, timeout: fc.option(fc.nat({ max: 5 }), { nil: undefined, freq: 2 }) }), { maxLength: 25 }),
    });
  })
  .map(({ data, cuts, delays, steps }) => {
    const points = [...cuts].sort((a, b) => a - b);
    const chunks: Plan["chunks"] = [];
    let at = 0;
    points.concat(data.length).forEach((p, i) => {
      chunks.push({ length: p - at, delay: delays[i]! });
      at = p;
    });
    return { data, chunks, steps };
  });

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of `bytes`, or undefined if they are not UTF-8. */
function decode(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

function indexOfByte(data: Uint8Array, byte: number, from: number): number {
  return data.indexOf(byte, from);
}

/** What an operation gave: a value, or the error it threw. */
type Outcome = { value: unknown } | { error: unknown };

function* perform(r: PipeReader, op: Op): Operation<unknown> {
  switch (op.kind) {
    case "read": {
      const buf = new Uint8Array(op.n);
      const n = yield* r.read(buf);
      return buf.slice(0, n);
    }
    case "readSome":
      return yield* r.readSome(op.n);
    case "readExactly":
      return yield* r.readExactly(op.n);
    case "readUntil":
      return yield* r.readUntil(";");
    case "readLine":
      return yield* r.readLine();
    case "drop":
      return yield* r.drop(op.n);
  }
}

/** Checks one completed operation against the model; returns the new position. */
function check(data: Uint8Array, pos: number, op: Op, outcome: Outcome, where: string): number {
  const left = data.length - pos;
  const fail = (message: string): never => assert.fail(`${where}: ${op.kind} at ${pos}/${data.length}: ${message}`);
  const value = "value" in outcome ? outcome.value : undefined;
  if ("error" in outcome && !(op.kind === "readExactly" || op.kind === "readUntil" || op.kind === "readLine")) {
    fail(`threw ${String(outcome.error)}`);
  }
  switch (op.kind) {
    case "read": {
      const got = value as Uint8Array;
      if (op.n > 0 && left > 0 && got.length === 0) fail("returned 0 before the end");
      assert.ok(got.length <= op.n, `${where}: read returned more than asked`);
      assert.deepEqual([...got], [...data.subarray(pos, pos + got.length)], `${where}: read gave wrong bytes`);
      return pos + got.length;
    }
    case "readSome": {
      if (value === undefined) {
        if (left > 0) fail("end of stream before the end");
        return pos;
      }
      const got = value as Uint8Array;
      if (got.length === 0 || got.length > (op.n ?? Infinity)) fail(`bad length ${got.length}`);
      assert.deepEqual([...got], [...data.subarray(pos, pos + got.length)], `${where}: readSome gave wrong bytes`);
      return pos + got.length;
    }
    case "readExactly": {
      if (op.n > left) {
        if (!("error" in outcome) || !(outcome.error instanceof ReaderClosed)) fail("expected ReaderClosed");
        return pos;
      }
      if ("error" in outcome) fail(`threw ${String(outcome.error)}`);
      assert.deepEqual([...(value as Uint8Array)], [...data.subarray(pos, pos + op.n)], `${where}: readExactly gave wrong bytes`);
      return pos + op.n;
    }
    case "readUntil":
    case "readLine": {
      const sep = op.kind === "readUntil" ? 0x3b : 0x0a;
      const found = indexOfByte(data, sep, pos);
      const end = found === -1 ? data.length : found;
      let textEnd = end;
      if (op.kind === "readLine" && found !== -1 && end > pos && data[end - 1] === 0x0d) textEnd = end - 1;
      if (found === -1 && left === 0) {
        if ("error" in outcome || value !== undefined) fail("expected undefined at the end");
        return pos;
      }
      const expected = decode(data.subarray(pos, textEnd));
      if (expected === undefined) {
        if (!("error" in outcome) || !(outcome.error instanceof TypeError)) fail("expected a TypeError for bytes that are not UTF-8");
        return pos; // nothing consumed
      }
      if ("error" in outcome) fail(`threw ${String(outcome.error)}`);
      assert.equal(value, expected, `${where}: ${op.kind} gave wrong text`);
      return found === -1 ? data.length : found + 1;
    }
    case "drop":
      assert.equal(value, Math.min(op.n, left), `${where}: drop count`);
      return pos + Math.min(op.n, left);
  }
}

function scenario(plan: Plan): () => Operation<void> {
  return function* () {
    const [reader, writer] = pipe();
    const { data } = plan;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        let at = 0;
        for (const { length, delay } of plan.chunks) {
          if (delay > 0) yield* sleep(delay);
          yield* writer.write(data.subarray(at, at + length));
          at += length;
        }
        writer.close();
      });
      let pos = 0;
      for (const [i, { op, timeout }] of plan.steps.entries()) {
        let outcome: Outcome | undefined;
        const body = function* (): Operation<void> {
          try {
            outcome = { value: yield* perform(reader, op) };
          } catch (error) {
            // Cancellation is not an outcome: the operation took nothing.
            if (timeout !== undefined && (error as Error).name === "Cancelled") throw error;
            outcome = { error };
          }
        };
        if (timeout === undefined) yield* body();
        else yield* withTimeoutOpt(timeout, body);
        if (outcome !== undefined) pos = check(data, pos, op, outcome, `step ${i}`);
      }
      const rest = (yield* reader.readAll()).bytes();
      assert.deepEqual([...rest], [...data.subarray(pos)], "the final readAll must give exactly the bytes not yet read");
    });
  };
}

test("random chunkings read back through random mixes of reads, with random cancellations, give exactly the original bytes", async () => {
  await fc.assert(
    fc.asyncProperty(planArb, (plan) => runVirtual(scenario(plan))),
    { numRuns: 400, includeErrorInReport: true },
  );
});
