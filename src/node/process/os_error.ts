/**
 * OS errors that say which weft function met them, without losing what Node
 * attached to them.
 */

/** The fields Node puts on a system error; all are kept on the error we rethrow. */
const KEPT = ["code", "errno", "syscall", "path", "dest", "address", "port", "spawnargs"] as const;

/**
 * For an OS error (an Error with a string `code`): a new Error whose message
 * is `${api}: ${detail}` and which carries the original's `code`, `errno`,
 * `syscall`, `path` (and the like) and has it as `cause`. Anything else
 * (`Cancelled`, weft's own errors) is returned unchanged.
 */
export function osError(api: string, error: unknown, detail?: string): unknown {
  if (!(error instanceof Error) || typeof (error as { code?: unknown }).code !== "string") return error;
  const wrapped = new Error(`${api}: ${detail ?? error.message}`, { cause: error });
  const source = error as unknown as Record<string, unknown>;
  const target = wrapped as unknown as Record<string, unknown>;
  for (const key of KEPT) if (source[key] !== undefined) target[key] = source[key];
  return wrapped;
}
