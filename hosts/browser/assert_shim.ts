/**
 * `node:assert/strict` for the browser bundle of the test suite (the Chromium
 * host aliases the module to this file). It implements the strict-mode assert
 * functions with Node's semantics: `equal` is `Object.is`, `deepEqual` is
 * Node's strict deep equality (prototypes, Map, Set, Error name/message,
 * Date, RegExp, typed arrays, boxed primitives, symbol keys, cycles), and
 * `throws`/`rejects` accept a class, a validation function, a RegExp or an
 * object of expected properties, as Node's do. Messages are shorter than
 * Node's (no coloured diff), but name both values.
 */

type Matcher = unknown;

/** The error every failed assertion throws (`code` is `ERR_ASSERTION`, as in Node). */
export class AssertionError extends Error {
  readonly code = "ERR_ASSERTION";
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  readonly generatedMessage: boolean;
  constructor(options: { message?: string | undefined; actual?: unknown; expected?: unknown; operator?: string; generated?: string }) {
    super(options.message ?? options.generated ?? "Failed");
    this.name = "AssertionError";
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator ?? "fail";
    this.generatedMessage = options.message === undefined;
  }
}

// ── formatting ───────────────────────────────────────────────────────────────

/** A short, `util.inspect`-like rendering of a value for failure messages. */
export function formatValue(value: unknown, depth = 3): string {
  return format(value, depth, new Set());
}

