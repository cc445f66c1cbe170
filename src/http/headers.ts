/**
 * `HttpHeaders`: the header fields of one message, in the order they were
 * given, repeated fields kept as separate lines (`Set-Cookie` must never be
 * joined), names matched without regard to case.
 *
 * Three parallel arrays rather than a Map of lists: a head has a handful of
 * fields, a linear scan over interned lower-case names beats hashing, and the
 * order of lines (which a proxy must keep) costs nothing extra. Everything a
 * user puts in is checked here, once, so the serializer can write any
 * `HttpHeaders` without looking again: a name must be a token and a value
 * must hold no CR, LF, NUL or other control char (header injection is a
 * TypeError before a byte is written). Fields parsed from the wire skip the
 * check, the parser having applied a stricter one.
 */
import { describe } from "../core/operation.ts";
import { requireFieldValue, requireToken } from "./codec/chars.ts";

/** What an {@link HttpHeaders} can be made from. */
export type HttpHeadersInit =
  | HttpHeaders
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[]>>;

/**
 * The header fields of a request or a response.
 *
 * @example
 * ```ts
 * const headers = new HttpHeaders({ "Content-Type": "text/plain" });
 * headers.append("Set-Cookie", "a=1").append("Set-Cookie", "b=2");
 * console.log(headers.get("content-type")); // prints text/plain
 * console.log(headers.getAll("set-cookie")); // prints [ 'a=1', 'b=2' ]
 * try {
 *   headers.set("X-Injected", "1\r\nEvil: yes");
 * } catch (e) {
 *   console.log(e instanceof TypeError); // prints true
 * }
 * ```
 */
export class HttpHeaders implements Iterable<[name: string, value: string]> {
  #names: string[] = [];
  #keys: string[] = [];
  #values: string[] = [];

