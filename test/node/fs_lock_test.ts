/**
 * `lockFile`: exclusion between tasks of this process and between processes,
 * waiting and acquiring after a release, cancellation of a waiter, and
 * recovery of a lock whose holder died.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import fsModule from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pause, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { lockFile, type FileLock } from "../../src/node.ts";
import { scratch } from "./fs_support.ts";

const distSrc = fileURLToPath(new URL("../../src/", import.meta.url));

/** A child node process that takes the lock: "acquire" prints "acquired" and releases; "hold" prints "locked" and holds until its stdin ends. */
function child(
  mode: "acquire" | "hold",
  path: string,
): { proc: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const code = `
    import { run } from ${JSON.stringify(join(distSrc, "index.js"))};
    import { lockFile } from ${JSON.stringify(join(distSrc, "node.js"))};
    const [mode, path] = process.argv.slice(1);
    const lock = await run(() => lockFile(path));
    if (mode === "acquire") {
      process.stdout.write("acquired\\n");
      lock.release();
    } else {
      process.stdout.write("locked\\n");
      process.stdin.resume();
      process.stdin.on("end", () => lock.release());
    }
  `;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", code, mode, path], { stdio: "pipe" });
  let out = "";
  proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (status) => resolve(status)));
  return { proc, output: () => out, exited };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ownerPid = (path: string): number => Number(fs.readFileSync(path, "utf8").split("\n")[0]);

test("a second holder in this process waits; it acquires once the first releases; a cancelled waiter leaves no lock", {
  timeout: 30_000,
}, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "app.lock");
    const order: string[] = [];
    await run(function* () {
      const first = yield* lockFile(path);
      assert.equal(first.held, true);
      assert.equal(first.path, path);
      assert.equal(ownerPid(path), process.pid);
      const firstRecord = fs.readFileSync(path, "utf8");
      assert.equal(yield* withTimeoutOpt(100, () => lockFile(path)), undefined, "excluded while held");
      assert.equal(fs.readFileSync(path, "utf8"), firstRecord, "the cancelled waiter took nothing");
      assert.deepEqual(fs.readdirSync(dir), ["app.lock"], "and left no other file");
      yield* withTaskGroup<void>(function* (group) {
        const second = group.spawn(function* () {
          const lock = yield* lockFile(path);
          order.push("second acquired");
          lock.release();
        });
        yield* sleep(50);
        order.push("first releases");
        first.release();
        first.release(); // idempotent
        assert.equal(first.held, false);
        yield* second.wait();
      });
    });
    assert.deepEqual(order, ["first releases", "second acquired"]);
    assert.equal(fs.existsSync(path), false, "released: the lock file is gone");
    await run(function* () {
      {
        using lock = yield* lockFile(path);
        assert.ok(lock.held && fs.existsSync(path));
      }
      assert.equal(fs.existsSync(path), false, "leaving a using block releases");
    });
  } finally {
    cleanup();
  }
});

test("many tasks contending for one lock hold it one at a time", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "busy.lock");
    let inside = 0;
    let peak = 0;
    let done = 0;
    await run(() =>
      withTaskGroup<void>(function* (group) {
        for (let i = 0; i < 8; i++) {
          group.startSoon(function* () {
            using _lock = yield* lockFile(path);
            inside++;
            peak = Math.max(peak, inside);
            yield* sleep(3);
            inside--;
            done++;
          });
        }
      }),
    );
    assert.equal(done, 8);
    assert.equal(peak, 1);
  } finally {
    cleanup();
  }
});

test("a child process waits for a lock this process holds, and gets it after the release", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "shared.lock");
    const lock = await run(() => lockFile(path));
    const c = child("acquire", path);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(c.output(), "", "the child is still waiting");
    lock.release();
    assert.equal(await c.exited, 0, c.output());
    assert.equal(c.output(), "acquired\n");
    assert.equal(fs.existsSync(path), false);
  } finally {
    cleanup();
  }
});

test("this process waits for a lock a child holds, and gets it after the child releases", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "shared.lock");
    const c = child("hold", path);
    await waitFor(() => c.output().includes("locked"), "the child to take the lock");
    assert.equal(ownerPid(path), c.proc.pid);
    assert.equal(await run(() => withTimeoutOpt(200, () => lockFile(path))), undefined, "excluded by the child");
    c.proc.stdin.end();
    const lock: FileLock = await run(() => lockFile(path));
    assert.equal(ownerPid(path), process.pid);
    lock.release();
    assert.equal(await c.exited, 0, c.output());
  } finally {
    cleanup();
  }
});

test("a lock left by a killed process is recovered", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "stale.lock");
    const c = child("hold", path);
    await waitFor(() => c.output().includes("locked"), "the child to take the lock");
    c.proc.kill("SIGKILL");
    await c.exited;
    assert.ok(fs.existsSync(path), "a killed holder leaves its lock file");
    const lock = await run(() => lockFile(path));
    assert.equal(ownerPid(path), process.pid);
    lock.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    cleanup();
  }
});

