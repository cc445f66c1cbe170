/**
 * `walk`: visits a directory tree with one task per directory (docs/semantics.md, «IO»).
 */
import { join } from "node:path";
import { callBody } from "../../core/cancel.ts";
import { Cancelled } from "../../core/errors.ts";
import { describe, requireFunction, type Operation } from "../../core/operation.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { Semaphore } from "../../sync/semaphore.ts";
import { requireBoolean, requireOptions, requirePath } from "./os_error.ts";
import { listDir, type DirEntry } from "./read_dir.ts";

/**
 * Options for {@link walk}.
 *
 * @example
 * ```ts
 * const options: WalkOptions = { exclude: (dir) => dir.endsWith("/node_modules"), maxConcurrency: 8 };
 * ```
 */
export interface WalkOptions {
  /** Sub-directories (given as `join(parent, name)`) for which this is true are not visited. */
  exclude?: (path: string) => boolean;
  /** How many directories are listed and handed to the body at once (default 1000; an integer >= 1, and anything above 2**30 counts as 2**30). */
  maxConcurrency?: number;
  /**
   * A sub-directory whose listing or body fails is skipped instead of
   * failing the walk (its error is dropped). The root's listing is always
   * required.
   */
  allowFailure?: boolean;
}

/**
 * Visits `root` and every directory below it: for each, `body(dir, names,
 * entries)` is called with the directory's path (`root` joined with the
 * names leading to it), the names of all its entries, sorted, and the entries
 * themselves. Symbolic links are listed but not followed.
 *
 * Each directory is a task of one task group, and a semaphore keeps at most
 * `maxConcurrency` of them listing or in `body` at a time. A directory's
 * `body` starts before the bodies of its sub-directories; sub-directories
 * are started in name order. With `maxConcurrency: 1` the walk is
 * breadth-first and one body runs at a time. A failure (a listing that
 * fails, a body that throws) cancels the whole walk and is thrown, unless
 * `allowFailure`.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (root) {
 *   yield* mkdir(join(root, "src", "lib"), { recursive: true });
 *   yield* mkdir(join(root, ".git"));
 *   yield* writeFile(join(root, "src", "a.ts"), "12345");
 *   yield* writeFile(join(root, "src", "lib", "b.ts"), "123");
 *   yield* writeFile(join(root, ".git", "HEAD"), "ref: main");
 *   let bytes = 0;
 *   yield* walk(root, function* (dir, _names, entries) {
 *     for (const entry of entries) if (entry.isFile) bytes += (yield* stat(join(dir, entry.name))).size;
 *   }, { exclude: (dir) => dir.endsWith("/.git") });
 *   console.log(bytes); // prints 8
 * });
 * ```
 */
export function* walk(
  root: string,
  body: (dir: string, names: string[], entries: DirEntry[]) => Operation<void>,
  options?: WalkOptions,
): Operation<void> {
  requirePath("walk()", "root", root);
  requireFunction("walk()", "body", body);
  const opts = requireOptions<WalkOptions>("walk()", options);
  const exclude = opts.exclude;
  if (exclude !== undefined) requireFunction("walk()", "options.exclude", exclude, "a function (path) => boolean");
  const limit = opts.maxConcurrency ?? 1000;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`walk(): options.maxConcurrency must be an integer >= 1, got ${describe(limit)}`);
  }
  requireBoolean("walk()", "options.allowFailure", opts.allowFailure);
  const allowFailure = opts.allowFailure === true;
  // Beyond 2**30 a limit means "no limit", and the semaphore's permit
  // arithmetic must stay exact (2**60 + 1 === 2**60).
  const slots = new Semaphore(Math.min(limit, 2 ** 30));

  yield* withTaskGroup<void>(function* (group) {
    function* visit(dir: string, isRoot: boolean): Operation<void> {
      yield* slots.acquire();
      try {
        const entries = yield* listDir("walk()", dir, true);
        for (const entry of entries) {
          if (!entry.isDirectory) continue;
          const sub = join(dir, entry.name);
          if (exclude !== undefined && exclude(sub)) continue;
          group.startSoon(() => visit(sub, false), { allowFailure });
        }
        const names = entries.map((entry) => entry.name);
        try {
          yield* callBody("walk()", () => body(dir, names, entries));
        } catch (error) {
          // The root is not a task of its own; its body may fail like any other.
          if (!(isRoot && allowFailure) || error instanceof Cancelled) throw error;
        }
      } finally {
        slots.release();
      }
    }
    yield* visit(root, true);
  });
}
