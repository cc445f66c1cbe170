/**
 * `watch`: create/modify/remove events, none lost while the body is busy, the
 * ready point after which no change is missed, the end of a watch whose path
 * goes away, and no watcher left behind however it ends. No test sleeps and
 * hopes: changes are made after `onReady`, and waits poll with wide bounds.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, Queue, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { watch, type WatchEvent, type WatchOptions } from "../../src/node.ts";
import { Boom } from "../support.ts";
import { assertOsError, scratch, thrown } from "./fs_support.ts";

/** Active fs.watch handles, after letting Node finish closing handles (a handle's close completes in the next loop turn). */
async function watchers(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((name) => name === "FSEventWrap").length;
}

/** Polls `check` every few ms until it holds (fails the test after `ms`, far beyond what a loaded host needs). */
function* until(check: () => boolean, ms = 20_000): Operation<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail("condition not reached in time");
    yield* sleep(5);
  }
}

/** Options with an `onReady` that puts into the returned queue: `yield* ready.get()` waits for the watcher. */
function readyPoint(options: WatchOptions = {}): { ready: Queue<true>; options: WatchOptions } {
  const ready = new Queue<true>({ kind: "unbounded" });
  return { ready, options: { ...options, onReady: () => void ready.tryPut(true) } };
}

const LIMIT = { timeout: 60_000 };

test("watch reports create, modify and remove in a directory, and closes its watcher", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    const before = await watchers();
    const events: WatchEvent[] = [];
    const path = join(dir, "f.txt");
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const { ready, options } = readyPoint();
        group.startSoon(() =>
          watch(
            dir,
            function* (event) {
              events.push(event);
              if (event.kind === "remove" && event.name === "f.txt") return false;
            },
            options,
          ),
        );
        yield* ready.get();
        assert.equal(process.getActiveResourcesInfo().filter((n) => n === "FSEventWrap").length, before + 1);
        fs.writeFileSync(path, "one");
        yield* until(() => events.some((e) => e.kind === "create"));
        fs.appendFileSync(path, "two");
        yield* until(() => events.some((e) => e.kind === "modify"));
        fs.unlinkSync(path);
      });
    });
    assert.deepEqual(
      events.find((e) => e.kind === "create"),
      { kind: "create", name: "f.txt", path },
    );
    assert.ok(events.some((e) => e.kind === "modify" && e.path === path));
    assert.deepEqual(events.at(-1), { kind: "remove", name: "f.txt", path });
    assert.equal(await watchers(), before, "the watcher was closed when the body returned false");
  } finally {
    cleanup();
  }
});

test("a change made right after onReady is reported (onReady runs once the watcher is registered)", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    for (let i = 0; i < 20; i++) {
      let readyCalls = 0;
      const seen = await run(() =>
        watch(
          dir,
          function* (event) {
            return event.name !== `r${i}`;
          },
          {
            // The change is made inside onReady itself: the earliest moment a caller can act.
            onReady: () => {
              readyCalls++;
              fs.writeFileSync(join(dir, `r${i}`), "x");
            },
          },
        ),
      );
      assert.equal(seen, undefined);
      assert.equal(readyCalls, 1);
    }
  } finally {
    cleanup();
  }
});

test("watch on a file reports its modification with the file's own path", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "watched.txt");
    fs.writeFileSync(path, "a");
    const event = await run(function* () {
      return yield* withTaskGroup<WatchEvent | undefined>(function* (group) {
        let seen: WatchEvent | undefined;
        const { ready, options } = readyPoint();
        group.startSoon(() =>
          watch(
            path,
            function* (e) {
              seen = e;
              return false;
            },
            options,
          ),
        );
        yield* ready.get();
        fs.appendFileSync(path, "b");
        yield* until(() => seen !== undefined);
        return seen;
      });
    });
    assert.equal(event?.kind, "modify");
    assert.equal(event?.path, path);
  } finally {
    cleanup();
  }
});

test("events that arrive while the body is busy are queued, not lost", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    const created = new Set<string>();
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const { ready, options } = readyPoint();
        group.startSoon(() =>
          watch(
            dir,
            function* (event) {
              yield* sleep(30); // slow consumer: the other creations arrive while it is busy
              if (event.kind === "create") created.add(event.name);
              if (created.size === 5) return false;
            },
            options,
          ),
        );
        yield* ready.get();
        for (let i = 0; i < 5; i++) fs.writeFileSync(join(dir, `n${i}`), "x");
      });
    });
    assert.deepEqual([...created].sort(), ["n0", "n1", "n2", "n3", "n4"]);
  } finally {
    cleanup();
  }
});

