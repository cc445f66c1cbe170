/**
 * The globals an embedder gives QuickJS so the portable test files can run:
 * QuickJS itself has none of them. Imported first by each test bundle the
 * QuickJS host builds. Everything here leans on the object the embedder puts
 * on `globalThis.__weftHost` before the bundle is evaluated:
 *
 * - timers (`setTimeout`, `setInterval`, their `clear…`): the callbacks stay
 *   in the guest; the embedder keeps only (id, due time) on its real clock and
 *   calls `__weftFireTimer(id)` when one is due;
 * - `queueMicrotask`: a QuickJS promise job (the embedder runs the jobs);
 * - `performance.now()`, `console`: the embedder's clock and output;
 * - `Symbol.dispose`/`Symbol.asyncDispose` and en-US `toLocaleString`
 *   grouping, which QuickJS itself lacks;
 * - `TextEncoder`/`TextDecoder` (UTF-8 only), `Event`, `EventTarget` (and
 *   `globalThis` as one, for the unhandled-rejection guard's listeners),
 *   `AbortController`/`AbortSignal`, `DOMException`, `reportError`,
 *   `structuredClone` (plain data only), `crypto.getRandomValues` (from the
 *   embedder's random source: a WebSocket client's mask keys need it).
 * Only what is missing is installed. weft sees no `setImmediate` and no
 * `MessageChannel`, so its event-loop driver takes host turns through
 * `setTimeout(0)`.
 */

interface HostBridge {
  now(): number;
  log(level: string, text: string): void;
  setTimer(id: number, ms: number): void;
  clearTimer(id: number): void;
  random32(): number;
}

type AnyFn = (...args: unknown[]) => unknown;
const g = globalThis as Record<string, unknown>;
const host = g.__weftHost as HostBridge;

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return `${value.name}: ${value.message}${value.stack ? `\n${value.stack}` : ""}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function define(name: string, value: unknown): void {
  if (g[name] === undefined) Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

// ── language gaps ──────────────────────────────────────────────────────────

// QuickJS has no explicit resource management yet. The names esbuild's `using`
// helpers fall back to, so weft's `[Symbol.dispose]()` methods and the tests'
// `using` blocks meet on the same symbols.
const symbols = Symbol as unknown as Record<string, symbol | undefined>;
for (const name of ["dispose", "asyncDispose"]) {
  if (symbols[name] === undefined) Object.defineProperty(Symbol, name, { value: Symbol.for(`Symbol.${name}`) });
}

// QuickJS has no Intl: toLocaleString gives no digit grouping. The reports
// weft's benchmarks write ask for "en-US" grouping, which this restores.
const plainToLocale = Number.prototype.toLocaleString;
if ((1234.5).toLocaleString("en-US") !== "1,234.5") {
  Number.prototype.toLocaleString = function (this: number, locales?: string | string[], options?: object) {
    const n = Number(this);
    if ((locales !== undefined && locales !== "en-US") || options !== undefined || !Number.isFinite(n)) {
      return plainToLocale.call(this, locales, options);
    }
    // en-US defaults: at most three fraction digits, thousands separated by commas.
    const [whole, fraction] = String(Math.round(Math.abs(n) * 1000) / 1000).split(".");
    const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return `${n < 0 ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
  };
}

// ── console, performance ───────────────────────────────────────────────────

const consoleObject: Record<string, AnyFn> = {};
for (const level of ["log", "info", "warn", "error", "debug", "trace"]) {
  consoleObject[level] = (...args: unknown[]) => host.log(level, args.map(show).join(" "));
}
define("console", consoleObject);
define("performance", { now: () => host.now(), timeOrigin: 0 });

// ── timers ─────────────────────────────────────────────────────────────────

interface GuestTimer {
  fn: AnyFn;
  args: unknown[];
  interval: number | undefined;
}
const timers = new Map<number, GuestTimer>();
let nextTimerId = 1;

