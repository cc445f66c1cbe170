/**
 * Errors from the operating system, as weft/node reports them: Node's error
 * with the weft function's name in front of its message, Node's error as
 * `cause`, and every field Node set (`code`, `errno`, `syscall`, `path`,
 * `dest`, `address`, `port`, `spawnargs`) kept, so `error.code === "ENOENT"`
 * works as with Node itself.
 */

/** What a Node OS error carries; weft's fs errors carry the same. */
export interface OsError extends Error {
  /** The error code: `"ENOENT"`, `"EEXIST"`, `"EISDIR"`, … */
  code?: string;
  /** The (negative) errno number. */
  errno?: number;
  /** The system call that failed. */
  syscall?: string;
  /** The path the call was about. */
  path?: string;
  /** The second path of a two-path call (rename, link). */
  dest?: string;
  /** The address a socket call was about. */
  address?: string;
  /** The port a socket call was about. */
  port?: number;
  /** The command and arguments of a failed spawn. */
  spawnargs?: string[];
}

const FIELDS = ["code", "errno", "syscall", "path", "dest", "address", "port", "spawnargs"] as const;

/**
 * Returns `error` renamed for `api`: a new Error whose message starts with
 * `api` and whose `cause` is Node's error. When Node's error names no path
 * (calls on a file descriptor), `path` is added to it. Anything that is not a
 * Node OS error (no string `code`: `Cancelled`, a body's own error) is
 * returned unchanged.
 */
export function osError(api: string, error: unknown, path?: string): unknown {
  if (!(error instanceof Error)) return error;
  const source = error as OsError;
  if (typeof source.code !== "string") return error;
  let message = `${api}: ${source.message}`;
  if (source.path === undefined && path !== undefined) message += ` '${path}'`;
  return rewrap(source, message, path);
}

/**
 * Like {@link osError}, with `detail` instead of Node's message (for errors
 * whose own message would mislead, such as a spawn failing because of its
 * `cwd`).
 */
export function osErrorWithDetail(api: string, error: unknown, detail: string): unknown {
  if (!(error instanceof Error) || typeof (error as OsError).code !== "string") return error;
  return rewrap(error as OsError, `${api}: ${detail}`, undefined);
}

function rewrap(source: OsError, message: string, path: string | undefined): OsError {
  const wrapped: OsError = new Error(message, { cause: source });
  for (const field of FIELDS) {
    const value = source[field];
    if (value !== undefined) (wrapped as unknown as Record<string, unknown>)[field] = value;
  }
  if (wrapped.path === undefined && path !== undefined) wrapped.path = path;
  return wrapped;
}
