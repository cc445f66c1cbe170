/**
 * `watch`: file-system change events, one body call at a time, none lost.
 */
import * as fs from "node:fs";
import { basename, join } from "node:path";
import { action } from "../../core/action.ts";
import { callBody } from "../../core/cancel.ts";
import { requireFunction, type Operation } from "../../core/operation.ts";
import { fsLook } from "./fs_call.ts";
import { makeOsError, osError, requireBoolean, requireOptions, requirePath } from "./os_error.ts";

/**
 * One change seen by {@link watch}.
 *
 * @example
 * ```ts
 * const event: WatchEvent = { kind: "create", name: "new.txt", path: "/tmp/dir/new.txt" };
 * ```
 */
export interface WatchEvent {
  /**
   * `"modify"` when the content or metadata changed; for a name that appeared
   * or went away (Node's `"rename"`), `"create"` if the path exists when the
   * event is handed to the body and `"remove"` if it does not.
   */
  readonly kind: "create" | "modify" | "remove";
  /** The changed entry relative to the watched directory (the file's own name when a file is watched; `""` if the OS did not say). */
  readonly name: string;
  /** The changed path: the watched path joined with `name`, or the watched file itself. */
  readonly path: string;
}

/**
 * Options for {@link watch}.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* mkdir(join(dir, "sub"));
 *   yield* withTaskGroup(function* (group) {
 *     const options: WatchOptions = {
 *       recursive: true, // changes in subdirectories too
 *       onReady: () => group.startSoon(() => writeFile(join(dir, "sub", "new.txt"), "hi")),
 *     };
 *     yield* watch(dir, function* (event) {
 *       console.log(event.name); // prints sub/new.txt (or sub, on some systems, first)
 *       return false; // stop watching
 *     }, options);
 *   });
 * });
 * ```
 */
export interface WatchOptions {
  /** Also watch sub-directories (Node's `recursive`). */
  recursive?: boolean;
  /**
   * Called once, synchronously, as soon as the OS watcher is registered:
   * every change made after `onReady` was called is reported. This is the
   * point to start making (or waiting for) changes, instead of sleeping and
   * hoping the watcher is in place. It must not throw (what it throws ends
   * `watch` with that error).
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   *
   * yield* withTmpdir(function* (dir) {
   *   yield* withTaskGroup(function* (group) {
   *     const ready = new Queue<true>({ kind: "unbounded" });
   *     const seen = group.spawn(function* () {
   *       let name = "";
   *       yield* watch(dir, function* (event) { name = event.name; return false; }, { onReady: () => ready.tryPut(true) });
   *       return name;
   *     });
   *     yield* ready.get(); // from here on, no change to `dir` is missed
   *     yield* writeFile(join(dir, "report.txt"), "done");
   *     console.log(yield* seen.wait()); // prints report.txt
   *   });
   * });
   * ```
   */
  onReady?: () => void;
}

/**
 * Watches `path` (a file or a directory) with Node's `fs.watch` and calls
 * `body(event)` for each change, in order, one call at a time. Events that
 * arrive while `body` runs are queued, not lost. Changes made after
 * `options.onReady` was called are all seen. Runs until `body` returns
 * `false` (then `watch` returns), `body` throws, the watcher reports an error,
 * the watched path goes away, or the task is cancelled; in every case the
 * watcher is closed before `watch` ends.
 *
 * When the watched file or directory itself is removed, or renamed or
 * replaced by another one (an editor saving a file by renaming a new one over
 * it), the OS watcher can report nothing more: `watch` hands the events that
 * came before to `body`, then throws an error with code `ENOENT` naming
 * `watch()` and the path. To follow a file that is replaced, watch its
 * directory.
 *
 * The kinds are only as exact as the OS reports: several changes close
 * together may arrive as several events or as one, and a name created and
 * removed quickly may be reported as two removals.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (inbox) {
 *   const handled: string[] = [];
 *   yield* withTaskGroup(function* (group) {
 *     const arrive = () => group.startSoon(() => writeFile(join(inbox, "order-1.json"), "{}")); // a file arrives
 *     yield* withTimeoutOpt(1000, () =>
 *       watch(inbox, function* (event) {
 *         if (event.kind === "create") handled.push(event.name);
 *       }, { onReady: arrive }),
 *     );
 *   });
 *   console.log(handled); // prints [ 'order-1.json' ] (the watch ended with the timeout)
 * });
 * ```
 */
export function* watch(path: string, body: (event: WatchEvent) => Operation<void | boolean>, options?: WatchOptions): Operation<void> {
  requirePath("watch()", "path", path);
  requireFunction("watch()", "body", body);
  const opts = requireOptions<WatchOptions>("watch()", options);
  requireBoolean("watch()", "options.recursive", opts.recursive);
  const onReady = opts.onReady;
  if (onReady !== undefined) requireFunction("watch()", "options.onReady", onReady, "a function () => void");
  const info = yield* fsLook<fs.Stats>("watch()", (done) => fs.stat(path, done));
  const isDirectory = info.isDirectory();

  const queue: { type: string; name: string }[] = [];
  let failure: unknown = undefined;
  let wake: (() => void) | null = null;
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(path, { recursive: opts.recursive === true, persistent: true, encoding: "utf8" });
  } catch (error) {
    throw osError("watch()", error, path);
  }
  watcher.on("change", (type, name) => {
    queue.push({ type, name: typeof name === "string" ? name : "" });
    wake?.();
  });
  watcher.on("error", (error) => {
    failure ??= error;
    wake?.();
  });
  try {
    onReady?.();
    for (;;) {
      while (queue.length === 0 && failure === undefined) {
        yield* action<void>((resolve) => {
          wake = resolve;
          return () => {
            wake = null;
          };
        });
      }
      // Events that arrived before the error are still handed over.
      const raw = queue.shift();
      if (raw === undefined) throw osError("watch()", failure, path);
      // The OS reports the watched path's own removal or replacement as a
      // rename of its own name ("" when recursive), after which the watcher
      // stays open but silent: end instead of waiting forever.
      if (raw.type === "rename" && (raw.name === "" || raw.name === basename(path)) && !(yield* isSame(path, info))) {
        throw makeOsError("watch()", "ENOENT", "the watched path was removed or replaced", path);
      }
      const target = isDirectory && raw.name !== "" ? join(path, raw.name) : path;
      const kind = raw.type === "change" ? "modify" : (yield* exists(target)) ? "create" : "remove";
      const event: WatchEvent = { kind, name: raw.name, path: target };
      if ((yield* callBody("watch()", () => body(event))) === false) return;
    }
  } finally {
    watcher.close();
  }
}

/** True if `path` is still the file or directory `info` describes. */
function isSame(path: string, info: fs.Stats): Operation<boolean> {
  return action<boolean>((resolve) => {
    fs.stat(path, (error, now) => resolve(error === null && now.ino === info.ino && now.dev === info.dev));
  });
}

function exists(path: string): Operation<boolean> {
  return action<boolean>((resolve) => {
    fs.lstat(path, (error) => resolve(error === null));
  });
}
