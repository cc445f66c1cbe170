/**
 * The byte classes of RFC 9110 §5.6 and RFC 9112 that the parser and the
 * serializer check against, as lookup tables (one load per byte on the hot
 * path), and the Latin-1 conversions HTTP heads are made of: a field value
 * may carry obs-text (0x80–0xFF), which is not UTF-8, so heads are decoded
 * byte for char and never through a UTF-8 decoder that would replace bytes.
 */

/** `tchar` (RFC 9110 §5.6.2): the characters of a token (method, field name, coding). */
export const TOKEN: Uint8Array = new Uint8Array(256);
/** Field-value bytes (RFC 9110 §5.5): HTAB, SP, VCHAR and obs-text; no other control. */
export const FIELD_VALUE: Uint8Array = new Uint8Array(256);
/** Request-target bytes (RFC 9112 §3.2): visible ASCII, no space or control. */
export const TARGET: Uint8Array = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  const visible = c > 0x20 && c < 0x7f;
  TOKEN[c] = visible && !'"(),/:;<=>?@[\\]{}'.includes(String.fromCharCode(c)) ? 1 : 0;
  FIELD_VALUE[c] = c === 0x09 || c === 0x20 || visible || c >= 0x80 ? 1 : 0;
  TARGET[c] = visible ? 1 : 0;
}

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** True when every char of `text` is a token char (and there is at least one). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

/**
 * Node's own Latin-1 decoder (`Buffer.prototype.latin1Slice`), which reads
 * any Uint8Array: about twice as fast as `String.fromCharCode` over a view,
 * and the parser decodes every method, target, name and value with it. Used
 * only where the host has it and it decodes a probe correctly (Bun and Deno
 * mimic Node's Buffer to different depths); otherwise the portable path.
 */
const nativeLatin1: Latin1Slice | undefined = (() => {
  const candidate = (globalThis as { Buffer?: { prototype?: { latin1Slice?: unknown } } }).Buffer?.prototype?.latin1Slice;
  if (typeof candidate !== "function") return undefined;
  try {
    const probe = Uint8Array.of(0x41, 0x7a, 0x80, 0xe9, 0xff);
    const text = (candidate as Latin1Slice).call(probe, 1, 5);
    return text === "z\x80\xe9\xff" ? (candidate as Latin1Slice) : undefined;
  } catch {
    return undefined;
  }
})();

/** Bytes `[start, end)` of `bytes` as a string, one char per byte. */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  return nativeLatin1 !== undefined ? nativeLatin1.call(bytes, start, end) : latin1Portable(bytes, start, end);
}

/** {@link latin1} on a host without Node's decoder. */
export function latin1Portable(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 4096) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let text = "";
  for (let at = start; at < end; at += 4096) text += latin1Portable(bytes, at, Math.min(end, at + 4096));
  return text;
}

/** Writes the Latin-1 chars of `text` (each ≤ 0xFF, checked by the caller) into `out` at `at`; returns the end. */
export function putLatin1(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Throws a TypeError naming `what` when `value` holds CR, LF or NUL (header
 * injection), another control char, or a char beyond Latin-1. `api` is the
 * call that received it.
 */
export function requireFieldValue(api: string, what: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0xff && FIELD_VALUE[c] === 1) continue;
    throw new TypeError(`${api}: ${what} must not contain ${describeChar(c)} (at index ${i})`);
  }
}

/** Throws a TypeError naming `what` unless `value` is a non-empty token. */
export function requireToken(api: string, what: string, value: unknown): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${api}: ${what} must be a string, got ${typeof value}`);
  if (value.length === 0) throw new TypeError(`${api}: ${what} must not be empty`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0xff && TOKEN[c] === 1) continue;
    throw new TypeError(`${api}: ${what} must be a token (RFC 9110 §5.6.2); it contains ${describeChar(c)} (at index ${i})`);
  }
}

/** How an error message names a char that is not allowed. */
export function describeChar(c: number): string {
  if (c === CR) return "CR";
  if (c === LF) return "LF";
  if (c === 0) return "NUL";
  if (c < 0x20 || c === 0x7f) return `the control character 0x${c.toString(16).padStart(2, "0")}`;
  if (c > 0xff) return `the character U+${c.toString(16).toUpperCase().padStart(4, "0")}, which is beyond Latin-1`;
  return `'${String.fromCharCode(c)}'`;
}
