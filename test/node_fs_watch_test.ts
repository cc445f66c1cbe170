/**
 * `watch`: create/modify/remove events, none lost while the body is busy,
 * and no watcher left behind however it ends.
 */
import { test } from "node:test";
import "./unhandled_guard.ts";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../src/index.ts";
import { watch, type WatchEvent } from "../src/node.ts";
import { Boom } from "./support.ts";
import { scratch, thrown } from "./node_fs_support.ts";

/** Active fs.watch handles, after letting Node finish closing handles (a handle's close completes in the next loop turn). */
async function watchers(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((name) => name === "FSEventWrap").length;
}

/** Polls `check` every few ms until it holds (fails the test after `ms`). */
function* until(check: () => boolean, ms = 5_000): Operation<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail("condition not reached in time");
    yield* sleep(5);
  }
}

test("watch reports create, modify and remove in a directory, and closes its watcher", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const before = await watchers();
    const events: WatchEvent[] = [];
    const path = join(dir, "f.txt");
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.spawnBg(() =>
          watch(dir, function* (event) {
            events.push(event);
            if (event.kind === "remove" && event.name === "f.txt") return false;
          }),
        );
        yield* sleep(20);
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

test("watch on a file reports its modification with the file's own path", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "watched.txt");
    fs.writeFileSync(path, "a");
    const event = await run(function* () {
      return yield* withTaskGroup<WatchEvent | undefined>(function* (group) {
        let seen: WatchEvent | undefined;
        group.spawnBg(() =>
          watch(path, function* (e) {
            seen = e;
            return false;
          }),
        );
        yield* sleep(20);
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

test("events that arrive while the body is busy are queued, not lost", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const created = new Set<string>();
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.spawnBg(() =>
          watch(dir, function* (event) {
            yield* sleep(30); // slow consumer
            if (event.kind === "create") created.add(event.name);
            if (created.size === 5) return false;
          }),
        );
        yield* sleep(20);
        for (let i = 0; i < 5; i++) {
          fs.writeFileSync(join(dir, `n${i}`), "x");
          yield* sleep(5);
        }
      });
    });
    assert.deepEqual([...created].sort(), ["n0", "n1", "n2", "n3", "n4"]);
  } finally {
    cleanup();
  }
});

test("cancelling watch (a timeout) or a failing body closes the watcher", { timeout: 30_000 }, async () => {
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
        const task = group.spawn(() =>
          watch(dir, function* () {
            throw new Boom("body failed");
          }),
          { allowFailure: true },
        );
        yield* sleep(20);
        fs.writeFileSync(join(dir, "trigger"), "x");
        return yield* thrown(() => task.wait());
      });
    });
    assert.ok(error instanceof Boom);
    assert.equal(await watchers(), before);

    const cancelled = await run(function* () {
      return yield* withTaskGroup<unknown>(function* (group) {
        const task = group.spawn(() => watch(dir, function* () {}));
        yield* sleep(20);
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
