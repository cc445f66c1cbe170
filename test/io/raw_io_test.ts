/**
 * The internal raw read and write (`src/io/direct.ts`): a protocol that
 * waits on the source's own operation instead of `readSome()`/`write()`
 * gets it only when the usual operation would be exactly that, keeps the
 * one-reader and one-writer rules while it runs, and leaves the stream as
 * the usual operation would have, however it ends.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { WeftUsageError, withTaskGroup, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { endRawRead, endRawWrite, rawRead, rawWrite } from "../../src/io/direct.ts";
import { NO_RETURN } from "../../src/io/writer.ts";
import { BUDGET } from "../../src/core/budget.ts";
import { CollectingWriter, CustomReader, CustomWriter, QueueingWriter, ScriptedReader, utf8 } from "./support.ts";

const LIMIT = { timeout: 10_000 };

/**
 * In a task of its own: whether `start` gives an operation (then ended with
 * `end`), and what it gives once the task's cancellation is due.
 */
function* probedBeforeAndAfterCancel(start: () => Operation<unknown> | null, end: () => void): Operation<[boolean, unknown]> {
  let answers: [boolean, unknown] = [false, "not run"];
  yield* withTaskGroup<void>(function* (group) {
    const task = group.spawn(function* () {
      const before = start() !== null;
      if (before) end();
      task.cancel();
      answers = [before, start()];
    });
  });
  return answers;
}

/** Runs `op` to its end, as `yield*` would. */
function* waitOn(op: Operation<unknown>): Operation<unknown> {
  return yield* op;
}

test("a raw read is the source's own read: its chunk, after waiting, checked as readSome() would", LIMIT, async () => {
  const reader = new ScriptedReader([{ delay: 5, chunk: "late" }, "next"]);
  const got = await runVirtual(function* () {
    const raw = rawRead(reader);
    assert.notEqual(raw, null);
    const chunk = endRawRead(reader, yield* waitOn(raw!), true);
    return [new TextDecoder().decode(chunk!), new TextDecoder().decode((yield* reader.readSome())!)];
  });
  assert.deepEqual(got, ["late", "next"]);
});

test("no raw read while readSome() would do more: bytes buffered, the end seen, the reader closed, the task cancelled", LIMIT, async () => {
  await runVirtual(function* () {
    const buffered = new ScriptedReader(["abcd"]);
    assert.equal(utf8Of(yield* buffered.readSome(2)), "ab");
    assert.equal(rawRead(buffered), null, "bytes are buffered");
    assert.equal(utf8Of(yield* buffered.readSome()), "cd");

    const ended = new ScriptedReader([]);
    assert.equal(yield* ended.readSome(), undefined);
    assert.equal(rawRead(ended), null, "the end was seen");

    const closed = new ScriptedReader(["x"]);
    closed.close();
    assert.equal(rawRead(closed), null, "closed: readSome() throws WeftUsageError, the raw read leaves that to it");
  });
  // A task whose cancellation is due: readSome() would throw Cancelled, so there is no raw read either.
  const reader = new ScriptedReader(["x"]);
  const answers = await runVirtual(() =>
    probedBeforeAndAfterCancel(
      () => rawRead(reader),
      () => endRawRead(reader, undefined, false),
    ),
  );
  assert.deepEqual(answers, [true, null]);
});

test(
  "a raw read holds the reader: readSome() meanwhile is a WeftUsageError, and endRawRead frees it with nothing lost",
  LIMIT,
  async () => {
    const reader = new ScriptedReader([{ delay: 5, chunk: "kept" }]);
    const got = await runVirtual(function* () {
      const raw = rawRead(reader);
      assert.notEqual(raw, null);
      assert.equal(rawRead(reader), null, "a second raw read");
      assert.throws(() => reader.readSome().next(), WeftUsageError);
      // Given up before it started (the source's read is a generator that has not run): nothing was taken.
      raw!.return?.(undefined);
      assert.equal(endRawRead(reader, undefined, false), null);
      return utf8Of(yield* reader.readSome());
    });
    assert.equal(got, "kept");
  },
);

test(
  "endRawRead: undefined is the end (the source is not asked again), an empty chunk says read again, a non-chunk is a TypeError",
  LIMIT,
  async () => {
    await runVirtual(function* () {
      const ending = new CustomReader(function* () {
        return undefined;
      });
      const raw = rawRead(ending);
      assert.equal(endRawRead(ending, yield* waitOn(raw!), true), undefined);
      assert.equal(yield* ending.readSome(), undefined);
      assert.equal(rawRead(ending), null);
      assert.equal(ending.calls, 1);

      const empty = new CustomReader(function* () {
        return new Uint8Array(0);
      });
      assert.equal(endRawRead(empty, yield* waitOn(rawRead(empty)!), true), null);
      assert.notEqual(rawRead(empty), null, "the reader is free again");

      const odd = new CustomReader(function* () {
        return "not bytes";
      });
      const oddRaw = rawRead(odd)!;
      const value = yield* waitOn(oddRaw);
      assert.throws(() => endRawRead(odd, value, true), TypeError);
      assert.notEqual(rawRead(odd), null, "the reader is free again");
    });
  },
);