function delayOf(ms: unknown): number {
  const n = Number(ms);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function setTimer(fn: unknown, ms: unknown, args: unknown[], repeat: boolean): number {
  if (typeof fn !== "function") throw new TypeError("the timer callback must be a function");
  const id = nextTimerId++;
  const delay = delayOf(ms);
  timers.set(id, { fn: fn as AnyFn, args, interval: repeat ? Math.max(1, delay) : undefined });
  host.setTimer(id, delay);
  return id;
}

function clearTimer(id: unknown): void {
  if (typeof id !== "number" || !timers.delete(id)) return;
  host.clearTimer(id);
}

define("setTimeout", (fn: unknown, ms?: unknown, ...args: unknown[]) => setTimer(fn, ms, args, false));
define("setInterval", (fn: unknown, ms?: unknown, ...args: unknown[]) => setTimer(fn, ms, args, true));
define("clearTimeout", clearTimer);
define("clearInterval", clearTimer);

/** Called by the embedder for a due timer. */
define("__weftFireTimer", (id: number): void => {
  const timer = timers.get(id);
  if (timer === undefined) return;
  if (timer.interval === undefined) timers.delete(id);
  else host.setTimer(id, timer.interval);
  try {
    timer.fn(...timer.args);
  } catch (error) {
    reportError(error);
  }
});
define("__weftPendingTimers", (): number => timers.size);

define("queueMicrotask", (fn: unknown): void => {
  if (typeof fn !== "function") throw new TypeError("queueMicrotask needs a function");
  void Promise.resolve().then(() => {
    try {
      (fn as AnyFn)();
    } catch (error) {
      reportError(error);
    }
  });
});

// ── events ─────────────────────────────────────────────────────────────────

class GuestDOMException extends Error {
  constructor(message = "", name = "Error") {
    super(message);
    this.name = name;
  }
}
define("DOMException", GuestDOMException);

class GuestEvent {
  readonly type: string;
  defaultPrevented = false;
  target: unknown = null;
  currentTarget: unknown = null;
  readonly cancelable: boolean;
  readonly timeStamp = host.now();
  constructor(type: string, init: { cancelable?: boolean } = {}) {
    this.type = String(type);
    this.cancelable = init.cancelable === true;
  }
  preventDefault(): void {
    if (this.cancelable) this.defaultPrevented = true;
  }
  stopPropagation(): void {}
  stopImmediatePropagation(): void {}
}
define("Event", GuestEvent);

type Listener = AnyFn | { handleEvent: AnyFn };
interface Registration {
  listener: Listener;
  once: boolean;
}

const listenerTables = new WeakMap<object, Map<string, Registration[]>>();
function tableOf(target: object): Map<string, Registration[]> {
  let t = listenerTables.get(target);
  if (t === undefined) listenerTables.set(target, (t = new Map()));
  return t;
}

function addEventListener(
  this: object,
  type: string,
  listener: Listener | null,
  options?: boolean | { once?: boolean; signal?: AbortSignal },
): void {
  if (listener === null || listener === undefined) return;
  const table = tableOf(this);
  const list = table.get(type) ?? [];
  if (list.some((r) => r.listener === listener)) return;
  const opts = typeof options === "object" && options !== null ? options : {};
  if (opts.signal?.aborted) return;
  list.push({ listener, once: opts.once === true });
  table.set(type, list);
  opts.signal?.addEventListener("abort", () => removeEventListener.call(this, type, listener));
}

function removeEventListener(this: object, type: string, listener: Listener | null): void {
  const list = tableOf(this).get(type);
  if (list === undefined) return;
  const i = list.findIndex((r) => r.listener === listener);
  if (i >= 0) list.splice(i, 1);
}

function dispatchEvent(this: object, event: GuestEvent): boolean {
  event.target = this;
  event.currentTarget = this;
  const handlerProp = (this as Record<string, unknown>)[`on${event.type}`];
  const list = [...(tableOf(this).get(event.type) ?? [])];
  const call = (l: Listener): void => {
    try {
      if (typeof l === "function") l.call(this, event);
      else l.handleEvent(event);
    } catch (error) {
      if (this !== globalThis) reportError(error);
    }
  };
  if (typeof handlerProp === "function") call(handlerProp as AnyFn);
  for (const r of list) {
    if (r.once) removeEventListener.call(this, event.type, r.listener);
    call(r.listener);
  }
  return !event.defaultPrevented;
}

class GuestEventTarget {}
Object.assign(GuestEventTarget.prototype, { addEventListener, removeEventListener, dispatchEvent });
define("EventTarget", GuestEventTarget);
define("addEventListener", addEventListener.bind(globalThis));
define("removeEventListener", removeEventListener.bind(globalThis));
define("dispatchEvent", dispatchEvent.bind(globalThis));

/** An uncaught exception: an `error` event on globalThis, as in a browser. */
function reportError(error: unknown): void {
  const event = Object.assign(new GuestEvent("error", { cancelable: true }), { error, message: show(error) });
  dispatchEvent.call(globalThis, event);
  host.log("error", `uncaught: ${show(error)}`);
}
define("reportError", reportError);

// ── AbortController ────────────────────────────────────────────────────────

const signalState = new WeakMap<object, { aborted: boolean; reason: unknown }>();

class GuestAbortSignal extends GuestEventTarget {
  onabort: AnyFn | null = null;
  get aborted(): boolean {
    return signalState.get(this)?.aborted ?? false;
  }
  get reason(): unknown {
    return signalState.get(this)?.reason;
  }
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
  static abort(reason?: unknown): GuestAbortSignal {
    const s = new GuestAbortSignal();
    abortSignal(s, reason);
    return s;
  }
  static timeout(ms: number): GuestAbortSignal {
    const s = new GuestAbortSignal();
    setTimer(() => abortSignal(s, new GuestDOMException("The operation timed out.", "TimeoutError")), ms, [], false);
    return s;
  }
  static any(signals: GuestAbortSignal[]): GuestAbortSignal {
    const s = new GuestAbortSignal();
    for (const other of signals) {
      if (other.aborted) {
        abortSignal(s, other.reason);
        return s;
      }
    }
    for (const other of signals)
      (other as unknown as EventTarget).addEventListener("abort", () => abortSignal(s, other.reason), { once: true });
    return s;
  }
}

function abortSignal(signal: GuestAbortSignal, reason: unknown): void {
  if (signal.aborted) return;
  signalState.set(signal, {
    aborted: true,
    reason: reason === undefined ? new GuestDOMException("This operation was aborted", "AbortError") : reason,
  });
  dispatchEvent.call(signal, new GuestEvent("abort"));
}

class GuestAbortController {
  readonly signal = new GuestAbortSignal();
  abort(reason?: unknown): void {
    abortSignal(this.signal, reason);
  }
}
define("AbortSignal", GuestAbortSignal);
define("AbortController", GuestAbortController);

// ── crypto.getRandomValues ─────────────────────────────────────────────────

function getRandomValues<T extends ArrayBufferView>(array: T): T {
  if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
    throw new TypeError("crypto.getRandomValues: an integer typed array is required");
  }
  if (array.byteLength > 65_536) throw new RangeError(`crypto.getRandomValues: ${array.byteLength} bytes asked, at most 65536`);
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  for (let i = 0; i < bytes.length; i += 4) {
    let word = host.random32();
    for (let j = i; j < Math.min(i + 4, bytes.length); j++, word >>>= 8) bytes[j] = word & 0xff;
  }
  return array;
}
define("crypto", { getRandomValues });

