/**
 * `openFile` and `File`: reading, writing, independent positions, seek,
 * size, readLine, and what cancellation leaves behind.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, WeftUsageError, pause, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { openFile } from "../../src/node.ts";
import { assertOsError, holdCallbacks, inCancelledTask, scratch, thrown } from "./fs_support.ts";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Polls (sleeping, so IO callbacks run) until `check` holds; a bound no loaded host reaches. */
function* waitUntil(check: () => boolean): Operation<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail("condition not reached in time");
    yield* sleep(1);
  }
}

/** The paths this process has open, from /proc (Linux); undefined elsewhere. */
function openPaths(): string[] | undefined {
  if (!fs.existsSync("/proc/self/fd")) return undefined;
  const paths: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      paths.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory's own descriptor is gone by now
    }
  }
  return paths;
}

test("a File writes and reads with independent positions; seek moves both", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "f.txt");
    await run(function* () {
      using file = yield* openFile(path, "w+");
      yield* file.write("hello, world");
      assert.equal(file.writePosition, 12);
      assert.equal(file.readPosition, 0, "writing does not move the read position");
      assert.equal(text(yield* file.readExactly(5)), "hello");
      assert.equal(file.readPosition, 5);
      yield* file.write("!");
      assert.equal(text((yield* file.readAll()).bytes()), ", world!");
      assert.equal(yield* file.size(), 13);
      file.seek(7);
      assert.equal(file.readPosition, 7);
      assert.equal(file.writePosition, 7);
      yield* file.write("W");
      assert.equal(text((yield* file.readAll()).bytes()), "World!");
      file.seek(20);
      yield* file.write("x");
      assert.equal(yield* file.size(), 21, "a write beyond the end extends the file");
      assert.equal((yield* file.stat()).isFile(), true);
      yield* file.sync();
      yield* file.sync({ dataOnly: true });
    });
    const content = fs.readFileSync(path);
    assert.equal(content.subarray(0, 13).toString(), "hello, World!");
    assert.deepEqual([...content.subarray(13, 20)], [0, 0, 0, 0, 0, 0, 0]);
  } finally {
    cleanup();
  }
});

test("seek discards what the reader had buffered", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "lines.txt");
    fs.writeFileSync(path, "one\ntwo\nthree\n");
    await run(function* () {
      using file = yield* openFile(path);
      assert.equal(yield* file.readLine(), "one");
      assert.ok(file.buffered > 0, "the first chunk read more than one line");
      assert.equal(file.readPosition, 4);
      file.seek(0);
      assert.equal(file.buffered, 0);
      assert.equal(yield* file.readLine(), "one");
      file.seek(8);
      assert.equal(yield* file.readLine(), "three");
      assert.equal(yield* file.readLine(), undefined);
    });
  } finally {
    cleanup();
  }
});

