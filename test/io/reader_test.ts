/**
 * `ReaderBase` (weft/io `Reader`): every method, bad input, the one-reader
 * rule, end of stream, and cancellation that loses nothing (the issue: bytes
 * already received, even half of a `readExactly`, stay buffered for the next
 * read; moonbitlang/async drops them: docs/semantics.md, «IO»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, TimeoutError, sleep, withTaskGroup, withTimeout, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { Data, ReaderBase, ReaderClosed, pipe } from "../../src/io.ts";
import { ScriptedReader, pattern, utf8 } from "./support.ts";
import { testOnEveryDriver } from "../support.ts";

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

// ── every method ─────────────────────────────────────────────────────────────

test("read fills buf at offset, at most length bytes, from the buffer first; 0 at end of stream and for length 0", async () => {
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["hello", "world"]);
    const buf = new Uint8Array(8).fill(46); // "."
    const out: unknown[] = [];
    out.push(yield* r.read(buf, 2, 3), new TextDecoder().decode(buf), r.buffered);
    out.push(yield* r.read(buf, 0, 0));
    out.push(yield* r.read(buf), new TextDecoder().decode(buf)); // the 2 buffered bytes only
    out.push(yield* r.read(buf, 5), new TextDecoder().decode(buf));
    out.push(yield* r.read(buf, 0, 8), new TextDecoder().decode(buf), yield* r.read(buf));
    return out;
  });
  assert.deepEqual(out, [3, "..hel...", 2, 0, 2, "lohel...", 3, "lohelwor", 2, "ldhelwor", 0]);
});

test("readSome returns at most max bytes, the rest stays buffered; chunks it returned never change", async () => {
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["abcdef", "gh"]);
    const a = (yield* r.readSome(4))!;
    const b = (yield* r.readSome())!;
    const c = (yield* r.readSome(100))!;
    const end = yield* r.readSome();
    return [a, b, c].map((x) => new TextDecoder().decode(x)).concat(String(end));
  });
  assert.deepEqual(out, ["abcd", "ef", "gh", "undefined"]);
});

test("readExactly gathers across chunks; at a premature end ReaderClosed leaves the partial bytes buffered", async () => {
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["ab", "cde", "f"]);
    const out: unknown[] = [new TextDecoder().decode(yield* r.readExactly(4))];
    try {
      yield* r.readExactly(3);
    } catch (e) {
      out.push(e instanceof ReaderClosed ? e.message : String(e), r.buffered);
    }
    out.push((yield* r.readAll()).text(), (yield* r.readExactly(0)).length);
    return out;
  });
  assert.deepEqual(out, ["abcd", "readExactly(): the stream ended after 2 of 3 bytes", 2, "ef", 0]);
});

test("readUntil: string or byte separators, split across chunks, consumed not returned; the rest at the end, then undefined", async () => {
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["key=va", "lue<", "-", "->next", "<-", "->tail"]);
    const out: unknown[] = [];
    out.push(yield* r.readUntil("="), yield* r.readUntil("<-->"), yield* r.readUntil(utf8("<-->")));
    out.push(yield* r.readUntil("<-->"), yield* r.readUntil("<-->"));
    return out;
  });
  assert.deepEqual(out, ["key", "value", "next", "tail", undefined]);
});

test("readLine: \\n and \\r\\n (also split across chunks), a lone \\r kept, the last line without \\n, multi-byte characters split", async () => {
  const e = utf8("ö");
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["a\r", "\nb\r", "c\n", "\n", Uint8Array.of(0x78, e[0]!), Uint8Array.of(e[1]!, 0x0a), "last\r"]);
    const out: Array<string | undefined> = [];
    for (let i = 0; i < 6; i++) out.push(yield* r.readLine());
    return out;
  });
  assert.deepEqual(out, ["a", "b\rc", "", "xö", "last\r", undefined]);
});

test("readAll of a large stream in many chunks returns every byte; then an empty Data", async () => {
  const data = pattern(2_500_000, 1);
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(data.length - at, 1 + ((i * 104729) % 100_000));
    chunks.push(data.subarray(at, at + n));
    at += n;
  }
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(chunks);
    const head = yield* r.readExactly(10);
    const all = yield* r.readAll();
    return { head: [...head], all: all.bytes(), length: all.length, again: (yield* r.readAll()).length };
  });
  assert.deepEqual(out.head, [...data.subarray(0, 10)]);
  assert.equal(out.length, data.length - 10);
  assert.deepEqual(out.all, data.subarray(10));
  assert.equal(out.again, 0);
});

test("Data: bytes, text and json; malformed UTF-8 or JSON give errors", async () => {
  const data = await runVirtual(() => new ScriptedReader(['{"a":', "[1,2]}"]).readAll());
  assert.deepEqual(data.json(), { a: [1, 2] });
  assert.equal(data.text(), '{"a":[1,2]}');
  assert.equal(data.bytes().length, 11);
  assert.throws(() => new Data(Uint8Array.of(0xc3)).text(), { name: "TypeError", message: "Data.text(): the bytes are not valid UTF-8" });
  assert.throws(() => new Data(utf8("{")).json(), SyntaxError);
  assert.throws(() => new Data("x" as unknown as Uint8Array), { name: "TypeError", message: "Data: bytes must be a Uint8Array" });
});

test("drop discards across chunks and returns the count, fewer only at end of stream", async () => {
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["abc", "defg", "hi"]);
    return [yield* r.drop(5), yield* r.readSome(1), yield* r.drop(0), yield* r.drop(10), yield* r.drop(1)];
  });
  assert.deepEqual(out, [5, utf8("f"), 0, 3, 0]);
});

test("bad input: every method names its argument", async () => {
  const messages = await runVirtual(function* () {
    const r = new ScriptedReader(["abc"]);
    const messages: string[] = [];
    for (const call of [
      () => r.read(new Uint8Array(4), 1.5),
      () => r.read(new Uint8Array(4), -1),
      () => r.read(new Uint8Array(4), 1, 4),
      () => r.readSome(0),
      () => r.readSome(2.5),
      () => r.readExactly(-1),
      () => r.readExactly("3" as unknown as number),
      () => r.readUntil(""),
      () => r.readUntil(10 as unknown as string),
      () => r.drop(Number.NaN),
    ]) {
      try {
        yield* call();
        messages.push("no error");
      } catch (e) {
        messages.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    return messages;
  });
  assert.deepEqual(messages, [
    "TypeError: read(): offset must be an integer, got 1.5",
    "RangeError: read(): offset must be >= 0, got -1",
    "RangeError: read(): offset + length (5) is beyond the end of buf (4)",
    "RangeError: readSome(): max must be at least 1",
    "TypeError: readSome(): max must be an integer, got 2.5",
    "RangeError: readExactly(): n must be >= 0, got -1",
    "TypeError: readExactly(): n must be an integer, got string",
    "RangeError: readUntil(): separator must not be empty",
    "TypeError: readUntil(): separator must be a string or a Uint8Array",
    "TypeError: drop(): n must be an integer, got NaN",
  ]);
});

test("a second concurrent reader gets WeftUsageError; the first one is unharmed; a closed reader refuses reads", async () => {
  const out = await runVirtual(function* () {
    const r = new ScriptedReader(["par", { delay: 100, chunk: "tial\n" }]);
    const out: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        out.push(`first: ${yield* r.readLine()}`);
      });
      group.startSoon(function* () {
        yield* sleep(10);
        for (const op of [() => r.readSome(), () => r.readExactly(1), () => r.readAll()]) {
          try {
            yield* op();
          } catch (e) {
            out.push(`${(e as Error).name}: ${(e as Error).message.split(";")[0]}`);
          }
        }
      });
    });
    r.close();
    try {
      yield* r.readSome();
    } catch (e) {
      out.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
    return out;
  });
  assert.deepEqual(out, [
    "WeftUsageError: readSome(): another task is already reading from this reader",
    "WeftUsageError: readExactly(): another task is already reading from this reader",
    "WeftUsageError: readAll(): another task is already reading from this reader",
    "first: partial",
    "WeftUsageError: readSome(): the reader is closed",
  ]);
});

testOnEveryDriver(
  "cancelled by withTimeout at every blocking point, a read loses nothing: what it had received is read next",
  async (run) => {
    const cases: Array<[string, (r: ReaderBase) => Operation<unknown>]> = [
      ["read", (r) => r.read(new Uint8Array(10))],
      ["readSome", (r) => r.readSome()],
      ["readExactly", (r) => r.readExactly(5)],
      ["readUntil", (r) => r.readUntil(";")],
      ["readLine", (r) => r.readLine()],
      ["readAll", (r) => r.readAll()],
      ["drop", (r) => r.drop(5)],
    ];
    const out = await run(function* () {
      const out: string[] = [];
      for (const [name, op] of cases) {
        const [r, w] = pipe();
        yield* withTaskGroup<void>(function* (group) {
          // read and readSome only block with nothing buffered; the others also block half-way.
          if (name !== "read" && name !== "readSome") group.startSoon(() => w.write("ab"));
          try {
            yield* withTimeout(30, () => op(r));
            out.push(`${name}: finished?`);
          } catch (e) {
            if (!(e instanceof TimeoutError)) throw e;
          }
        });
        const buffered = r.buffered;
        const rest = yield* withTaskGroup<string | undefined>(function* (group) {
          group.startSoon(function* () {
            yield* w.write("cd;\n");
            w.close();
          });
          return yield* r.readUntil("\n");
        });
        out.push(`${name}: ${buffered} buffered, then ${JSON.stringify(rest)}`);
      }
      return out;
    });
    assert.deepEqual(out, [
      'read: 0 buffered, then "cd;"',
      'readSome: 0 buffered, then "cd;"',
      'readExactly: 2 buffered, then "abcd;"',
      'readUntil: 2 buffered, then "abcd;"',
      'readLine: 2 buffered, then "abcd;"',
      'readAll: 2 buffered, then "abcd;"',
      'drop: 2 buffered, then "abcd;"',
    ]);
  },
);

test("a reader is disposable: leaving a using block closes it", async () => {
  const r = new ScriptedReader(["x"]);
  {
    using inBlock = r;
    void inBlock;
  }
  await assert.rejects(
    runVirtual(() => r.readSome()),
    { name: "WeftUsageError", message: "readSome(): the reader is closed" },
  );
});
