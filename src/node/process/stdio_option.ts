/**
 * What each of a child's stdin, stdout and stderr is connected to, checked,
 * and the files opened for it.
 */
import { close, open } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { action } from "../../core/action.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { osError } from "../os_error.ts";

/**
 * Where a child's stdin, stdout or stderr goes:
 * - `"inherit"`: this process's own stream (the terminal, usually);
 * - `"pipe"`: a pipe to this process, read or written through the
 *   `Process`'s `stdin`/`stdout`/`stderr`;
 * - `"ignore"`: nothing (`/dev/null`);
 * - a path, or `{ path }`: a file opened for the child. Relative paths are
 *   resolved against this process's working directory (not the child's `cwd`).
 *   stdin reads the file (it must exist); stdout and stderr create it, or
 *   truncate it, or with `{ path, append: true }` append to it. When stdout
 *   and stderr name the same file, both write through one opening, in order,
 *   as with `>file 2>&1`.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * const build = "console.log('compiling'); console.error('1 warning');"; // a build writing to both streams
 * yield* withTmpdir(function* (dir) {
 *   const log = join(dir, "build.log");
 *   using make = yield* spawnProcess(process.execPath, ["-e", build], { stdout: log, stderr: log, stdin: "ignore" });
 *   yield* make.wait();
 *   using tee = yield* spawnProcess(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], {
 *     stdin: "pipe",
 *     stdout: { path: log, append: true },
 *   });
 *   yield* tee.stdin.write("done\n");
 *   tee.stdin.close();
 *   yield* tee.wait();
 *   console.log(yield* readTextFile(log)); // prints compiling, 1 warning, done: one line each
 * });
 * ```
 */
export type StdioOption = "inherit" | "pipe" | "ignore" | string | { path: string; append?: boolean };

/** A checked stdio option. */
export type StdioPlan = { kind: "inherit" | "pipe" | "ignore" } | { kind: "file"; path: string; append: boolean };

/** Checks `value` (the option named `name`) and resolves a file path. */
export function planStdio(api: string, name: "stdin" | "stdout" | "stderr", value: unknown, fallback: StdioPlan["kind"]): StdioPlan {
  if (value === undefined) return { kind: fallback } as StdioPlan;
  if (value === "inherit" || value === "pipe" || value === "ignore") return { kind: value };
  let path: unknown = value;
  let append = false;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const spec = value as { path?: unknown; append?: unknown };
    path = spec.path;
    if (spec.append !== undefined && typeof spec.append !== "boolean") {
      throw new TypeError(`${api}: options.${name}.append must be a boolean, got ${describe(spec.append)}`);
    }
    append = spec.append === true;
    if (append && name === "stdin") throw new TypeError(`${api}: options.stdin cannot append: it is read, not written`);
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `${api}: options.${name} must be "inherit", "pipe", "ignore", a file path or { path, append }, got ${describe(value)}`,
    );
  }
  if (path.includes("\0")) throw new TypeError(`${api}: options.${name} must not contain a NUL character`);
  return { kind: "file", path: resolvePath(path), append };
}

/** Opens `path` for a child's stdio; cancellable (a file opened after the cancellation is closed). */
export function* openForChild(api: string, path: string, flags: "r" | "w" | "a"): Operation<number> {
  return yield* action<number>((resolve, reject) => {
    let abandoned = false;
    open(path, flags, 0o666, (error, fd) => {
      if (abandoned) {
        if (error === null) close(fd, () => {});
        return;
      }
      if (error !== null) reject(osError(api, error));
      else resolve(fd);
    });
    return () => {
      abandoned = true;
    };
  });
}

/** Closes this process's copy of a descriptor handed to a child. */
export function closeQuietly(fd: number): void {
  close(fd, () => {});
}
