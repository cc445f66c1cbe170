/**
 * One Node listener per signal, shared by everything in weft that wants the
 * signal, with one rule: a signal goes to the tasks waiting for it
 * (`waitSignal`, `onSignal`) if there are any, and only otherwise to the
 * fallback (`main`'s "cancel the program" handler), and with neither to the
 * last resort (passing a fatal signal on to the children's process groups
 * before dying by it). With none of them, no listener is installed, so the
 * signal has its default effect again: waiting for SIGINT once must not leave
 * the program deaf to Ctrl-C afterwards.
 */
import { constants } from "node:os";
import process from "node:process";
import { MAX_HOST_TIMER_MS } from "../../core/clock.ts";
import { describe } from "../../core/operation.ts";

type Listener = (signal: NodeJS.Signals) => void;

interface Entry {
  readonly subscribers: Set<Listener>;
  fallback: Listener | null;
  lastResort: Listener | null;
  installed: Listener | null;
}

const entries = new Map<NodeJS.Signals, Entry>();

/** Signals a program cannot (SIGKILL, SIGSTOP) or must not (faults: a listener would loop) handle. */
const UNCATCHABLE = new Set(["SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL"]);

/** Throws unless `value` names a signal of this platform that a program can handle. */
export function requireSignalName(api: string, name: string, value: unknown): asserts value is NodeJS.Signals {
  if (typeof value !== "string") {
    throw new TypeError(`${api}: ${name} must be a signal name such as "SIGINT", got ${describe(value)}`);
  }
  if (!Object.hasOwn(constants.signals, value)) {
    throw new RangeError(`${api}: ${name} must be a signal name of this platform such as "SIGINT", got "${value}"`);
  }
  if (UNCATCHABLE.has(value)) throw new RangeError(`${api}: ${name}: ${value} cannot be handled by a program`);
}

/** The number of a signal name (e.g. 2 for SIGINT). */
export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

function entryOf(signal: NodeJS.Signals): Entry {
  let entry = entries.get(signal);
  if (entry === undefined) {
    entry = { subscribers: new Set(), fallback: null, lastResort: null, installed: null };
    entries.set(signal, entry);
  }
  return entry;
}

function dispatch(signal: NodeJS.Signals, entry: Entry): void {
  if (entry.subscribers.size > 0) {
    for (const listener of [...entry.subscribers]) listener(signal);
  } else if (entry.fallback !== null) {
    entry.fallback(signal);
  } else {
    entry.lastResort?.(signal);
  }
}

/** Installs the Node listener while someone wants the signal, removes it when nobody does. */
function sync(signal: NodeJS.Signals, entry: Entry): void {
  const wanted = entry.subscribers.size > 0 || entry.fallback !== null || entry.lastResort !== null;
  if (wanted && entry.installed === null) {
    const listener: Listener = () => dispatch(signal, entry);
    process.on(signal, listener);
    entry.installed = listener;
  } else if (!wanted && entry.installed !== null) {
    process.off(signal, entry.installed);
    entry.installed = null;
  }
}

/**
 * Node's signal listeners do not keep the event loop alive, but a task
 * waiting for a signal must: `yield* waitSignal("SIGHUP")` in an otherwise
 * idle program waits for the signal, it does not end the program (nor is it
 * a deadlock). So while any task waits, a referenced timer holds the loop.
 * `main`'s own fallback does not: a program is not kept alive by its Ctrl-C
 * handler.
 */
let subscriberCount = 0;
let keepAlive: ReturnType<typeof setInterval> | null = null;
const KEEP_ALIVE_MS = MAX_HOST_TIMER_MS;

/** Delivers `signal` to `listener` until the returned function is called. */
export function subscribe(signal: NodeJS.Signals, listener: Listener): () => void {
  const entry = entryOf(signal);
  entry.subscribers.add(listener);
  if (subscriberCount++ === 0) keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
  sync(signal, entry);
  return () => {
    if (!entry.subscribers.delete(listener)) return;
    if (--subscriberCount === 0 && keepAlive !== null) {
      clearInterval(keepAlive);
      keepAlive = null;
    }
    sync(signal, entry);
  };
}

/** Sets (or with null removes) the handler for `signal` when no task waits for it. */
export function setFallback(signal: NodeJS.Signals, listener: Listener | null): void {
  const entry = entryOf(signal);
  entry.fallback = listener;
  sync(signal, entry);
}

/** Sets (or with null removes) the handler for `signal` when neither a task nor a fallback wants it. */
export function setLastResort(signal: NodeJS.Signals, listener: Listener | null): void {
  const entry = entryOf(signal);
  entry.lastResort = listener;
  sync(signal, entry);
}

/** True if something outside weft listens for `signal` too (then it does not end the process). */
export function othersListen(signal: NodeJS.Signals): boolean {
  const ours = entries.get(signal)?.installed ? 1 : 0;
  return process.listenerCount(signal) > ours;
}
