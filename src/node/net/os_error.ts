/**
 * Names the weft function and the address in a Node OS error, keeping the
 * error object itself (its `code`, `errno`, `syscall`, `address`, `port`,
 * `hostname` and stack) so that `error.code === "ECONNREFUSED"` still works.
 */

/** Errors already annotated: a stream keeps reporting the same error object, which must not be prefixed twice. */
const annotated = new WeakSet<object>();

/** True for the errors Node raises for a failed system call (they carry a string `code`). */
function isOsError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/**
 * Prefixes an OS error's message with `api` and, when the message does not
 * already contain it, appends `target` (the address the caller asked for).
 * Anything else (a weft error, `Cancelled`) is returned unchanged.
 */
export function annotateOsError(api: string, error: unknown, target?: string): unknown {
  if (!isOsError(error) || annotated.has(error)) return error;
  annotated.add(error);
  const original = error.message;
  let message = `${api}: ${original}`;
  if (target !== undefined && !original.includes(target)) message += ` (${target})`;
  error.message = message;
  // The stack was rendered with the old message; keep its first line truthful.
  if (typeof error.stack === "string") error.stack = error.stack.replace(original, message);
  return error;
}

/** `host:port`, with brackets around an IPv6 literal. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
