/**
 * `withTmpdir`: a private temporary directory for the length of a body.
 */
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callBody } from "../../core/cancel.ts";
import { addSuppressed } from "../../core/errors.ts";
import { describe, requireFunction, type Operation } from "../../core/operation.ts";
import { fsChange } from "./fs_call.ts";
import { requireOptions } from "./os_error.ts";
import { remove } from "./paths.ts";

/**
 * Options for {@link withTmpdir}.
 *
 * @example
 * ```ts
 * import { basename } from "node:path";
 *
 * const options: TmpdirOptions = { prefix: "report-" };
 * const name = yield* withTmpdir(function* (dir) {
 *   return basename(dir);
 * }, options);
 * console.log(name.startsWith("report-")); // prints true
 * ```
 */
export interface TmpdirOptions {
  /** The start of the directory's name (default `"weft-"`); random characters follow. */
  prefix?: string;
}

/**
 * Creates a new directory under the system's temporary directory, readable
 * only by this user (0700), runs `body(dir)` and removes the directory with
 * everything in it when `body` ends: after success, after an error and after
 * cancellation (removal is shielded). An error from `body` wins over an
 * error from the removal, which is then in `suppressedErrors(error)`.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * const text = yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "input.txt"), "some input\n");
 *   return yield* readTextFile(join(dir, "input.txt"));
 * });
 * console.log(text); // prints some input (and the directory is gone)
 * ```
 */
export function* withTmpdir<T>(body: (dir: string) => Operation<T>, options?: TmpdirOptions): Operation<T> {
  requireFunction("withTmpdir()", "body", body);
  const opts = requireOptions<{ prefix: string }>("withTmpdir()", options);
  const prefix = opts.prefix ?? "weft-";
  if (typeof prefix !== "string" || /[/\\\0]/.test(prefix)) {
    throw new TypeError(`withTmpdir(): options.prefix must be a string without path separators or NUL, got ${describe(prefix)}`);
  }
  const dir = yield* fsChange<string>("withTmpdir()", (done) => fs.mkdtemp(join(tmpdir(), prefix), done));
  let result: T;
  try {
    result = yield* callBody("withTmpdir()", () => body(dir));
  } catch (error) {
    try {
      yield* remove(dir, { recursive: true });
    } catch (removeError) {
      throw addSuppressed(error, removeError);
    }
    throw error;
  }
  yield* remove(dir, { recursive: true });
  return result;
}
