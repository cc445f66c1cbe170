/**
 * Whole-file helpers: `readFile`, `readTextFile`, `writeFile`, `appendFile`,
 * on Node's promise API through `call`: reads are aborted on cancellation
 * (no effect), writes run to completion once started.
 */
import * as fsp from "node:fs/promises";
import { describe, type Operation } from "../../core/operation.ts";
import { decodeUtf8 } from "../../io/data.ts";
import { call } from "../../interop/call.ts";
import { completeOnceStarted } from "./fs_call.ts";
import { modeOption, osError, requireBoolean, requireOptions, requirePath } from "./os_error.ts";

/**
 * Options for {@link writeFile} and {@link appendFile}.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   const id = crypto.randomUUID();
 *   yield* writeFile(join(dir, "id.txt"), id, { exclusive: true, mode: 0o600, flush: true });
 *   try {
 *     yield* writeFile(join(dir, "id.txt"), "another", { exclusive: true });
 *   } catch (e) {
 *     console.log((e as OsError).code); // prints EEXIST: exclusive never replaces a file
 *   }
 * });
 * ```
 */
export interface WriteFileOptions {
  /** Permission of a created file (default 0o666 minus the umask). */
  mode?: number;
  /** Add to the end of the file instead of replacing its content. */
  append?: boolean;
  /** Fail with `EEXIST` if the file already exists. */
  exclusive?: boolean;
  /** `fsync` the file before returning, so the data is on the disk. */
  flush?: boolean;
}

/**
 * The whole content of the file at `path`. Cancelling aborts the read.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "image.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
 *   const bytes = yield* readFile(join(dir, "image.png"));
 *   console.log(bytes.length, bytes[1]); // prints 4 80
 * });
 * ```
 */
export function* readFile(path: string): Operation<Uint8Array> {
  requirePath("readFile()", "path", path);
  try {
    const buffer = yield* call((signal) => fsp.readFile(path, { signal }));
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw osError("readFile()", error);
  }
}

/**
 * The whole content of the file at `path` as UTF-8 text; a TypeError if it is
 * not valid UTF-8 (a leading byte-order mark is dropped). Cancelling aborts
 * the read.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "config.json"), '{ "debug": true }');
 *   const config = JSON.parse(yield* readTextFile(join(dir, "config.json")));
 *   console.log(config.debug); // prints true
 * });
 * ```
 */
export function* readTextFile(path: string): Operation<string> {
  requirePath("readTextFile()", "path", path);
  let buffer: Uint8Array;
  try {
    buffer = yield* call((signal) => fsp.readFile(path, { signal }));
  } catch (error) {
    throw osError("readTextFile()", error);
  }
  return decodeUtf8(`readTextFile() of '${path}'`, buffer);
}

function* write(api: string, path: unknown, data: unknown, options: unknown, append: boolean): Operation<void> {
  requirePath(api, "path", path);
  if (typeof data !== "string" && !(data instanceof Uint8Array)) {
    throw new TypeError(`${api}: data must be a string or a Uint8Array, got ${describe(data)}`);
  }
  const opts = requireOptions<WriteFileOptions>(api, options);
  const mode = modeOption(api, "options.mode", opts.mode);
  requireBoolean(api, "options.append", opts.append);
  requireBoolean(api, "options.exclusive", opts.exclusive);
  requireBoolean(api, "options.flush", opts.flush);
  const flag = (append || opts.append === true ? "a" : "w") + (opts.exclusive === true ? "x" : "");
  // Bytes handed to the OS cannot be taken back, and an aborted write would
  // leave part of `data` while reporting Cancelled (a retried append then
  // duplicates it): once started, the write completes.
  try {
    yield* completeOnceStarted(() => call(() => fsp.writeFile(path, data, { mode, flag, flush: opts.flush === true })));
  } catch (error) {
    throw osError(api, error);
  }
}

/**
 * Writes `data` (a string is written as UTF-8) to the file at `path`,
 * creating it or replacing its content. In a cancelled task it throws
 * `Cancelled` and does nothing; once started it completes even if the task
 * is cancelled meanwhile (the cancellation is thrown at the next suspension
 * point), so the file never holds part of `data` after a `Cancelled`.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   const result = { ok: true };
 *   yield* writeFile(join(dir, "out.json"), JSON.stringify(result));
 *   console.log(yield* readTextFile(join(dir, "out.json"))); // prints {"ok":true}
 * });
 * ```
 */
export function writeFile(path: string, data: string | Uint8Array, options?: WriteFileOptions): Operation<void> {
  return write("writeFile()", path, data, options, false);
}

/**
 * Adds `data` to the end of the file at `path`, creating it if needed
 * (`writeFile` with `append: true`; the same cancellation rule: it did
 * nothing or it appended all of `data`).
 *
 * @example
 * ```ts
 * yield* appendFile("app.log", `${new Date().toISOString()} started\n`);
 * ```
 */
export function appendFile(path: string, data: string | Uint8Array, options?: WriteFileOptions): Operation<void> {
  return write("appendFile()", path, data, options, true);
}