test("a source whose readChunk throws at once: rawRead throws it and leaves the reader free", LIMIT, async () => {
  let fail = true;
  const reader = new CustomReader(() => {
    if (fail) throw new Error("source broke");
    return (function* () {
      return utf8("after");
    })();
  });
  await runVirtual(function* () {
    assert.throws(() => rawRead(reader), /source broke/);
    fail = false;
    assert.equal(utf8Of(yield* reader.readSome()), "after");
  });
});

test("no raw read once the task's budget is spent: readSome() would yield first", LIMIT, async () => {
  const answers = await runVirtual(function* () {
    const reader = new ScriptedReader(Array.from({ length: BUDGET + 2 }, () => "x"));
    const seen: boolean[] = [];
    for (let i = 0; i < BUDGET + 1; i++) {
      const raw = rawRead(reader);
      seen.push(raw !== null);
      if (raw !== null) endRawRead(reader, undefined, false);
      // Each readSome() that completes at once spends budget, as a receive loop's reads would.
      yield* reader.readSome();
    }
    return seen;
  });
  assert.equal(answers[0], true);
  // Each turn spends a unit for the raw read and one for readSome(): the budget runs out half-way.
  assert.equal(answers.indexOf(false), BUDGET / 2);
  assert.equal(answers.lastIndexOf(false), BUDGET / 2, "after the yield, a fresh budget");
});

test("a raw write is the sink's own write, holding the writer until endRawWrite", LIMIT, async () => {
  const sink = new CollectingWriter();
  await runVirtual(function* () {
    const raw = rawWrite(sink, utf8("frame"), NO_RETURN);
    assert.notEqual(raw, null);
    assert.equal(rawWrite(sink, utf8("again"), NO_RETURN), null, "another raw write");
    assert.throws(() => sink.write("meanwhile").next(), WeftUsageError);
    yield* waitOn(raw!);
    endRawWrite(sink);
    yield* sink.write("after");
  });
  assert.deepEqual(sink.chunks.map(utf8Of), ["frame", "after"]);
});

test("a raw write hands the bytes over only to a sink that keeps handed-over bytes; others get giveBack null", LIMIT, async () => {
  const keeping = new QueueingWriter(0);
  const given: unknown[] = [];
  const copying = new CustomWriter((_bytes, giveBack) => {
    given.push(giveBack);
    return (function* () {})();
  });
  await runVirtual(function* () {
    for (const sink of [keeping, copying]) {
      yield* waitOn(rawWrite(sink, utf8("frame"), NO_RETURN)!);
      endRawWrite(sink);
    }
  });
  assert.equal(keeping.transfers, 1);
  assert.deepEqual(given, [null]);
});

test(
  "no raw write to a closed writer, or from a cancelled task; a writeChunk that throws at once leaves the writer free",
  LIMIT,
  async () => {
    const closed = new CollectingWriter();
    closed.close();
    assert.equal(rawWrite(closed, utf8("x"), NO_RETURN), null);

    let fail = true;
    const got: string[] = [];
    const breaking = new CustomWriter((bytes) => {
      if (fail) throw new Error("sink broke");
      got.push(utf8Of(bytes));
      return (function* () {})();
    });
    await runVirtual(function* () {
      assert.throws(() => rawWrite(breaking, utf8("x"), NO_RETURN), /sink broke/);
      fail = false;
      yield* breaking.write("y");
    });
    assert.deepEqual(got, ["y"]);

    const sink = new CollectingWriter();
    const answers = await runVirtual(() =>
      probedBeforeAndAfterCancel(
        () => rawWrite(sink, utf8("x"), NO_RETURN),
        () => endRawWrite(sink),
      ),
    );
    assert.deepEqual(answers, [true, null]);
  },
);

test("a stream that does not offer raw IO gets null, and keeps working the usual way", LIMIT, async () => {
  const plain = {
    *readSome(): Operation<Uint8Array | undefined> {
      return utf8("x");
    },
    *write(): Operation<void> {},
  };
  assert.equal(rawRead(plain as never), null);
  assert.equal(rawWrite(plain as never, utf8("x"), NO_RETURN), null);
  assert.equal(utf8Of(await runVirtual(() => plain.readSome())), "x");
});

function utf8Of(bytes: Uint8Array | undefined): string {
  return new TextDecoder().decode(bytes);
}