test("cancelling watch (a timeout) or a failing body closes the watcher", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    const before = await watchers();
    let calls = 0;
    const result = await run(() =>
      withTimeoutOpt(50, () =>
        watch(dir, function* () {
          calls++;
        }),
      ),
    );
    assert.equal(result, undefined);
    assert.equal(calls, 0);
    assert.equal(await watchers(), before);

    const error = await run(function* () {
      return yield* withTaskGroup<unknown>(function* (group) {
        const { ready, options } = readyPoint();
        const task = group.spawn(
          () =>
            watch(
              dir,
              function* () {
                throw new Boom("body failed");
              },
              options,
            ),
          { allowFailure: true },
        );
        yield* ready.get();
        fs.writeFileSync(join(dir, "trigger"), "x");
        return yield* thrown(() => task.wait());
      });
    });
    assert.ok(error instanceof Boom);
    assert.equal(await watchers(), before);

    const cancelled = await run(function* () {
      return yield* withTaskGroup<unknown>(function* (group) {
        const { ready, options } = readyPoint();
        const task = group.spawn(() => watch(dir, function* () {}, options));
        yield* ready.get();
        task.cancel();
        return yield* thrown(() => task.wait());
      });
    });
    assert.ok(cancelled instanceof Cancelled);
    assert.equal(await watchers(), before);
  } finally {
    cleanup();
  }
});

for (const [what, recursive] of [
  ["a directory", false],
  ["a directory watched recursively", true],
] as const) {
  test(`watch on ${what} that is then removed ends with ENOENT after the earlier events, and releases its watcher`, LIMIT, async () => {
    const { dir, cleanup } = scratch();
    try {
      const watched = join(dir, "watched");
      fs.mkdirSync(watched);
      fs.writeFileSync(join(watched, "inside.txt"), "x");
      const before = await watchers();
      const events: WatchEvent[] = [];
      const error = await run(function* () {
        return yield* withTaskGroup<unknown>(function* (group) {
          const { ready, options } = readyPoint({ recursive });
          const task = group.spawn(
            () =>
              watch(
                watched,
                function* (event) {
                  events.push(event);
                },
                options,
              ),
            { allowFailure: true },
          );
          yield* ready.get();
          fs.rmSync(watched, { recursive: true });
          return yield* thrown(() => task.wait());
        });
      });
      assert.ok(error instanceof Error);
      assert.equal((error as Error & { code?: string }).code, "ENOENT");
      assert.match((error as Error).message, /^watch\(\): ENOENT/);
      assert.equal((error as Error & { path?: string }).path, watched);
      assert.deepEqual(
        events.filter((e) => e.name === "inside.txt"),
        [{ kind: "remove", name: "inside.txt", path: join(watched, "inside.txt") }],
        "the removal of the entry inside came first",
      );
      assert.equal(await watchers(), before, "the watcher was closed");
    } finally {
      cleanup();
    }
  });
}

test("watch on a file that is removed, or replaced by a rename, ends with ENOENT", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "watched.txt");
    const before = await watchers();
    for (const change of ["remove", "replace"] as const) {
      fs.writeFileSync(path, "a");
      const error = await run(function* () {
        return yield* withTaskGroup<unknown>(function* (group) {
          const { ready, options } = readyPoint();
          const task = group.spawn(() => watch(path, function* () {}, options), { allowFailure: true });
          yield* ready.get();
          if (change === "remove") {
            fs.unlinkSync(path);
          } else {
            fs.writeFileSync(`${path}.new`, "b");
            fs.renameSync(`${path}.new`, path);
          }
          return yield* thrown(() => task.wait());
        });
      });
      assert.equal((error as Error & { code?: string }).code, "ENOENT", `${change}: ${String(error)}`);
      assert.equal(await watchers(), before, `${change}: the watcher was closed`);
    }
  } finally {
    cleanup();
  }
});

test("watch checks its arguments, onReady included", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    await run(function* () {
      const bad = (yield* thrown(() => watch(dir, function* () {}, { onReady: 5 as unknown as () => void }))) as Error;
      assert.ok(bad instanceof TypeError);
      assert.match(bad.message, /^watch\(\): options\.onReady/);
      assertOsError(yield* thrown(() => watch(join(dir, "missing"), function* () {})), "watch()", "ENOENT", join(dir, "missing"));
    });
  } finally {
    cleanup();
  }
});
