/**
 * Helpers for the node_fs_* test files: a scratch directory per test, a way
 * to run an operation in a task that is already cancelled, and a check of
 * the shape of weft's OS errors.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cancelled, sleep, withTaskGroup, type Operation } from "../src/index.ts";

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