  /**
   * Creates the headers, checking every name and value.
   *
   * @param init fields to start with: another `HttpHeaders`, `[name, value]` pairs, or a record (an array value gives repeated lines)
   */
  constructor(init?: HttpHeadersInit) {
    if (init === undefined) return;
    if (init instanceof HttpHeaders) {
      this.#names = init.#names.slice();
      this.#keys = init.#keys.slice();
      this.#values = init.#values.slice();
      return;
    }
    if (typeof init !== "object" || init === null) {
      throw new TypeError(
        `HttpHeaders: init must be an HttpHeaders, an iterable of [name, value] pairs or a record, got ${describe(init)}`,
      );
    }
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError("HttpHeaders: each entry of init must be a [name, value] pair");
        this.append(pair[0], pair[1]);
      }
      return;
    }
    for (const [name, value] of Object.entries(init as Record<string, string | number | readonly string[]>)) {
      if (Array.isArray(value)) for (const one of value as readonly string[]) this.append(name, one);
      else this.append(name, value as string | number);
    }
  }

  /** The number of field lines. */
  get size(): number {
    return this.#names.length;
  }

  /** The value of `name`; repeated lines joined with ", " (use {@link HttpHeaders.getAll} for `Set-Cookie`). */
  get(name: string): string | undefined {
    const key = lower(name);
    let found: string | undefined;
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      found = found === undefined ? this.#values[i]! : `${found}, ${this.#values[i]!}`;
    }
    return found;
  }

  /** Every value of `name`, one per line, in order. */
  getAll(name: string): string[] {
    const key = lower(name);
    const all: string[] = [];
    for (let i = 0; i < this.#keys.length; i++) if (this.#keys[i] === key) all.push(this.#values[i]!);
    return all;
  }

  /** True when there is at least one `name` line. */
  has(name: string): boolean {
    return this.#keys.includes(lower(name));
  }

  /**
   * Replaces every `name` line with one (where the first one was). Throws a
   * TypeError when `name` is not a token or `value` holds CR, LF, NUL or
   * another control char.
   */
  set(name: string, value: string | number): this {
    const text = checked("HttpHeaders.set()", name, value);
    const key = lower(name);
    const at = this.#keys.indexOf(key);
    if (at === -1) return this.#push(name, key, text);
    this.#names[at] = name;
    this.#values[at] = text;
    for (let i = this.#keys.length - 1; i > at; i--) if (this.#keys[i] === key) this.#removeAt(i);
    return this;
  }

  /** Adds a `name` line after the others. Checks like {@link HttpHeaders.set}. */
  append(name: string, value: string | number): this {
    const text = checked("HttpHeaders.append()", name, value);
    return this.#push(name, lower(name), text);
  }

  /** Removes every `name` line; true when there was one. */
  delete(name: string): boolean {
    const key = lower(name);
    let removed = false;
    for (let i = this.#keys.length - 1; i >= 0; i--) {
      if (this.#keys[i] !== key) continue;
      this.#removeAt(i);
      removed = true;
    }
    return removed;
  }

  /**
   * True when `name`, read as a comma-separated list (as `Connection` or
   * `Transfer-Encoding` are), holds `token`, compared without regard to case.
   */
  hasToken(name: string, token: string): boolean {
    const key = lower(name);
    const wanted = lower(token);
    for (let i = 0; i < this.#keys.length; i++) {
      if (this.#keys[i] !== key) continue;
      const value = this.#values[i]!;
      if (value.length === wanted.length ? lower(value) === wanted : listHas(value, wanted)) return true;
    }
    return false;
  }

  /** The field lines in order, names as given. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.#names.length; i++) yield [this.#names[i]!, this.#values[i]!];
  }

  /** The field lines as a record of lower-case names (repeated values joined with ", "), for logging. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.#keys.length; i++) {
      const key = this.#keys[i]!;
      out[key] = key in out ? `${out[key]}, ${this.#values[i]!}` : this.#values[i]!;
    }
    return out;
  }

  /**
   * @internal {@link HttpHeaders.set} for a field the library makes itself
   * (`Date`, `Content-Length`, `Connection`...): `key` is a lower-case token
   * and `value` is known to be clean, so neither is checked again.
   */
  setTrusted(key: string, value: string): void {
    const at = this.#keys.indexOf(key);
    if (at === -1) {
      this.#push(key, key, value);
      return;
    }
    this.#names[at] = key;
    this.#values[at] = value;
    for (let i = this.#keys.length - 1; i > at; i--) if (this.#keys[i] === key) this.#removeAt(i);
  }

  /** @internal How many `key` lines there are (`key` in lower case): for the framing rules, without building arrays. */
  countOf(key: string): number {
    const keys = this.#keys;
    let n = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) n++;
    return n;
  }

  /** @internal For the parser: a field it has already checked (`key` is `name` in lower case). */
  appendParsed(name: string, key: string, value: string): void {
    this.#push(name, key, value);
  }

  /** @internal For the serializer: line `i`'s name and value. */
  nameAt(i: number): string {
    return this.#names[i]!;
  }

  /** @internal For the serializer. */
  valueAt(i: number): string {
    return this.#values[i]!;
  }

  #push(name: string, key: string, value: string): this {
    this.#names.push(name);
    this.#keys.push(key);
    this.#values.push(value);
    return this;
  }

  #removeAt(i: number): void {
    this.#names.splice(i, 1);
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
  }
}

function checked(api: string, name: unknown, value: unknown): string {
  requireToken(api, "a header name", name);
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isFinite(value)) text = String(value);
  else throw new TypeError(`${api}: the value of ${name} must be a string or a finite number, got ${describe(value)}`);
  requireFieldValue(api, `the value of ${name}`, text);
  return trimWhitespace(text);
}

/** Strips leading and trailing SP and HTAB (RFC 9110 §5.5: they are not part of the value). */
function trimWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `name` in lower case; names are ASCII tokens, so this is cheap and exact. */
function lower(name: string): string {
  if (typeof name !== "string") throw new TypeError(`HttpHeaders: a header name must be a string, got ${describe(name)}`);
  return name.toLowerCase();
}

/** True when the comma-separated `list` holds `token` (already lower case). */
function listHas(list: string, token: string): boolean {
  for (const item of list.split(",")) if (lower(item.trim()) === token) return true;
  return false;
}