// ── TextEncoder / TextDecoder (UTF-8) ──────────────────────────────────────

class GuestTextEncoder {
  readonly encoding = "utf-8";
  encode(input = ""): Uint8Array {
    const out: number[] = [];
    const s = String(input);
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = 0xfffd;
      } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }
}

class GuestTextDecoder {
  readonly encoding = "utf-8";
  private pending: number[] = [];
  constructor(
    label = "utf-8",
    readonly options: { fatal?: boolean } = {},
  ) {
    if (!/^utf-?8$/i.test(label)) throw new RangeError(`TextDecoder: only UTF-8 is supported here, not ${label}`);
  }
  decode(input?: ArrayBuffer | ArrayBufferView, opts: { stream?: boolean } = {}): string {
    const bytes =
      input === undefined
        ? new Uint8Array(0)
        : input instanceof ArrayBuffer
          ? new Uint8Array(input)
          : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const all = this.pending.concat(Array.from(bytes));
    this.pending = [];
    let out = "";
    let i = 0;
    const bad = (): void => {
      if (this.options.fatal === true) throw new TypeError("The encoded data was not valid UTF-8");
      out += "\ufffd";
    };
    while (i < all.length) {
      const b = all[i]!;
      const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
      if (need < 0) {
        bad();
        i++;
        continue;
      }
      // A sequence cut off by the end of a streamed chunk waits for the next chunk.
      if (opts.stream === true && need > 0 && i + need >= all.length) {
        this.pending = all.slice(i);
        break;
      }
      let c = need === 0 ? b : b & (0x3f >> need);
      let j = 1;
      for (; j <= need; j++) {
        const n = all[i + j];
        if (n === undefined || (n & 0xc0) !== 0x80) break;
        c = (c << 6) | (n & 63);
      }
      if (j <= need) {
        bad();
        i += j;
        continue;
      }
      if ((need === 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (need === 3 && (c < 0x10000 || c > 0x10ffff))) bad();
      else out += String.fromCodePoint(c);
      i += need + 1;
    }
    return out;
  }
}
define("TextEncoder", GuestTextEncoder);
define("TextDecoder", GuestTextDecoder);

define("structuredClone", (value: unknown) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value))));

export {};
