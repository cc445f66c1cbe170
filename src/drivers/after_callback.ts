/**
 * The earliest a driver can run after the host callback it was called from:
 * `process.nextTick` (Node, Bun, Deno), else `queueMicrotask` (browsers,
 * other engines). Either runs once the current callback has returned, before
 * the host moves on to its next callback or phase.
 */
type Callback = () => void;

interface AfterCallbackGlobals {
  process?: { nextTick?: (cb: Callback) => void };
  queueMicrotask?: (cb: Callback) => void;
}

/** Returns a function that schedules `callback` to run right after the current host callback, each time it is called. */
export function afterCallback(callback: Callback): Callback {
  const host = globalThis as unknown as AfterCallbackGlobals;
  const nextTick = host.process?.nextTick;
  if (typeof nextTick === "function") return () => nextTick(callback);
  const queue = host.queueMicrotask;
  if (typeof queue === "function") return () => queue(callback);
  return () => void Promise.resolve().then(callback);
}