test("stale-lock rules: our own pid without our token is stale; a young empty file and another host's lock are not", {
  timeout: 30_000,
}, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "rules.lock");
    // Left by an earlier process that had this pid.
    fs.writeFileSync(path, `${process.pid}\n${hostname()}\nsomeone-else\n`);
    const lock = await run(() => lockFile(path));
    lock.release();

    // A holder that is still writing its record.
    fs.writeFileSync(path, "");
    assert.equal(await run(() => withTimeoutOpt(100, () => lockFile(path))), undefined);
    // The same empty file, old: its writer died while creating it.
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path, old, old);
    (await run(() => lockFile(path))).release();

    // A lock from another host is never broken, even if the pid is not running here.
    fs.writeFileSync(path, `999999999\nanother-host.invalid\ntoken\n`);
    assert.equal(await run(() => withTimeoutOpt(100, () => lockFile(path))), undefined);
    assert.ok(fs.readFileSync(path, "utf8").startsWith("999999999\n"));
  } finally {
    cleanup();
  }
});

test("lockFile checks its argument", { timeout: 30_000 }, async () => {
  await run(function* () {
    try {
      yield* lockFile(7 as unknown as string);
      assert.fail("should have thrown");
    } catch (error) {
      assert.ok(error instanceof TypeError);
      assert.match((error as Error).message, /^lockFile\(\): path must be a path string/);
    }
  });
});

test("20 tasks of one process taking one lock 100 times each never hold it two at a time", { timeout: 120_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "hot.lock");
    const TASKS = 20;
    const ROUNDS = 100;
    let inside = 0;
    let peak = 0;
    let violations = 0;
    let acquisitions = 0;
    await run(() =>
      withTaskGroup<void>(function* (group) {
        for (let t = 0; t < TASKS; t++) {
          group.spawn(function* () {
            for (let i = 0; i < ROUNDS; i++) {
              using _lock = yield* lockFile(path);
              inside++;
              acquisitions++;
              if (inside > 1) violations++;
              peak = Math.max(peak, inside);
              // Suspend while holding, so that a second holder, if any, gets to run inside.
              yield* pause();
              yield* pause();
              inside--;
            }
          });
        }
      }),
    );
    assert.equal(acquisitions, TASKS * ROUNDS);
    assert.equal(violations, 0, `${violations} acquisitions found another holder inside`);
    assert.equal(peak, 1);
    assert.equal(fs.existsSync(path), false, "the last holder removed the lock file");
  } finally {
    cleanup();
  }
});

test("a waiter of this process never breaks a lock another task of it is still creating", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  const realWriteFile = fsModule.writeFile;
  const realReadFile = fsModule.readFile;
  try {
    const path = join(dir, "creating.lock");
    // Hold back the completion of the first creation of the lock file: its
    // record is complete on disk, but its task has not heard back yet. This is
    // the window a waiter of the same process used to mistake for a stale lock.
    let written = false;
    let finishCreation: (() => void) | undefined;
    let recordReads = 0;
    fsModule.writeFile = ((...args: unknown[]) => {
      const callback = args.pop() as (error: NodeJS.ErrnoException | null) => void;
      const held = args[0] === path && finishCreation === undefined && !written;
      (realWriteFile as (...a: unknown[]) => void)(...args, (error: NodeJS.ErrnoException | null) => {
        if (!held || error !== null) return callback(error);
        written = true;
        finishCreation = () => callback(null);
      });
    }) as typeof fsModule.writeFile;
    fsModule.readFile = ((...args: unknown[]) => {
      if (args[0] === path) recordReads++;
      return (realReadFile as (...a: unknown[]) => void)(...args);
    }) as typeof fsModule.readFile;
    syncBuiltinESMExports();

    let inside = 0;
    let violations = 0;
    const order: string[] = [];
    let heldDuringCreation: string[] = [];
    await run(() =>
      withTaskGroup<void>(function* (group) {
        const hold = function* (name: string): Operation<void> {
          using _lock = yield* lockFile(path);
          inside++;
          if (inside > 1) violations++;
          order.push(name);
          yield* pause();
          inside--;
        };
        group.spawn(() => hold("creator"));
        while (!written) yield* sleep(1);
        group.spawn(() => hold("waiter"));
        // The waiter has looked at the record and gone round its loop more than once.
        while (recordReads < 3 && order.length === 0) yield* sleep(1);
        heldDuringCreation = [...order];
        finishCreation!();
      }),
    );
    assert.deepEqual(heldDuringCreation, [], "nobody holds the lock while its creation is in flight");
    assert.equal(violations, 0);
    assert.deepEqual(order, ["creator", "waiter"]);
  } finally {
    fsModule.writeFile = realWriteFile;
    fsModule.readFile = realReadFile;
    syncBuiltinESMExports();
    cleanup();
  }
});
