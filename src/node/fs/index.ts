/**
 * weft/node: files and directories on Node's `fs`.
 *
 * Every function here suspends only the calling task and refuses to start in
 * a cancelled task (except `remove`, which is meant for cleanup). Node's file
 * work runs in a thread pool that cannot interrupt a call once started, so on
 * cancellation:
 * - functions that only look (`stat`, `readDir`, `realpath`, `readFile`, …)
 *   return `Cancelled` at once and drop the late result;
 * - functions that change something (`mkdir`, `rename`, `remove`, …) finish
 *   first, so `Cancelled` from them always means "nothing was done", and the
 *   cancellation is thrown at the next suspension point;
 * - `writeFile`/`appendFile` run to completion once started, like the
 *   changing functions;
 * - a `File`'s read returns `Cancelled` at once without moving its position;
 *   a write (and an `openFile` that creates or truncates) once handed to the
 *   OS completes and returns, and the cancellation is thrown at the next
 *   suspension point (see {@link File}). Either way an operation had no
 *   effect or completed, and one that completed returns its result.
 *
 * OS errors keep Node's `code`, `errno`, `syscall` and `path`, and their
 * message names the weft function:
 * `readFile(): ENOENT: no such file or directory, open '/missing'`.
 *
 * @example
 * ```ts
 * import { run } from "weftjs";
 * import { readTextFile, withTmpdir, writeFile } from "weftjs/node";
 * import { join } from "node:path";
 *
 * await run(() =>
 *   withTmpdir(function* (dir) {
 *     yield* writeFile(join(dir, "hello.txt"), "hello");
 *     console.log(yield* readTextFile(join(dir, "hello.txt"))); // prints hello
 *   }),
 * );
 * ```
 *
 * @module
 */
export { File, openFile, type OpenFlags } from "./file.ts";
export { appendFile, readFile, readTextFile, writeFile, type WriteFileOptions } from "./whole_file.ts";
export { mkdir, realpath, remove, rename, stat, type MkdirOptions, type RemoveOptions, type StatOptions } from "./paths.ts";
export { readDir, type DirEntry, type ReadDirOptions } from "./read_dir.ts";
export { walk, type WalkOptions } from "./walk.ts";
export { withTmpdir, type TmpdirOptions } from "./tmpdir.ts";
export { watch, type WatchEvent, type WatchOptions } from "./watch.ts";
export { lockFile, type FileLock } from "./lock_file.ts";
export type { OsError } from "./os_error.ts";
