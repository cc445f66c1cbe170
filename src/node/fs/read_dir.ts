/**
 * `readDir`: the entries of one directory.
 */
import * as fs from "node:fs";
import type { Operation } from "../../core/operation.ts";
import { fsLook } from "./fs_call.ts";
import { requireBoolean, requireOptions, requirePath } from "./os_error.ts";

/**
 * One entry of a directory. A symbolic link is neither a file nor a
 * directory here, whatever it points to (`isSymbolicLink` is true).
 *
 * @example
 * ```ts
 * const dirs = (yield* readDir(".")).filter((entry: DirEntry) => entry.isDirectory);
 * ```
 */
export interface DirEntry {
  /** The entry's name within the directory (not a path). */
  readonly name: string;
  /** True for a regular file. */
  readonly isFile: boolean;
  /** True for a directory. */
  readonly isDirectory: boolean;
  /** True for a symbolic link (whatever it points to). */
  readonly isSymbolicLink: boolean;
}

/** Lists `path` for `api`; names sorted by UTF-16 code units when `sort`. */
export function* listDir(api: string, path: string, sort: boolean): Operation<DirEntry[]> {
  const dirents = yield* fsLook<fs.Dirent[]>(api, (done) => fs.readdir(path, { withFileTypes: true }, done));
  const entries = dirents.map(
    (d): DirEntry => ({ name: d.name, isFile: d.isFile(), isDirectory: d.isDirectory(), isSymbolicLink: d.isSymbolicLink() }),
  );
  if (sort) entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries;
}

/**
 * Options for {@link readDir}.
 *
 * @example
 * ```ts
 * const options: ReadDirOptions = { sort: true };
 * const names = yield* withTmpdir(function* (dir) {
 *   return (yield* readDir(dir, options)).map((entry) => entry.name);
 * });
 * console.log(names); // prints []
 * ```
 */
export interface ReadDirOptions {
  /** Sort the entries by name (default false: the order the OS lists them in). */
  sort?: boolean;
}

/**
 * The entries of the directory `path` (without `.` and `..`), in the order
 * the OS lists them, or sorted by name with `{ sort: true }`.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "b.txt"), "b");
 *   yield* writeFile(join(dir, "a.txt"), "a");
 *   yield* mkdir(join(dir, "sub"));
 *   for (const entry of yield* readDir(dir, { sort: true })) {
 *     if (entry.isFile) console.log(entry.name); // prints a.txt, then b.txt
 *   }
 * });
 * ```
 */
export function* readDir(path: string, options?: ReadDirOptions): Operation<DirEntry[]> {
  requirePath("readDir()", "path", path);
  const opts = requireOptions<{ sort: boolean }>("readDir()", options);
  requireBoolean("readDir()", "options.sort", opts.sort);
  return yield* listDir("readDir()", path, opts.sort === true);
}
