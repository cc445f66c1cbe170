/**
 * `walk` (order, concurrency bound, exclude, failure) and `withTmpdir`
 * (removal on success, error and cancellation).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { Cancelled, run, sleep, suppressedErrors, withTimeoutOpt } from "../../src/index.ts";
import { walk, withTmpdir, writeFile } from "../../src/node.ts";
import { Boom } from "../support.ts";
import { scratch, thrown } from "./fs_support.ts";

/** root/{a/{a1,a2/{deep}},b,c/{c1}} with a file in some of them. */
function makeTree(root: string): void {
  for (const d of ["a/a1", "a/a2/deep", "b", "c/c1"]) fs.mkdirSync(join(root, d), { recursive: true });
  for (const f of ["top.txt", "a/x.txt", "a/a2/deep/y.txt", "c/z.txt"]) fs.writeFileSync(join(root, f), f);
}

const rel = (root: string, dir: string): string => relative(root, dir) || ".";

test("walk visits every directory once, with sorted names and entries", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    makeTree(dir);
    const seen = new Map<string, string[]>();
    await run(() =>
      walk(dir, function* (d, names, entries) {
        assert.deepEqual(
          entries.map((e) => e.name),
          names,
        );
        seen.set(rel(dir, d), names);
      }),
    );
    assert.deepEqual([...seen.keys()].sort(), [".", "a", "a/a1", "a/a2", "a/a2/deep", "b", "c", "c/c1"]);
    assert.deepEqual(seen.get("."), ["a", "b", "c", "top.txt"]);
    assert.deepEqual(seen.get("a"), ["a1", "a2", "x.txt"]);
    assert.deepEqual(seen.get("a/a2/deep"), ["y.txt"]);
  } finally {
    cleanup();
  }
});

test("walk with maxConcurrency 1 is breadth-first in name order; a body starts before its sub-directories' bodies", {
  timeout: 60_000,
}, async () => {
  const { dir, cleanup } = scratch();
  try {
    makeTree(dir);
    const order: string[] = [];
    await run(() =>
      walk(
        dir,
        function* (d) {
          order.push(rel(dir, d));
          yield* sleep(1);
        },
        { maxConcurrency: 1 },
      ),
    );
    assert.deepEqual(order, [".", "a", "b", "c", "a/a1", "a/a2", "c/c1", "a/a2/deep"]);

    const started: string[] = [];
    await run(() =>
      walk(dir, function* (d) {
        started.push(rel(dir, d));
        yield* sleep(5);
      }),
    );
    for (const d of started) {
      if (d === ".") continue;
      const parent = rel(dir, dirname(join(dir, d)));
      assert.ok(started.indexOf(parent) < started.indexOf(d), `${parent} should start before ${d}: ${started.join(" ")}`);
    }
  } finally {
    cleanup();
  }
});

test("walk keeps at most maxConcurrency directories in their bodies at once", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    for (let i = 0; i < 12; i++) fs.mkdirSync(join(dir, `d${i}`, "inner"), { recursive: true });
    for (const limit of [2, 5]) {
      let active = 0;
      let peak = 0;
      let visited = 0;
      await run(() =>
        walk(
          dir,
          function* () {
            active++;
            visited++;
            peak = Math.max(peak, active);
            yield* sleep(10);
            active--;
          },
          { maxConcurrency: limit },
        ),
      );
      assert.equal(visited, 25);
      assert.equal(peak, limit, `peak ${peak} with maxConcurrency ${limit}`);
    }
  } finally {
    cleanup();
  }
});

test("walk skips excluded sub-directories but still names them", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    makeTree(dir);
    const seen: string[] = [];
    const asked: string[] = [];
    await run(() =>
      walk(
        dir,
        function* (d, names) {
          seen.push(rel(dir, d));
          if (d === dir) assert.ok(names.includes("a"));
        },
        {
          exclude: (path) => {
            asked.push(rel(dir, path));
            return path === join(dir, "a");
          },
        },
      ),
    );
    assert.deepEqual(seen.sort(), [".", "b", "c", "c/c1"]);
    assert.ok(!asked.includes("."), "the root is never excluded");
    assert.deepEqual(asked.sort(), ["a", "b", "c", "c/c1"]);
  } finally {
    cleanup();
  }
});

