/**
 * Operations on paths: `mkdir`, `remove`, `rename`, `stat`, `realpath`.
 * The ones that change something run to completion once started (see
 * fs_call.ts); the ones that only look are abandoned on cancellation.
 */
import * as fs from "node:fs";
import { protectFromCancel } from "../../core/cancel.ts";
import type { Operation } from "../../core/operation.ts";
import { fsChange, fsLook } from "./fs_call.ts";
import { modeOption, requireBoolean, requireOptions, requirePath, type OsError } from "./os_error.ts";

/**
 * Options for {@link mkdir}.
 *
 * @example
 * ```ts
 * const options: MkdirOptions = { recursive: true, mode: 0o700 };
 * yield* withTmpdir(function* (dir) {
 *   yield* mkdir(`${dir}/a/b`, options);
 *   console.log((yield* stat(`${dir}/a/b`)).isDirectory()); // prints true
 * });
 * ```
 */
export interface MkdirOptions {
  /** Create missing parents too, and accept an existing directory (default false). */
  recursive?: boolean;
  /** The permission bits of a new directory (default 0o777, minus the umask). */
  mode?: number;
}

/**
 * Creates the directory `path` (`mode` default 0o777 minus the umask). With
 * `recursive`, missing parents are created too and an existing directory is
 * not an error. Once started it completes even if the task is cancelled
 * meanwhile (the cancellation is thrown at the next suspension point).
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* mkdir(join(dir, "build", "cache"), { recursive: true });
 *   console.log((yield* stat(join(dir, "build", "cache"))).isDirectory()); // prints true
 * });
 * ```
 */
export function* mkdir(path: string, options?: MkdirOptions): Operation<void> {
  requirePath("mkdir()", "path", path);
  const opts = requireOptions<{ recursive: boolean; mode: number }>("mkdir()", options);
  requireBoolean("mkdir()", "options.recursive", opts.recursive);
  const mode = modeOption("mkdir()", "options.mode", opts.mode);
  yield* fsChange<unknown>("mkdir()", (done) =>
    fs.mkdir(path, { recursive: opts.recursive === true, mode }, (error, created) => done(error, created)),
  );
}

/**
 * Renames (moves) `from` to `to`, replacing `to` if it is a file (as
 * `rename(2)`). Once started it completes even if the task is cancelled
 * meanwhile.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   const text = JSON.stringify({ port: 8080 });
 *   yield* writeFile(join(dir, "config.json.tmp"), text);
 *   yield* rename(join(dir, "config.json.tmp"), join(dir, "config.json")); // atomic replace
 *   console.log(yield* readTextFile(join(dir, "config.json"))); // prints {"port":8080}
 * });
 * ```
 */
export function* rename(from: string, to: string): Operation<void> {
  requirePath("rename()", "from", from);
  requirePath("rename()", "to", to);
  yield* fsChange<void>("rename()", (done) => fs.rename(from, to, (error) => done(error, undefined)));
}

/**
 * Options for {@link stat}.
 *
 * @example
 * ```ts
 * const options: StatOptions = { followSymlinks: false };
 * const info = yield* withTmpdir((dir) => stat(dir, options));
 * console.log(info.isDirectory()); // prints true
 * ```
 */
export interface StatOptions {
  /** Follow a final symbolic link (default true); false describes the link itself. */
  followSymlinks?: boolean;
}

/**
 * The metadata of `path`, following a final symbolic link unless
 * `followSymlinks` is false.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "data.bin"), new Uint8Array(3));
 *   const info = yield* stat(join(dir, "data.bin"));
 *   console.log(info.size, info.isDirectory()); // prints 3 false
 * });
 * ```
 */
export function* stat(path: string, options?: StatOptions): Operation<fs.Stats> {
  requirePath("stat()", "path", path);
  const opts = requireOptions<{ followSymlinks: boolean }>("stat()", options);
  requireBoolean("stat()", "options.followSymlinks", opts.followSymlinks);
  const follow = opts.followSymlinks !== false;
  return yield* fsLook<fs.Stats>("stat()", (done) => (follow ? fs.stat : fs.lstat)(path, done));
}

/**
 * The canonical absolute path of `path`: symbolic links, `.` and `..`
 * resolved.
 *
 * @example
 * ```ts
 * const here = yield* realpath(".");
 * ```
 */
export function* realpath(path: string): Operation<string> {
  requirePath("realpath()", "path", path);
  return yield* fsLook<string>("realpath()", (done) => fs.realpath.native(path, done));
}

/**
 * Options for {@link remove}.
 *
 * @example
 * ```ts
 * const options: RemoveOptions = { recursive: true };
 * yield* withTmpdir(function* (dir) {
 *   yield* mkdir(`${dir}/full/of/things`, { recursive: true });
 *   yield* remove(`${dir}/full`, options);
 *   console.log(yield* readDir(dir)); // prints []
 * });
 * ```
 */
export interface RemoveOptions {
  /** Remove a directory with everything in it (default false: only an empty one). */
  recursive?: boolean;
}

/**
 * Removes the file, symbolic link or empty directory at `path`; with
 * `recursive`, a directory and everything in it. A missing `path` is an
 * error (`ENOENT`).
 *
 * Removal is never cut short: it runs shielded from cancellation, and it
 * works even in a task that is already cancelled, so it can be used in
 * cleanup code (`finally`, defers).
 *
 * @example
 * ```ts
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = join(tmpdir(), `weft-remove-example-${process.pid}`);
 * try {
 *   yield* mkdir(join(dir, "out"), { recursive: true });
 *   yield* writeFile(join(dir, "out", "result.txt"), "done");
 * } finally {
 *   yield* remove(dir, { recursive: true });
 * }
 * console.log((yield* readDir(tmpdir())).some((e) => e.name === `weft-remove-example-${process.pid}`)); // prints false
 * ```
 */
export function* remove(path: string, options?: RemoveOptions): Operation<void> {
  requirePath("remove()", "path", path);
  const opts = requireOptions<{ recursive: boolean }>("remove()", options);
  requireBoolean("remove()", "options.recursive", opts.recursive);
  const recursive = opts.recursive === true;
  yield* protectFromCancel(function* () {
    if (recursive) {
      yield* fsLook<void>("remove()", (done) => fs.rm(path, { recursive: true, force: false }, (error) => done(error, undefined)));
      return;
    }
    try {
      yield* fsLook<void>("remove()", (done) => fs.unlink(path, (error) => done(error, undefined)));
    } catch (error) {
      const code = (error as OsError).code;
      // unlink refuses directories (EISDIR on Linux, EPERM on macOS).
      if (code !== "EISDIR" && code !== "EPERM") throw error;
      try {
        yield* fsLook<void>("remove()", (done) => fs.rmdir(path, (e) => done(e, undefined)));
      } catch (rmdirError) {
        throw (rmdirError as OsError).code === "ENOTDIR" ? error : rmdirError;
      }
    }
  });
}
