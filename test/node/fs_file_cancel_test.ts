/**
 * A File under cancellation: a read or write either had no effect or
 * completed, never both, and one that completed hands its result over. The
 * OS calls are held back at chosen points (by wrapping Node's fs callbacks),
 * so every interleaving here is exact, with no timing involved.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, pause, run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { openFile, type File } from "../../src/node.ts";
import { holdCallbacks, scratch } from "./fs_support.ts";

/** Polls (pausing, so the IO callbacks run) until `check` holds; generous bound. */
function* until(check: () => boolean, what: string): Operation<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    yield* sleep(1);
  }
}

const LIMIT = { timeout: 60_000 };

for (const flags of ["w", "a"] as const) {
  test(
    `a write cancelled while its OS call runs (flags "${flags}") completes and returns; it is never both Cancelled and written`,
    LIMIT,
    async () => {
      const { dir, cleanup } = scratch();
      let hook: ReturnType<typeof holdCallbacks> | undefined;
      try {
        const path = join(dir, "out.txt");
        const outcome = await run(function* () {
          const file = yield* openFile(path, flags);
          try {
            yield* file.write("head\n");
            hook = holdCallbacks("write", (args) => (args[1] as Uint8Array).length === 7);
            const result = yield* withTaskGroup<{ returned: boolean; error?: unknown; endedWhileHeld: boolean }>(function* (group) {
              const writer = group.spawn(
                function* () {
                  yield* file.write("record\n");
                  return "returned";
                },
                { allowFailure: true },
              );
              yield* until(() => hook!.finished === 1, "the write to reach the disk");
              writer.cancel();
              // Give the cancellation every chance to end the writer early.
              for (let i = 0; i < 5; i++) yield* pause();
              const endedWhileHeld = writer.done;
              hook!.release();
              try {
                yield* writer.wait();
                return { returned: true, endedWhileHeld };
              } catch (error) {
                return { returned: false, error, endedWhileHeld };
              }
            });
            hook.restore();
            const position = file.writePosition;
            yield* file.write("tail\n");
            return { ...result, position };
          } finally {
            file.close();
          }
        });
        const content = fs.readFileSync(path, "utf8");
        assert.equal(content, "head\nrecord\ntail\n", "the record's bytes landed (the OS call could not be stopped)");
        assert.equal(outcome.endedWhileHeld, false, "the cancelled writer waited for its write");
        assert.equal(outcome.returned, true, `so the write reports success, not ${String(outcome.error)}`);
        if (flags === "w") assert.equal(outcome.position, 12, "and the write position moved past it");
      } finally {
        hook?.restore();
        cleanup();
      }
    },
  );
}

test("a write in a task already cancelled throws Cancelled and writes nothing", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "out.txt");
    await run(function* () {
      using file = yield* openFile(path, "w");
      const error = yield* withTaskGroup<unknown>(function* (group) {
        const writer = group.spawn(
          function* () {
            try {
              yield* sleep(60_000);
            } catch {
              // swallow the first Cancelled, then try to write in the cancelled task
            }
            yield* file.write("never\n");
          },
          { allowFailure: true },
        );
        yield* pause();
        writer.cancel();
        try {
          yield* writer.wait();
          return undefined;
        } catch (e) {
          return e;
        }
      });
      assert.ok(error instanceof Cancelled);
      assert.equal(file.writePosition, 0);
    });
    assert.equal(fs.readFileSync(path, "utf8"), "");
  } finally {
    cleanup();
  }
});

test("a read whose OS call finished in the same moment as the cancellation delivers its line", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  let hook: ReturnType<typeof holdCallbacks> | undefined;
  try {
    const path = join(dir, "lines.txt");
    fs.writeFileSync(path, "one\ntwo\n");
    const result = await run(function* () {
      using file = yield* openFile(path);
      hook = holdCallbacks("read", () => true);
      const got = yield* withTaskGroup<{ value?: string; error?: unknown }>(function* (group) {
        const reader = group.spawn(() => file.readLine(), { allowFailure: true });
        yield* until(() => hook!.finished === 1, "the read to finish in the OS");
        // The completion and the cancellation reach the reader in the same round.
        hook!.release();
        reader.cancel();
        try {
          return { value: yield* reader.wait() };
        } catch (error) {
          return { error };
        }
      });
      hook.restore();
      const next = yield* file.readLine();
      return { got, next, position: file.readPosition };
    });
    assert.deepEqual(result.got, { value: "one" }, "settlement wins: the line is delivered");
    assert.equal(result.next, "two", "and the next read goes on after it");
  } finally {
    hook?.restore();
    cleanup();
  }
});

test("a read cancelled before its OS call finished had no effect: the line is read again", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  let hook: ReturnType<typeof holdCallbacks> | undefined;
  try {
    const path = join(dir, "lines.txt");
    fs.writeFileSync(path, "one\ntwo\n");
    const result = await run(function* () {
      using file = yield* openFile(path);
      hook = holdCallbacks("read", () => true);
      const error = yield* withTaskGroup<unknown>(function* (group) {
        const reader = group.spawn(() => file.readLine(), { allowFailure: true });
        yield* until(() => hook!.issued === 1, "the read to be issued");
        reader.cancel();
        try {
          yield* reader.wait();
          return undefined;
        } catch (e) {
          return e;
        }
      });
      const position = file.readPosition;
      yield* until(() => hook!.finished === 1, "the abandoned read to finish");
      hook!.release(); // its late result must not be applied
      hook.restore();
      return { error, position, after: file.readPosition, lines: [yield* file.readLine(), yield* file.readLine()] };
    });
    assert.ok(result.error instanceof Cancelled);
    assert.equal(result.position, 0);
    assert.equal(result.after, 0, "the late result moved nothing");
    assert.deepEqual(result.lines, ["one", "two"]);
  } finally {
    hook?.restore();
    cleanup();
  }
});

test("an openFile that creates, cancelled while the OS opens, returns the file it created", LIMIT, async () => {
  const { dir, cleanup } = scratch();
  let hook: ReturnType<typeof holdCallbacks> | undefined;
  try {
    const path = join(dir, "new.txt");
    const outcome = await run(function* () {
      hook = holdCallbacks("open", (args) => args[0] === path);
      return yield* withTaskGroup<{ file?: File; error?: unknown; endedWhileHeld: boolean }>(function* (group) {
        const opener = group.spawn(() => openFile(path, "wx"), { allowFailure: true });
        yield* until(() => hook!.finished === 1, "the file to be created");
        opener.cancel();
        for (let i = 0; i < 5; i++) yield* pause();
        const endedWhileHeld = opener.done;
        hook!.release();
        try {
          return { file: yield* opener.wait(), endedWhileHeld };
        } catch (error) {
          return { error, endedWhileHeld };
        }
      });
    });
    hook?.restore();
    assert.equal(fs.existsSync(path), true, "the OS created the file");
    assert.equal(outcome.endedWhileHeld, false, "the cancelled opener waited for its open");
    assert.ok(outcome.file !== undefined, `so it returns the file, not ${String(outcome.error)}`);
    outcome.file.close();
  } finally {
    hook?.restore();
    cleanup();
  }
});
