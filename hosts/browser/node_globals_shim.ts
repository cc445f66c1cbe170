/**
 * The few Node globals that some portable test files use, for the browser
 * bundle. The Chromium host imports these bindings into a test file (and
 * only into test files: they are never installed on `globalThis`, so weft
 * itself still sees a browser with no `setImmediate` and no `process`, and
 * its event-loop driver uses MessageChannel).
 *
 * - `setImmediate`/`clearImmediate`: a macrotask through a MessageChannel;
 *   callbacks queued while a batch runs wait for the next one, as in Node.
 * - `process.on/off("unhandledRejection", listener)`: the window's
 *   `unhandledrejection` event (`"uncaughtException"` maps to `error`).
 *   Anything else on `process` is missing, so a test that needs it fails.
 * - `performance` for the `node:perf_hooks` alias (the same W3C object).
 */

type Callback = (...args: unknown[]) => void;

interface Immediate {
  callback: Callback;
  args: unknown[];
  cancelled: boolean;
}

let queue: Immediate[] = [];
let channel: MessageChannel | undefined;

function runBatch(): void {
  const batch = queue;
  queue = [];
  for (const item of batch) {
    if (item.cancelled) continue;
    try {
      item.callback(...item.args);
    } catch (error) {
      // An exception in an immediate is uncaught, as in Node; the rest of the batch still runs.
      reportError(error);
    }
  }
}

export function setImmediate(callback: Callback, ...args: unknown[]): Immediate {
  if (typeof callback !== "function") throw new TypeError('The "callback" argument must be of type function');
  if (channel === undefined && typeof MessageChannel !== "function") {
    // An embedded engine (QuickJS): a timer from the embedder is the only macrotask there is.
    const item: Immediate = { callback, args, cancelled: false };
    queue.push(item);
    if (queue.length === 1) setTimeout(runBatch, 0);
    return item;
  }
  if (channel === undefined) {
    channel = new MessageChannel();
    channel.port1.onmessage = runBatch;
  }
  const item: Immediate = { callback, args, cancelled: false };
  queue.push(item);
  if (queue.length === 1) channel.port2.postMessage(undefined);
  return item;
}

export function clearImmediate(item: Immediate | undefined): void {
  if (item !== undefined) item.cancelled = true;
}

type Listener = (...args: unknown[]) => void;
const wrappers = new Map<Listener, { type: string; handler: (event: Event) => void }>();

const eventTypes: Record<string, { type: string; args: (event: Event) => unknown[] }> = {
  unhandledRejection: {
    type: "unhandledrejection",
    args: (e) => [(e as PromiseRejectionEvent).reason, (e as PromiseRejectionEvent).promise],
  },
  uncaughtException: { type: "error", args: (e) => [(e as ErrorEvent).error, "uncaughtException"] },
};

/** The part of Node's `process` the shim offers. */
export interface ProcessShim {
  on(event: string, listener: Listener): ProcessShim;
  addListener(event: string, listener: Listener): ProcessShim;
  once(event: string, listener: Listener): ProcessShim;
  off(event: string, listener: Listener): ProcessShim;
  removeListener(event: string, listener: Listener): ProcessShim;
}

function on(event: string, listener: Listener, once = false): ProcessShim {
  const mapped = eventTypes[event];
  if (mapped === undefined) throw new Error(`process.on("${event}") is not available in the browser (Chromium host shim)`);
  const handler = (e: Event): void => {
    if (once) off(event, listener);
    listener(...mapped.args(e));
  };
  wrappers.set(listener, { type: mapped.type, handler });
  globalThis.addEventListener(mapped.type, handler);
  return process;
}

function off(_event: string, listener: Listener): ProcessShim {
  const w = wrappers.get(listener);
  if (w !== undefined) {
    globalThis.removeEventListener(w.type, w.handler);
    wrappers.delete(listener);
  }
  return process;
}

export const process: ProcessShim = {
  on: (event: string, listener: Listener) => on(event, listener),
  addListener: (event: string, listener: Listener) => on(event, listener),
  once: (event: string, listener: Listener) => on(event, listener, true),
  off: (event: string, listener: Listener) => off(event, listener),
  removeListener: (event: string, listener: Listener) => off(event, listener),
};

export const performance: Performance = globalThis.performance;
