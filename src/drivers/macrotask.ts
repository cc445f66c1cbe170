/**
 * The cheapest way the host has to run a callback in a new macrotask:
 * `setImmediate` (Node, Bun, Deno), else `MessageChannel` (browsers), else
 * `setTimeout(0)`, which browsers clamp to 4 ms when nested.
 */
type Callback = () => void;

interface MacrotaskGlobals {
  setImmediate?: (cb: Callback) => unknown;
  MessageChannel?: new () => { port1: { onmessage: Callback | null }; port2: { postMessage(v: unknown): void } };
  setTimeout(cb: Callback, ms: number): unknown;
}

/** Returns a function that runs `callback` in a new macrotask each time it is called. */
export function macrotask(callback: Callback): Callback {
  const host = globalThis as unknown as MacrotaskGlobals;
  const setImmediate = host.setImmediate;
  if (typeof setImmediate === "function") return () => void setImmediate(callback);
  const MessageChannel = host.MessageChannel;
  if (typeof MessageChannel === "function") {
    const channel = new MessageChannel();
    channel.port1.onmessage = callback;
    return () => channel.port2.postMessage(null);
  }
  return () => void host.setTimeout(callback, 0);
}
