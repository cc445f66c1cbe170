/**
 * The earliest a driver can run after the host callback it was called from:
 * a microtask, which every host runs once the current callback has returned,
 * before it moves on to its next callback or phase.
 *
 * A reaction to an already settled promise, not `process.nextTick`: Node's
 * `nextTick` allocates a tick object, reads properties of `process` (a
 * dictionary-mode object, so each read is a generic lookup) and makes the
 * host run its tick queue in JavaScript after the callback, where a promise
 * reaction is V8's own job, run by the microtask checkpoint that follows
 * every callback anyway (about 280 against 60 ns per turn, measured with a
 * `setImmediate` chain on Node 20). Nor Node's `queueMicrotask`, which wraps
 * each callback in an `AsyncResource`. The one difference: Node runs every
 * `nextTick` callback queued in the same host callback first, even those
 * queued after the wake-up, which no one can tell from a slightly later
 * wake-up. Should the callback ever throw, the error surfaces as an
 * unhandled rejection rather than an uncaught exception (Node ends the
 * process for either by default).
 */
type Callback = () => void;

/** Returns a function that schedules `callback` to run right after the current host callback, each time it is called. */
export function afterCallback(callback: Callback): Callback {
  const settled = Promise.resolve();
  return () => void settled.then(callback);
}
