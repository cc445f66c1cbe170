/**
 * Helpers for the node_fs_* test files: a scratch directory per test, a way
 * to run an operation in a task that is already cancelled, a check of the
 * shape of weft's OS errors, and a way to hold back the completion of Node's
 * fs calls so that cancellation races are exact instead of timed.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import fsModule from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cancelled, sleep, withTaskGroup, type Operation } from "../../src/index.ts";

/** A fresh directory under the system temp dir; removed by `cleanup`. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(join(tmpdir(), "weft-fs-test-"));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` in a task that has been cancelled (and caught its Cancelled); returns what body returned or threw. */
export function* inCancelledTask<T>(body: () => Operation<T>): Operation<{ value?: T; error?: unknown }> {
  return yield* withTaskGroup<{ value?: T; error?: unknown }>(function* (group) {
    const task = group.spawn(function* () {
      try {
        yield* sleep(10_000);
      } catch (error) {
        if (!(error instanceof Cancelled)) throw error;
      }
      try {
        return { value: yield* body() };
      } catch (error) {
        return { error };
      }
    });
    yield* sleep(1);
    task.cancel();
    return yield* task.wait();
  });
}

/** Checks that `error` is weft's OS error for `api` with `code` about `path`. */
export function assertOsError(error: unknown, api: string, code: string, path: string): void {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  const e = error as Error & { code?: string; path?: string; errno?: number; syscall?: string };
  assert.equal(e.code, code, `code of: ${e.message}`);
  assert.ok(e.message.startsWith(`${api}: ${code}`), `message should start with "${api}: ${code}": ${e.message}`);
  assert.ok(e.message.includes(path), `message should name ${path}: ${e.message}`);
  assert.equal(e.path, path);
  assert.equal(typeof e.errno, "number");
  assert.equal(typeof e.syscall, "string");
}

/** The error an operation throws; fails if it succeeds. */
export function* thrown(op: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* op();
  } catch (error) {
    return error;
  }
  assert.fail("expected the operation to throw");
}

type Callback = (...results: unknown[]) => void;
export type HookName = "read" | "write" | "open";

/**
 * Holds back the completion callbacks of `fs[name]` calls for which `when`
 * is true: the OS call itself runs, but its task hears of it only when the
 * test calls `release()`.
 */
export function holdCallbacks(name: HookName, when: (args: unknown[]) => boolean) {
  const real = fsModule[name] as unknown as (...args: unknown[]) => void;
  const held: { results: unknown[] | undefined; callback: Callback }[] = [];
  let issued = 0;
  (fsModule as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    const callback = args.pop() as Callback;
    if (!when(args)) return real(...args, callback);
    issued++;
    const entry: { results: unknown[] | undefined; callback: Callback } = { results: undefined, callback };
    held.push(entry);
    real(...args, (...results: unknown[]) => {
      entry.results = results;
    });
  };
  syncBuiltinESMExports();
  return {
    /** How many held calls were issued. */
    get issued(): number {
      return issued;
    },
    /** How many held calls have finished in the OS (their callbacks still held). */
    get finished(): number {
      return held.filter((h) => h.results !== undefined).length;
    },
    /** Delivers every finished call's callback. */
    release(): void {
      for (const h of held.splice(0)) {
        if (h.results === undefined) throw new Error("release() before the OS call finished");
        h.callback(...h.results);
      }
    },
    restore(): void {
      (fsModule as unknown as Record<string, unknown>)[name] = real;
      syncBuiltinESMExports();
    },
  };
}
