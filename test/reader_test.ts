/**
 * `ReaderBase` (weft/io `Reader`): every method, bad input, the one-reader
 * rule, end of stream, and cancellation that loses nothing (the issue: bytes
 * already received, even half of a `readExactly`, stay buffered for the next
 * read; upstream drops them, SEMANTICS B §4.1).
 */
import { test } from "node:test";
import "./unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, withTaskGroup, withTimeoutOpt, type Operation } from "../src/index.ts";
import { runVirtual } from "../src/testing.ts";
import { ReaderBase } from "../src/io.ts";
import { ScriptedReader, utf8 } from "./io_support.ts";

// ── regressions ──────────────────────────────────────────────────────────────

test("an empty chunk from readChunk is not end of stream: read and readSome wait for real bytes", async () => {
  const [n, some, rest] = await runVirtual(function* () {
    const r = new ScriptedReader([new Uint8Array(0), "ab", new Uint8Array(0), "cd"]);
    const buf = new Uint8Array(8);
    const n = yield* r.read(buf);
    const some = yield* r.readSome();
    const rest = yield* r.readSome();
    return [n, some, rest] as const;
  });
  assert.equal(n, 2);
  assert.deepEqual(some, utf8("cd"));
  assert.equal(rest, undefined);
});

test("a read started in an already-cancelled task throws Cancelled and takes nothing, even with bytes buffered", async () => {
  const { outcomes, rest } = await runVirtual(function* () {
    const r = new ScriptedReader(["hello\nworld"]);
    assert.deepEqual(yield* r.readExactly(1), utf8("h")); // the rest is now buffered
    const outcomes: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const ops: Array<[string, () => Operation<unknown>]> = [
        ["read", () => r.read(new Uint8Array(4))],
        ["readSome", () => r.readSome()],
        ["readExactly", () => r.readExactly(2)],
        ["readUntil", () => r.readUntil("o")],
        ["readLine", () => r.readLine()],
        ["readAll", () => r.readAll()],
        ["drop", () => r.drop(3)],
      ];
      for (const [name, op] of ops) {
        const task = group.spawn(function* () {
          try {
            yield* op();
            outcomes.push(`${name}: ran`);
          } catch (e) {
            outcomes.push(`${name}: ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
          }
        });
        task.cancel(); // before it starts: the operation begins in a cancelled task
      }
    });
    return { outcomes, rest: (yield* r.readAll()).text() };
  });
  assert.deepEqual(outcomes, [
    "read: Cancelled",
    "readSome: Cancelled",
    "readExactly: Cancelled",
    "readUntil: Cancelled",
    "readLine: Cancelled",
    "readAll: Cancelled",
    "drop: Cancelled",
  ]);
  assert.equal(rest, "ello\nworld");
});

test("a drop cancelled half-way drops nothing: the bytes it had received stay buffered", async () => {
  const { dropped, rest } = await runVirtual(function* () {
    const r = new ScriptedReader(["abc", { delay: 10_000, chunk: "def" }]);
    const dropped = yield* withTimeoutOpt(50, () => r.drop(5));
    return { dropped, rest: (yield* r.readAll()).text() };
  });
  assert.equal(dropped, undefined);
  assert.equal(rest, "abcdef");
});

test("text keeps a U+FEFF at the start of a line or of the data: decoding never drops bytes", async () => {
  const { lines, all, until } = await runVirtual(function* () {
    const lines: Array<string | undefined> = [];
    const r = new ScriptedReader(["\uFEFFone\n\uFEFFtwo\n"]);
    lines.push(yield* r.readLine(), yield* r.readLine());
    const all = (yield* new ScriptedReader(["\uFEFFx"]).readAll()).text();
    const until = yield* new ScriptedReader(["\uFEFFy;"]).readUntil(";");
    return { lines, all, until };
  });
  assert.deepEqual(lines, ["\uFEFFone", "\uFEFFtwo"]);
  assert.equal(all, "\uFEFFx");
  assert.equal(until, "\uFEFFy");
});

test("readLine and readUntil on bytes that are not UTF-8 throw a TypeError and leave the bytes buffered", async () => {
  const { errors, rest } = await runVirtual(function* () {
    const bad = Uint8Array.of(0x41, 0xff, 0x42);
    const errors: string[] = [];
    const rest: number[][] = [];
    for (const [name, op] of [
      ["readLine", (r: ReaderBase) => r.readLine()],
      ["readUntil", (r: ReaderBase) => r.readUntil("|")],
    ] as const) {
      for (const tail of ["", "|\n"]) {
        const r = new ScriptedReader([bad, tail]);
        try {
          yield* op(r);
          errors.push(`${name}: no error`);
        } catch (e) {
          errors.push(`${name}: ${e instanceof TypeError ? e.message : String(e)}`);
        }
        rest.push([...(yield* r.readAll()).bytes()]);
      }
    }
    return { errors, rest };
  });
  assert.deepEqual(errors, [
    "readLine: readLine(): the bytes are not valid UTF-8",
    "readLine: readLine(): the bytes are not valid UTF-8",
    "readUntil: readUntil(): the bytes are not valid UTF-8",
    "readUntil: readUntil(): the bytes are not valid UTF-8",
  ]);
  assert.deepEqual(rest, [
    [0x41, 0xff, 0x42],
    [0x41, 0xff, 0x42, 0x7c, 0x0a],
    [0x41, 0xff, 0x42],
    [0x41, 0xff, 0x42, 0x7c, 0x0a],
  ]);
});

test("read() names its argument when buf is not a Uint8Array, and checks offset before length", async () => {
  const errors = await runVirtual(function* () {
    const r = new ScriptedReader(["abc"]);
    const errors: string[] = [];
    for (const call of [
      () => r.read(null as unknown as Uint8Array),
      () => r.read(undefined as unknown as Uint8Array),
      () => r.read(new Uint8Array(2), 3),
    ]) {
      try {
        yield* call();
        errors.push("no error");
      } catch (e) {
        errors.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    return errors;
  });
  assert.equal(errors.length, 3);
  assert.equal(errors[0], "TypeError: read(): buf must be a Uint8Array, got null");
  assert.match(errors[1]!, /^TypeError: read\(\): buf must be a Uint8Array, got undefined/);
  assert.equal(errors[2], "RangeError: read(): offset (3) is beyond the end of buf (2)");
});