test("readLine goes through a file of many lines across read chunks", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "big.txt");
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"x".repeat(i % 37)}`);
    fs.writeFileSync(path, lines.join("\r\n") + "\n");
    const got = await run(function* () {
      using file = yield* openFile(path);
      const out: string[] = [];
      for (let line; (line = yield* file.readLine()) !== undefined; ) out.push(line);
      return out;
    });
    assert.equal(got.length, lines.length);
    assert.deepEqual(got, lines);
  } finally {
    cleanup();
  }
});

test("in an append mode every write goes to the end of the file", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "log.txt");
    fs.writeFileSync(path, "first\n");
    await run(function* () {
      using file = yield* openFile(path, "a+");
      yield* file.write("second\n");
      file.seek(0);
      yield* file.write("third\n");
      assert.equal(yield* file.readLine(), "first");
    });
    assert.equal(fs.readFileSync(path, "utf8"), "first\nsecond\nthird\n");
  } finally {
    cleanup();
  }
});

test("openFile reports ENOENT, EEXIST and EISDIR with the function and the path", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const missing = join(dir, "missing.txt");
    const existing = join(dir, "existing.txt");
    fs.writeFileSync(existing, "x");
    await run(function* () {
      assertOsError(yield* thrown(() => openFile(missing)), "openFile()", "ENOENT", missing);
      assertOsError(yield* thrown(() => openFile(missing, "r+")), "openFile()", "ENOENT", missing);
      assertOsError(yield* thrown(() => openFile(existing, "wx")), "openFile()", "EEXIST", existing);
      assertOsError(yield* thrown(() => openFile(dir, "w")), "openFile()", "EISDIR", dir);
      // Writing a file opened read-only fails at the write, naming the file.
      using file = yield* openFile(existing, "r");
      const error = (yield* thrown(() => file.write("y"))) as Error & { code?: string; path?: string };
      assert.equal(error.code, "EBADF");
      assert.equal(error.path, existing);
      assert.match(error.message, /^File\.write\(\): EBADF/);
      assert.ok(error.message.includes(existing));
      // A missing path is an error for the reader's helpers too, not only open.
      const dirFile = yield* openFile(dir, "r");
      try {
        const readError = (yield* thrown(() => dirFile.readAll())) as Error & { code?: string };
        assert.equal(readError.code, "EISDIR");
      } finally {
        dirFile.close();
      }
    });
  } finally {
    cleanup();
  }
});

test("bad arguments give TypeError or RangeError naming the function and argument", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "f");
    fs.writeFileSync(path, "abc");
    await run(function* () {
      const bad = (yield* thrown(() => openFile(42 as unknown as string))) as Error;
      assert.ok(bad instanceof TypeError);
      assert.match(bad.message, /^openFile\(\): path must be a path string/);
      assert.ok((yield* thrown(() => openFile(""))) instanceof TypeError);
      assert.ok((yield* thrown(() => openFile("a\0b"))) instanceof TypeError);
      const flags = (yield* thrown(() => openFile(path, "q" as "r"))) as Error;
      assert.ok(flags instanceof TypeError);
      assert.match(flags.message, /^openFile\(\): flags must be/);
      assert.ok((yield* thrown(() => openFile(path, "r", -1))) instanceof RangeError);
      using file = yield* openFile(path, "r+");
      assert.throws(
        () => file.seek(-1),
        (e: Error) => e instanceof RangeError && e.message.startsWith("File.seek(): position"),
      );
      assert.throws(() => file.seek(1.5), TypeError);
    });
  } finally {
    cleanup();
  }
});

test("a closed File refuses reads and writes; close is idempotent; using closes it", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "f");
    fs.writeFileSync(path, "abc");
    const before = openPaths()?.filter((p) => p === path).length;
    await run(function* () {
      const file = yield* openFile(path, "r+");
      file.close();
      file.close();
      assert.ok((yield* thrown(() => file.readSome())) instanceof WeftUsageError);
      assert.ok((yield* thrown(() => file.write("x"))) instanceof WeftUsageError);
      assert.throws(() => file.seek(0), WeftUsageError);
      assert.ok((yield* thrown(() => file.size())) instanceof WeftUsageError);
      {
        using scoped = yield* openFile(path);
        assert.equal(openPaths()?.filter((p) => p === path).length ?? 1, (before ?? 0) + 1);
        assert.equal(text(yield* scoped.readExactly(3)), "abc");
      }
      assert.equal(openPaths()?.filter((p) => p === path).length ?? 0, before ?? 0, "leaving the block closed the file");
    });
  } finally {
    cleanup();
  }
});

test("a read cancelled while the pool works leaves positions unchanged and the File usable", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  let hook: ReturnType<typeof holdCallbacks> | undefined;
  try {
    const path = join(dir, "data.txt");
    fs.writeFileSync(path, "alpha\nbeta\ngamma\n");
    await run(function* () {
      using file = yield* openFile(path);
      assert.equal(yield* file.readLine(), "alpha");
      file.seek(file.readPosition); // drop the buffered rest, so the next read goes to the pool
      hook = holdCallbacks("read", () => true);
      yield* withTaskGroup<void>(function* (group) {
        const reader = group.spawn(() => file.readLine());
        yield* waitUntil(() => hook!.issued === 1);
        reader.cancel(); // the pool has not answered: the read is abandoned
        assert.ok((yield* thrown(() => reader.wait())) instanceof Cancelled);
      });
      assert.equal(file.readPosition, 6);
      assert.equal(file.buffered, 0);
      yield* waitUntil(() => hook!.finished === 1);
      hook!.release();
      hook!.restore();
      assert.equal(file.readPosition, 6, "the abandoned read's late result was not applied");
      assert.equal(yield* file.readLine(), "beta");
      assert.equal(yield* file.readLine(), "gamma");
      assert.equal(yield* file.readLine(), undefined);
    });
  } finally {
    hook?.restore();
    cleanup();
  }
});

test("close() during an abandoned read keeps the descriptor open until the read ends", {
  timeout: 60_000,
  skip: openPaths() === undefined,
}, async () => {
  const { dir, cleanup } = scratch();
  let hook: ReturnType<typeof holdCallbacks> | undefined;
  try {
    const path = join(dir, "data.txt");
    fs.writeFileSync(path, "x".repeat(100_000));
    const count = (): number => openPaths()!.filter((p) => p === path).length;
    await run(function* () {
      const file = yield* openFile(path);
      hook = holdCallbacks("read", () => true);
      yield* withTaskGroup<void>(function* (group) {
        const reader = group.spawn(() => file.readAll());
        yield* waitUntil(() => hook!.issued === 1);
        reader.cancel();
        yield* thrown(() => reader.wait());
      });
      file.close();
      assert.equal(count(), 1, "the pool may still be reading: the descriptor stays open");
      yield* waitUntil(() => hook!.finished === 1);
      hook!.release();
      hook!.restore();
      assert.equal(count(), 0, "released as soon as the abandoned read ended");
    });
  } finally {
    hook?.restore();
    cleanup();
  }
});

test("a FIFO read cut off by withTimeoutOpt loses nothing; seek on it is ESPIPE", {
  timeout: 60_000,
  skip: process.platform === "win32",
}, async () => {
  const { dir, cleanup } = scratch();
  try {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    await run(function* () {
      // "r+" opens a FIFO without waiting for a writer (Linux and macOS).
      using reader = yield* openFile(fifo, "r+");
      assert.equal(yield* withTimeoutOpt(50, () => reader.readLine()), undefined);
      assert.equal(reader.buffered, 0);
      using writer = yield* openFile(fifo, "w");
      yield* writer.write("after the timeout\nsecond\n");
      assert.equal(yield* reader.readLine(), "after the timeout");
      assert.equal(yield* reader.readLine(), "second");
      const error = (() => {
        try {
          reader.seek(0);
        } catch (e) {
          return e as Error & { code?: string };
        }
        return undefined;
      })();
      assert.equal(error?.code, "ESPIPE");
      assert.match(error?.message ?? "", /^File\.seek\(\): ESPIPE/);
    });
  } finally {
    cleanup();
  }
});

test("openFile in an already-cancelled task throws Cancelled and creates nothing", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "never.txt");
    const outcome = await run(() => inCancelledTask(() => openFile(path, "w")));
    assert.ok(outcome.error instanceof Cancelled);
    assert.equal(fs.existsSync(path), false);
  } finally {
    cleanup();
  }
});

test("a second concurrent reader of one File gets WeftUsageError; seek refuses during a read", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  let hook: ReturnType<typeof holdCallbacks> | undefined;
  try {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const path = join(dir, "plain.txt");
    fs.writeFileSync(path, "plain\n");
    await run(function* () {
      using file = yield* openFile(fifo, "r+");
      using plain = yield* openFile(path);
      // Only the plain file's read is held, so that it is surely still in flight below.
      let holding = true;
      hook = holdCallbacks("read", () => {
        const hold = holding;
        holding = false;
        return hold;
      });
      yield* withTaskGroup<void>(function* (group) {
        const plainReader = group.spawn(() => plain.readLine());
        yield* waitUntil(() => hook!.issued === 1);
        const first = group.spawn(() => file.readLine());
        yield* pause();
        yield* pause();
        assert.ok((yield* thrown(() => file.readLine())) instanceof WeftUsageError);
        assert.throws(
          () => plain.seek(0),
          (e: Error) => e instanceof WeftUsageError && e.message.startsWith("File.seek()"),
        );
        yield* waitUntil(() => hook!.finished === 1);
        hook!.release();
        hook!.restore();
        assert.equal(yield* plainReader.wait(), "plain");
        first.cancel();
        yield* thrown(() => first.wait());
      });
      // Unblock the abandoned read in the pool; its bytes go to the next read.
      using writer = yield* openFile(fifo, "w");
      yield* writer.write("kept\n");
      assert.equal(yield* file.readLine(), "kept");
    });
  } finally {
    hook?.restore();
    cleanup();
  }
});
