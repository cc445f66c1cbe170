/**
 * The whole-file helpers and the path operations: what each does, ENOENT on
 * a missing path for every one of them, and how each meets cancellation.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, pause, run, withTaskGroup } from "../../src/index.ts";
import {
  appendFile,
  lockFile,
  mkdir,
  openFile,
  readDir,
  readFile,
  readTextFile,
  realpath,
  remove,
  rename,
  stat,
  walk,
  watch,
  writeFile,
} from "../../src/node.ts";
import { assertOsError, inCancelledTask, scratch, thrown } from "./fs_support.ts";

test("writeFile, appendFile, readFile and readTextFile round-trip bytes and text", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "a.txt");
    await run(function* () {
      yield* writeFile(path, "héllo");
      yield* appendFile(path, Uint8Array.of(0x0a, 0x21));
      const bytes = yield* readFile(path);
      assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype, "a plain Uint8Array, not a Buffer");
      assert.deepEqual(bytes, new Uint8Array([...new TextEncoder().encode("héllo"), 0x0a, 0x21]));
      assert.equal(yield* readTextFile(path), "héllo\n!");
      yield* writeFile(path, "replaced");
      assert.equal(yield* readTextFile(path), "replaced");
      yield* writeFile(path, "+more", { append: true });
      assert.equal(yield* readTextFile(path), "replaced+more");
      assertOsError(yield* thrown(() => writeFile(path, "x", { exclusive: true })), "writeFile()", "EEXIST", path);
      const fresh = join(dir, "fresh.txt");
      yield* writeFile(fresh, "new", { exclusive: true, mode: 0o600, flush: true });
      if (process.platform !== "win32") assert.equal(fs.statSync(fresh).mode & 0o777, 0o600);
    });
  } finally {
    cleanup();
  }
});

test("readTextFile rejects invalid UTF-8 with a TypeError naming the file", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "bad.txt");
    fs.writeFileSync(path, Uint8Array.of(0x61, 0xff, 0x62));
    const error = await run(() => thrown(() => readTextFile(path)));
    assert.ok(error instanceof TypeError);
    assert.ok((error as Error).message.includes(path));
  } finally {
    cleanup();
  }
});

test("mkdir, readDir, stat, realpath, rename and remove", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    await run(function* () {
      yield* mkdir(join(dir, "a"));
      yield* mkdir(join(dir, "a", "b", "c"), { recursive: true });
      yield* mkdir(join(dir, "a", "b"), { recursive: true }); // exists: fine with recursive
      assertOsError(yield* thrown(() => mkdir(join(dir, "a"))), "mkdir()", "EEXIST", join(dir, "a"));
      yield* writeFile(join(dir, "a", "file.txt"), "x");
      fs.symlinkSync(join(dir, "a", "b"), join(dir, "a", "link"));
      const entries = yield* readDir(join(dir, "a"), { sort: true });
      assert.deepEqual(entries, [
        { name: "b", isFile: false, isDirectory: true, isSymbolicLink: false },
        { name: "file.txt", isFile: true, isDirectory: false, isSymbolicLink: false },
        { name: "link", isFile: false, isDirectory: false, isSymbolicLink: true },
      ]);
      assert.deepEqual((yield* readDir(join(dir, "a"))).map((e) => e.name).sort(), ["b", "file.txt", "link"]);
      assert.equal((yield* stat(join(dir, "a", "link"))).isDirectory(), true);
      assert.equal((yield* stat(join(dir, "a", "link"), { followSymlinks: false })).isSymbolicLink(), true);
      assert.equal((yield* stat(join(dir, "a", "file.txt"))).size, 1);
      assert.equal(yield* realpath(join(dir, "a", "link", "..", "b")), fs.realpathSync(join(dir, "a", "b")));
      yield* rename(join(dir, "a", "file.txt"), join(dir, "a", "moved.txt"));
      assert.equal(fs.readFileSync(join(dir, "a", "moved.txt"), "utf8"), "x");
      yield* remove(join(dir, "a", "moved.txt"));
      yield* remove(join(dir, "a", "link"));
      assert.ok(fs.existsSync(join(dir, "a", "b")), "removing a link leaves its target");
      yield* remove(join(dir, "a", "b", "c")); // an empty directory
      assert.equal(((yield* thrown(() => remove(join(dir, "a")))) as { code?: string }).code, "ENOTEMPTY");
      yield* remove(join(dir, "a"), { recursive: true });
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  } finally {
    cleanup();
  }
});

test("every operation on a missing path throws code ENOENT naming the function and the path", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const missing = join(dir, "missing");
    const deep = join(missing, "child");
    await run(function* () {
      const cases: [string, () => Generator<unknown, unknown, unknown>, string][] = [
        ["openFile()", () => openFile(missing), missing],
        ["readFile()", () => readFile(missing), missing],
        ["readTextFile()", () => readTextFile(missing), missing],
        ["writeFile()", () => writeFile(deep, "x"), deep],
        ["appendFile()", () => appendFile(deep, "x"), deep],
        ["mkdir()", () => mkdir(deep), deep],
        ["readDir()", () => readDir(missing), missing],
        ["walk()", () => walk(missing, function* () {}), missing],
        ["remove()", () => remove(missing), missing],
        ["remove()", () => remove(missing, { recursive: true }), missing],
        ["rename()", () => rename(missing, join(dir, "other")), missing],
        ["stat()", () => stat(missing), missing],
        ["stat()", () => stat(missing, { followSymlinks: false }), missing],
        ["realpath()", () => realpath(missing), missing],
        ["watch()", () => watch(missing, function* () {}), missing],
        ["lockFile()", () => lockFile(join(missing, "x.lock")), join(missing, "x.lock")],
      ];
      for (const [api, op, path] of cases) {
        const error = yield* thrown(op);
        assert.equal((error as { code?: string }).code, "ENOENT", `${api}: ${String(error)}`);
        assertOsError(error, api, "ENOENT", path);
      }
      const renameError = (yield* thrown(() => rename(missing, join(dir, "other")))) as Error & { dest?: string };
      assert.equal(renameError.dest, join(dir, "other"));
      assert.ok((renameError as Error & { cause?: unknown }).cause instanceof Error, "Node's error is the cause");
    });
  } finally {
    cleanup();
  }
});

test("bad arguments give a TypeError or RangeError naming the function and the argument", { timeout: 60_000 }, async () => {
  await run(function* () {
    const expectations: [() => Generator<unknown, unknown, unknown>, RegExp, ErrorConstructor][] = [
      [() => readFile(1 as unknown as string), /^readFile\(\): path must be a path string/, TypeError],
      [() => writeFile("x", 5 as unknown as string), /^writeFile\(\): data must be a string or a Uint8Array/, TypeError],
      [() => writeFile("x", "y", { mode: 0o10000 }), /^writeFile\(\): options\.mode must be in/, RangeError],
      [() => appendFile("x", "y", { flush: "yes" as unknown as boolean }), /^appendFile\(\): options\.flush must be a boolean/, TypeError],
      [() => mkdir("x", { recursive: 1 as unknown as boolean }), /^mkdir\(\): options\.recursive must be a boolean/, TypeError],
      [() => rename("a", null as unknown as string), /^rename\(\): to must be a path string/, TypeError],
      [() => readDir("x", 3 as unknown as { sort: boolean }), /^readDir\(\): options must be an object/, TypeError],
      [() => remove(""), /^remove\(\): path must not be empty/, TypeError],
      [() => stat("a\0b"), /^stat\(\): path must not contain a NUL/, TypeError],
    ];
    for (const [op, message, kind] of expectations) {
      const error = yield* thrown(op);
      assert.ok(error instanceof kind, String(error));
      assert.match((error as Error).message, message);
    }
  });
});

test("changing operations refuse to start in a cancelled task; remove still works there", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    fs.writeFileSync(join(dir, "keep.txt"), "x");
    fs.mkdirSync(join(dir, "tree", "sub"), { recursive: true });
    fs.writeFileSync(join(dir, "tree", "sub", "f"), "x");
    await run(function* () {
      const ops: (() => Generator<unknown, unknown, unknown>)[] = [
        () => mkdir(join(dir, "new")),
        () => writeFile(join(dir, "new.txt"), "x"),
        () => appendFile(join(dir, "keep.txt"), "more"),
        () => rename(join(dir, "keep.txt"), join(dir, "renamed.txt")),
        () => readFile(join(dir, "keep.txt")),
        () => stat(dir),
      ];
      for (const op of ops) {
        const outcome = yield* inCancelledTask(op);
        assert.ok(outcome.error instanceof Cancelled, String(outcome.error));
      }
      assert.deepEqual(fs.readdirSync(dir).sort(), ["keep.txt", "tree"]);
      assert.equal(fs.readFileSync(join(dir, "keep.txt"), "utf8"), "x");
      const removed = yield* inCancelledTask(function* () {
        yield* remove(join(dir, "tree"), { recursive: true });
        yield* remove(join(dir, "keep.txt"));
      });
      assert.equal(removed.error, undefined);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  } finally {
    cleanup();
  }
});

test("a mkdir cancelled while it runs completes, and the cancellation comes at the next suspension", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const log: string[] = [];
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const task = group.spawn(function* () {
          yield* mkdir(join(dir, "made"));
          log.push("mkdir returned");
          yield* pause();
          log.push("not reached");
        });
        yield* pause();
        yield* pause();
        task.cancel();
        assert.ok((yield* thrown(() => task.wait())) instanceof Cancelled);
      });
    });
    assert.deepEqual(log, ["mkdir returned"]);
    assert.ok(fs.statSync(join(dir, "made")).isDirectory());
  } finally {
    cleanup();
  }
});

test("a readFile cancelled in flight returns Cancelled at once", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "big.bin");
    fs.writeFileSync(path, new Uint8Array(4 << 20));
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const task = group.spawn(() => readFile(path));
        yield* pause();
        yield* pause();
        task.cancel();
        assert.ok((yield* thrown(() => task.wait())) instanceof Cancelled);
      });
      assert.equal((yield* readFile(path)).length, 4 << 20, "the file is still readable");
    });
  } finally {
    cleanup();
  }
});