test("a failing body fails the walk and cancels the rest, unless allowFailure", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    makeTree(dir);
    const cancelled: string[] = [];
    const error = await run(() =>
      thrown(() =>
        walk(dir, function* (d) {
          if (d === join(dir, "b")) throw new Boom("bad dir b");
          try {
            yield* sleep(10_000);
          } catch (e) {
            if (e instanceof Cancelled) cancelled.push(rel(dir, d));
            throw e;
          }
        }),
      ),
    );
    assert.ok(error instanceof Boom);
    assert.ok(cancelled.includes("."), `the others were cancelled: ${cancelled.join(" ")}`);

    const seen: string[] = [];
    await run(() =>
      walk(
        dir,
        function* (d) {
          seen.push(rel(dir, d));
          if (d === dir || d === join(dir, "a")) throw new Boom("ignored");
        },
        { allowFailure: true },
      ),
    );
    assert.deepEqual(seen.sort(), [".", "a", "a/a1", "a/a2", "a/a2/deep", "b", "c", "c/c1"]);
  } finally {
    cleanup();
  }
});

test("walk checks its arguments", { timeout: 60_000 }, async () => {
  await run(function* () {
    const body = function* (): Generator<never, void> {};
    const cases: [() => Generator<unknown, unknown, unknown>, ErrorConstructor, RegExp][] = [
      [() => walk(".", null as unknown as typeof body), TypeError, /^walk\(\): body must be/],
      [() => walk(".", body, { maxConcurrency: 0 }), RangeError, /^walk\(\): options\.maxConcurrency must be an integer >= 1/],
      [() => walk(".", body, { exclude: "x" as unknown as () => boolean }), TypeError, /^walk\(\): options\.exclude must be/],
      [() => walk(".", body, { allowFailure: 1 as unknown as boolean }), TypeError, /^walk\(\): options\.allowFailure/],
    ];
    for (const [op, kind, message] of cases) {
      const error = yield* thrown(op);
      assert.ok(error instanceof kind, String(error));
      assert.match((error as Error).message, message);
    }
  });
});

test("withTmpdir gives a fresh 0700 directory under os.tmpdir() and removes it after success", { timeout: 60_000 }, async () => {
  let seen = "";
  const result = await run(() =>
    withTmpdir(function* (dir) {
      seen = dir;
      assert.equal(dirname(dir), tmpdir());
      assert.ok(fs.statSync(dir).isDirectory());
      if (process.platform !== "win32") assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      fs.mkdirSync(join(dir, "sub"));
      yield* writeFile(join(dir, "sub", "f.txt"), "x");
      return 7;
    }),
  );
  assert.equal(result, 7);
  assert.ok(seen !== "");
  assert.equal(fs.existsSync(seen), false);
});

test("withTmpdir removes its directory when the body fails", { timeout: 60_000 }, async () => {
  let seen = "";
  const error = await run(() =>
    thrown(() =>
      withTmpdir(function* (dir) {
        seen = dir;
        yield* writeFile(join(dir, "f.txt"), "x");
        throw new Boom();
      }),
    ),
  );
  assert.ok(error instanceof Boom);
  assert.deepEqual(suppressedErrors(error), []);
  assert.equal(fs.existsSync(seen), false);
});

test("withTmpdir removes its directory when the body is cancelled", { timeout: 60_000 }, async () => {
  let seen = "";
  const result = await run(() =>
    withTimeoutOpt(50, () =>
      withTmpdir(function* (dir) {
        seen = dir;
        yield* writeFile(join(dir, "f.txt"), "x");
        yield* sleep(10_000);
        return "finished";
      }),
    ),
  );
  assert.equal(result, undefined);
  assert.ok(seen !== "");
  assert.equal(fs.existsSync(seen), false);
});

test("withTmpdir names distinct directories with the given prefix", { timeout: 60_000 }, async () => {
  const dirs = await run(function* () {
    const a = yield* withTmpdir(
      function* (dir) {
        return dir;
      },
      { prefix: "weft-prefix-" },
    );
    const b = yield* withTmpdir(
      function* (dir) {
        return dir;
      },
      { prefix: "weft-prefix-" },
    );
    return [a, b];
  });
  assert.notEqual(dirs[0], dirs[1]);
  for (const d of dirs) assert.match(d, /weft-prefix-[^/]+$/);
  assert.throws(() => withTmpdir(function* () {}, { prefix: "a/b" }).next(), TypeError);
});