function format(value: unknown, depth: number, seen: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
    case "boolean":
    case "undefined":
      return String(value);
    case "function":
      return `[Function: ${(value as { name?: string }).name || "(anonymous)"}]`;
  }
  if (value === null) return "null";
  const obj = value as object;
  if (seen.has(obj)) return "[Circular]";
  if (obj instanceof Error) {
    const name = obj.name || obj.constructor?.name || "Error";
    return `${name}: ${obj.message}`;
  }
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (obj instanceof RegExp) return String(obj);
  if (depth < 0) return Array.isArray(obj) ? "[Array]" : "[Object]";
  seen.add(obj);
  try {
    const inner = (v: unknown): string => format(v, depth - 1, seen);
    if (Array.isArray(obj)) {
      const items = obj.slice(0, 50).map(inner);
      if (obj.length > 50) items.push(`… ${obj.length - 50} more`);
      return `[ ${items.join(", ")} ]`.replace("[  ]", "[]");
    }
    if (obj instanceof Map) {
      const items = [...obj].slice(0, 50).map(([k, v]) => `${inner(k)} => ${inner(v)}`);
      return `Map(${obj.size}) { ${items.join(", ")} }`;
    }
    if (obj instanceof Set) return `Set(${obj.size}) { ${[...obj].slice(0, 50).map(inner).join(", ")} }`;
    if (ArrayBuffer.isView(obj))
      return `${obj.constructor.name}(${(obj as Uint8Array).length ?? obj.byteLength}) [ ${Array.from(obj as Uint8Array)
        .slice(0, 50)
        .join(", ")} ]`;
    const proto = Object.getPrototypeOf(obj) as { constructor?: { name?: string } } | null;
    const ctor = proto === null ? "[Object: null prototype]" : proto.constructor?.name;
    const prefix = ctor === undefined || ctor === "Object" ? "" : `${ctor} `;
    const keys: (string | symbol)[] = [
      ...Object.keys(obj),
      ...Object.getOwnPropertySymbols(obj).filter((s) => Object.prototype.propertyIsEnumerable.call(obj, s)),
    ];
    if (keys.length === 0) return `${prefix}{}`;
    const record = obj as Record<string | symbol, unknown>;
    const items = keys
      .slice(0, 50)
      .map(
        (k) => `${typeof k === "symbol" ? `[${String(k)}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inner(record[k])}`,
      );
    return `${prefix}{ ${items.join(", ")} }`;
  } finally {
    seen.delete(obj);
  }
}

// ── strict deep equality (Node's isDeepStrictEqual) ──────────────────────────

const tagOf = (v: object): string => Object.prototype.toString.call(v);

function ownEnumerableKeys(v: object): (string | symbol)[] {
  const keys: (string | symbol)[] = Object.keys(v);
  for (const s of Object.getOwnPropertySymbols(v)) if (Object.prototype.propertyIsEnumerable.call(v, s)) keys.push(s);
  return keys;
}

function isIndexKey(key: string | symbol, length: number): boolean {
  if (typeof key !== "string") return false;
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < length && String(n) === key;
}

type Memo = Map<object, Set<object>>;

/** `true` when `a` and `b` are deeply and strictly equal, as Node's `assert.deepStrictEqual` decides. */
export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return deepEq(a, b, new Map());
}

function deepEq(a: unknown, b: unknown, memo: Memo): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (tagOf(a) !== tagOf(b)) return false;

  // Cycles: a pair that is being compared further up the stack is assumed equal.
  let partners = memo.get(a);
  if (partners?.has(b)) return true;
  if (partners === undefined) memo.set(a, (partners = new Set()));
  partners.add(b);
  try {
    return deepEqObjects(a, b, memo);
  } finally {
    partners.delete(b);
    if (partners.size === 0) memo.delete(a);
  }
}

function deepEqObjects(a: object, b: object, memo: Memo): boolean {
  let skipIndexKeys = -1;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) {
      const hasA = Object.prototype.hasOwnProperty.call(a, i);
      if (hasA !== Object.prototype.hasOwnProperty.call(bb, i)) return false;
      if (hasA && !deepEq(a[i], bb[i], memo)) return false;
    }
    skipIndexKeys = a.length;
  } else if (a instanceof Date) {
    if (a.getTime() !== (b as Date).getTime()) return false;
  } else if (a instanceof RegExp) {
    const rb = b as RegExp;
    if (a.source !== rb.source || a.flags !== rb.flags || a.lastIndex !== rb.lastIndex) return false;
  } else if (a instanceof Error) {
    const eb = b as Error;
    if (!(eb instanceof Error) || a.message !== eb.message || a.name !== eb.name) return false;
  } else if (ArrayBuffer.isView(a)) {
    const va = a as ArrayBufferView;
    const vb = b as ArrayBufferView;
    if (va.byteLength !== vb.byteLength) return false;
    const ba = new Uint8Array(va.buffer, va.byteOffset, va.byteLength);
    const bb = new Uint8Array(vb.buffer, vb.byteOffset, vb.byteLength);
    for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return false;
    // Listing a large typed array's keys (a string per byte) takes seconds in
    // an interpreter (QuickJS); extra named properties on a typed array go
    // unchecked instead.
    return true;
  } else if (a instanceof ArrayBuffer) {
    const ba = new Uint8Array(a);
    const bb = new Uint8Array(b as ArrayBuffer);
    if (ba.length !== bb.length) return false;
    for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return false;
  } else if (a instanceof Set) {
    if (!setEquiv(a, b as Set<unknown>, memo)) return false;
  } else if (a instanceof Map) {
    if (!mapEquiv(a, b as Map<unknown, unknown>, memo)) return false;
  } else if (a instanceof Number || a instanceof String || a instanceof Boolean || a instanceof BigInt || a instanceof Symbol) {
    if (!Object.is(a.valueOf(), (b as { valueOf(): unknown }).valueOf())) return false;
  }

  const keysA = ownEnumerableKeys(a).filter((k) => !isIndexKey(k, skipIndexKeys));
  const keysB = ownEnumerableKeys(b).filter((k) => !isIndexKey(k, skipIndexKeys));
  if (keysA.length !== keysB.length) return false;
  for (const k of keysA) if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
  const ra = a as Record<string | symbol, unknown>;
  const rb = b as Record<string | symbol, unknown>;
  for (const k of keysA) if (!deepEq(ra[k], rb[k], memo)) return false;
  return true;
}

const isObjectLike = (v: unknown): v is object => typeof v === "object" && v !== null;

function setEquiv(a: Set<unknown>, b: Set<unknown>, memo: Memo): boolean {
  if (a.size !== b.size) return false;
  const pending: object[] = [];
  for (const v of a) {
    if (isObjectLike(v)) {
      if (!b.has(v)) pending.push(v);
    } else if (!b.has(v)) return false;
  }
  if (pending.length === 0) return true;
  const candidates = [...b].filter((v): v is object => isObjectLike(v) && !a.has(v));
  for (const v of pending) {
    const i = candidates.findIndex((c) => deepEq(v, c, memo));
    if (i < 0) return false;
    candidates.splice(i, 1);
  }
  return true;
}

function mapEquiv(a: Map<unknown, unknown>, b: Map<unknown, unknown>, memo: Memo): boolean {
  if (a.size !== b.size) return false;
  const pending: [object, unknown][] = [];
  for (const [k, v] of a) {
    if (isObjectLike(k) && !b.has(k)) pending.push([k, v]);
    else if (!b.has(k) || !deepEq(v, b.get(k), memo)) return false;
  }
  if (pending.length === 0) return true;
  const candidates = [...b].filter(([k]) => isObjectLike(k) && !a.has(k));
  for (const [k, v] of pending) {
    const i = candidates.findIndex(([ck, cv]) => deepEq(k, ck, memo) && deepEq(v, cv, memo));
    if (i < 0) return false;
    candidates.splice(i, 1);
  }
  return true;
}

// ── the assert functions ─────────────────────────────────────────────────────

function fail_(message: string | Error | undefined, generated: string, actual: unknown, expected: unknown, operator: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, generated, actual, expected, operator });
}

/** `assert(value, message)`: the same as `ok`. */
function assert(value: unknown, message?: string | Error): asserts value {
  ok(value, message);
}

export function ok(...args: [value?: unknown, message?: string | Error]): void {
  if (args.length === 0) fail_(undefined, "No value argument passed to `assert.ok()`", undefined, true, "==");
  const [value, message] = args;
  if (!value) fail_(message, `The expression evaluated to a falsy value: ${formatValue(value)}`, value, true, "==");
}

export function equal(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!Object.is(actual, expected)) {
    fail_(
      message,
      `Expected values to be strictly equal:\n  actual:   ${formatValue(actual)}\n  expected: ${formatValue(expected)}`,
      actual,
      expected,
      "strictEqual",
    );
  }
}

export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) {
    fail_(message, `Expected "actual" to be strictly unequal to: ${formatValue(expected)}`, actual, expected, "notStrictEqual");
  }
}

export function deepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!isDeepStrictEqual(actual, expected)) {
    fail_(
      message,
      `Expected values to be strictly deep-equal:\n  actual:   ${formatValue(actual, 6)}\n  expected: ${formatValue(expected, 6)}`,
      actual,
      expected,
      "deepStrictEqual",
    );
  }
}

export function notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (isDeepStrictEqual(actual, expected)) {
    fail_(
      message,
      `Expected "actual" not to be strictly deep-equal to: ${formatValue(expected, 6)}`,
      actual,
      expected,
      "notDeepStrictEqual",
    );
  }
}

export function fail(message?: string | Error): never {
  fail_(message, "Failed", undefined, undefined, "fail");
}

export function match(string: unknown, regexp: RegExp, message?: string | Error): void {
  if (!(regexp instanceof RegExp))
    throw new TypeError(`The "regexp" argument must be an instance of RegExp. Received ${formatValue(regexp)}`);
  if (typeof string !== "string" || regexp.exec(string) === null) {
    fail_(
      message,
      typeof string !== "string"
        ? `The "string" argument must be of type string. Received type ${typeof string} (${formatValue(string)})`
        : `The input did not match the regular expression ${String(regexp)}. Input:\n\n${formatValue(string)}\n`,
      string,
      regexp,
      "match",
    );
  }
}

export function doesNotMatch(string: unknown, regexp: RegExp, message?: string | Error): void {
  if (!(regexp instanceof RegExp))
    throw new TypeError(`The "regexp" argument must be an instance of RegExp. Received ${formatValue(regexp)}`);
  if (typeof string !== "string" || regexp.exec(string) !== null) {
    fail_(
      message,
      typeof string !== "string"
        ? `The "string" argument must be of type string. Received type ${typeof string} (${formatValue(string)})`
        : `The input was expected to not match the regular expression ${String(regexp)}. Input:\n\n${formatValue(string)}\n`,
      string,
      regexp,
      "doesNotMatch",
    );
  }
}

export function ifError(value: unknown): void {
  if (value !== null && value !== undefined) {
    if (value instanceof Error) throw value;
    fail_(undefined, `ifError got unwanted exception: ${formatValue(value)}`, value, null, "ifError");
  }
}

const NO_EXCEPTION = Symbol("no exception");

/** Checks a thrown value against `throws`/`rejects`' second argument, as Node's `expectedException` does. */
function checkExpected(actual: unknown, expected: Matcher, message: string | Error | undefined, operator: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    const text = String(actual);
    if (expected.exec(text) !== null) return;
    fail_(
      message,
      `The input did not match the regular expression ${String(expected)}. Input:\n\n${formatValue(text)}\n`,
      actual,
      expected,
      operator,
    );
  }
  if (typeof expected === "function") {
    const fn = expected as { prototype?: unknown; name?: string; call(thisArg: unknown, v: unknown): unknown };
    if (fn.prototype !== undefined && actual instanceof (expected as new () => unknown)) return;
    if (Object.prototype.isPrototypeOf.call(Error, expected)) {
      fail_(
        message,
        `The error is expected to be an instance of "${fn.name}". Received ${formatValue(actual)}`,
        actual,
        expected,
        operator,
      );
    }
    const result = fn.call({}, actual);
    if (result !== true) {
      fail_(
        message,
        `The ${fn.name ? `"${fn.name}" ` : ""}validation function is expected to return "true". Received ${formatValue(result)}\n\nCaught error:\n\n${formatValue(actual)}`,
        actual,
        expected,
        operator,
      );
    }
    return;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null) {
      fail_(
        message,
        `The thrown value is not an object: ${formatValue(actual)} (expected ${formatValue(expected)})`,
        actual,
        expected,
        operator,
      );
    }
    const keys: (string | symbol)[] = ownEnumerableKeys(expected);
    if (expected instanceof Error) keys.push("name", "message");
    const got = actual as Record<string | symbol, unknown>;
    const want = expected as Record<string | symbol, unknown>;
    for (const key of keys) {
      const w = want[key];
      const g = got[key];
      if (typeof g === "string" && w instanceof RegExp && w.exec(g) !== null) continue;
      if (!(key in got) || !isDeepStrictEqual(g, w)) {
        fail_(
          message,
          `Expected values to be strictly deep-equal (property ${String(key)}):\n  actual:   ${formatValue(g)}\n  expected: ${formatValue(w)}`,
          actual,
          expected,
          operator,
        );
      }
    }
    return;
  }
  throw new TypeError(`The "expected" argument must be a function, RegExp or object. Received ${formatValue(expected)}`);
}

function splitArgs(expected: Matcher, message: string | Error | undefined): [Matcher, string | Error | undefined] {
  return typeof expected === "string" && message === undefined ? [undefined, expected] : [expected, message];
}

const describeExpected = (expected: Matcher): string =>
  typeof expected === "function" && (expected as { name?: string }).name ? ` (${(expected as { name: string }).name})` : "";

export function throws(fn: () => unknown, expectedOrMessage?: Matcher, maybeMessage?: string | Error): void {
  if (typeof fn !== "function") throw new TypeError(`The "fn" argument must be of type function. Received ${formatValue(fn)}`);
  const [expected, message] = splitArgs(expectedOrMessage, maybeMessage);
  let actual: unknown = NO_EXCEPTION;
  try {
    fn();
  } catch (error) {
    actual = error;
  }
  if (actual === NO_EXCEPTION) {
    fail_(message, `Missing expected exception${describeExpected(expected)}.`, undefined, expected, "throws");
  }
  checkExpected(actual, expected, message, "throws");
}

export async function rejects(
  promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
  expectedOrMessage?: Matcher,
  maybeMessage?: string | Error,
): Promise<void> {
  const [expected, message] = splitArgs(expectedOrMessage, maybeMessage);
  let promise: unknown = promiseOrFn;
  if (typeof promiseOrFn === "function") {
    promise = promiseOrFn();
    if (typeof (promise as { then?: unknown } | null)?.then !== "function") {
      throw new TypeError(`Expected instance of Promise to be returned from the "promiseFn" function but got ${formatValue(promise)}.`);
    }
  } else if (typeof (promise as { then?: unknown } | null)?.then !== "function") {
    throw new TypeError(`The "promiseFn" argument must be of type function or an instance of Promise. Received ${formatValue(promise)}`);
  }
  let actual: unknown = NO_EXCEPTION;
  try {
    await promise;
  } catch (error) {
    actual = error;
  }
  if (actual === NO_EXCEPTION) {
    fail_(message, `Missing expected rejection${describeExpected(expected)}.`, undefined, expected, "rejects");
  }
  checkExpected(actual, expected, message, "rejects");
}

function unwanted(actual: unknown, expected: Matcher, message: string | Error | undefined, what: string, operator: string): void {
  // As in Node: an error of another class than the one named is rethrown as is.
  if (
    typeof expected === "function" &&
    (expected as { prototype?: unknown }).prototype !== undefined &&
    !(actual instanceof (expected as new () => unknown))
  ) {
    throw actual;
  }
  if (expected instanceof RegExp && expected.exec(String(actual)) === null) throw actual;
  const detail = actual instanceof Error ? actual.message : formatValue(actual);
  fail_(message, `Got unwanted ${what}${describeExpected(expected)}.\nActual message: "${detail}"`, actual, expected, operator);
}

export function doesNotThrow(fn: () => unknown, expectedOrMessage?: Matcher, maybeMessage?: string | Error): void {
  const [expected, message] = splitArgs(expectedOrMessage, maybeMessage);
  try {
    fn();
  } catch (error) {
    unwanted(error, expected, message, "exception", "doesNotThrow");
  }
}

export async function doesNotReject(
  promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
  expectedOrMessage?: Matcher,
  maybeMessage?: string | Error,
): Promise<void> {
  const [expected, message] = splitArgs(expectedOrMessage, maybeMessage);
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    unwanted(error, expected, message, "rejection", "doesNotReject");
  }
}

/** The default export: callable like `ok`, with every function above as a property (strict mode names and aliases). */
const strict = Object.assign(assert, {
  AssertionError,
  ok,
  equal,
  strictEqual: equal,
  notEqual,
  notStrictEqual: notEqual,
  deepEqual,
  deepStrictEqual: deepEqual,
  notDeepEqual,
  notDeepStrictEqual: notDeepEqual,
  fail,
  match,
  doesNotMatch,
  ifError,
  throws,
  rejects,
  doesNotThrow,
  doesNotReject,
  strict: undefined as unknown,
});
strict.strict = strict;

export { equal as strictEqual, notEqual as notStrictEqual, deepEqual as deepStrictEqual, notDeepEqual as notDeepStrictEqual, strict };
export default strict;
