/**
 * `HttpInput`: one connection's input, parsed a message head at a time.
 *
 * A connection carries messages back to back (keep-alive, pipelining), so
 * whatever arrives past a head belongs to the body or to the next request and
 * must stay here: the head parser and the body readers take bytes from this
 * one buffer, and an upgrade takes what is left. Bytes are consumed only when
 * a whole head (or a whole chunk-size line) has been parsed, so a read that is
 * cancelled half-way loses nothing and the next one starts over on the same
 * bytes.
 *
 * The head parser is strict RFC 9112 and bounded. It finds the line ends
 * first, enforcing the limits as bytes arrive (a request line longer than
 * `maxStartLineLength` is refused with 414 before more of it is read, a
 * header block past `maxHeaderSize` with 431), then parses the lines in one
 * pass over the bytes: every line must end in CRLF (a bare LF or CR is 400),
 * a field line starting with whitespace (obs-fold) is 400, a field name must
 * be a token directly followed by `:`, and a value may hold only HTAB, SP,
 * visible ASCII and obs-text. Leading empty lines before a request line are
 * skipped (RFC 9112 §2.2), within the start-line budget.
 */
import type { Operation } from "../../core/operation.ts";
import type { Reader } from "../../io/reader.ts";
import { ByteWindow } from "../../io/byte_window.ts";
import { HttpProtocolError } from "../errors.ts";
import { HttpHeaders } from "../headers.ts";
import type { ResolvedHttpLimits } from "../limits.ts";
import { COLON, CR, FIELD_VALUE, HTAB, LF, SP, TARGET, TOKEN, latin1 } from "./chars.ts";

/** A parsed request head. */
export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  headers: HttpHeaders;
}

/** A parsed response head. */
export interface ResponseHead {
  minorVersion: 0 | 1;
  status: number;
  reason: string;
  headers: HttpHeaders;
}

/** A chunk-size line (size and extensions) longer than this is refused. */
export const MAX_CHUNK_LINE = 4096;

/** The input side of one HTTP/1.1 connection. */
export class HttpInput {
  readonly #transport: Reader;
  /** Received bytes not yet parsed or handed out. */
  readonly #window = new ByteWindow();
  #ended = false;
  /** Line ends (offsets from the window's start of each LF) found by the last head scan; reused. */
  readonly #lineEnds: number[] = [];

  /**
   * Reads messages from `transport`.
   *
   * @param transport the connection (or any weft reader)
   */
  constructor(transport: Reader) {
    this.#transport = transport;
  }

  /** Bytes received and not yet taken. */
  get buffered(): number {
    return this.#window.end - this.#window.start;
  }

  /** True once the transport reported its end. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * The next bytes (at most `max`): buffered ones first, else from the
   * transport; `undefined` at end of stream. Takes nothing when cancelled.
   */
  *readSome(max: number): Operation<Uint8Array | undefined> {
    if (this.#window.end === this.#window.start && !(yield* this.#fill())) return undefined;
    return this.#window.take(Math.min(max, this.#window.end - this.#window.start));
  }

  /** Waits until at least one byte is buffered; false at end of stream. */
  *waitForBytes(): Operation<boolean> {
    return this.#window.end > this.#window.start || (yield* this.#fill());
  }

  /** Removes and returns every buffered byte (for an upgrade or a tunnel). */
  takeBuffered(): Uint8Array {
    return this.#window.take(this.#window.end - this.#window.start);
  }

  /**
   * The next request head; `undefined` when the stream ends cleanly before
   * its first byte. Throws {@link HttpProtocolError} (400, 414, 431, 505).
   */
  readRequestHead(limits: ResolvedHttpLimits): Operation<RequestHead | undefined> {
    return this.#readHead(limits, 414, 400, parseRequestLine);
  }

  /**
   * The next response head (1xx heads included: the caller reads on);
   * `undefined` when the stream ends before its first byte. Throws
   * {@link HttpProtocolError} with status 502.
   */
  readResponseHead(limits: ResolvedHttpLimits): Operation<ResponseHead | undefined> {
    return this.#readHead(limits, 502, 502, parseStatusLine);
  }

  /** A whole head: its start line parsed by `parseStartLine`, then its fields (a bad one is a `fieldStatus` error). */
  *#readHead<H extends { headers: HttpHeaders }>(
    limits: ResolvedHttpLimits,
    startLineStatus: number,
    fieldStatus: number,
    parseStartLine: (buf: Uint8Array, start: number, end: number) => H,
  ): Operation<H | undefined> {
    const lines = yield* this.#scanHead(limits, startLineStatus);
    if (lines === 0) return undefined;
    const buf = this.#window.bytes;
    const base = this.#window.start;
    const ends = this.#lineEnds;
    const first = firstNonEmptyLine(ends);
    const lineStart = first === 0 ? base : base + ends[first - 1]! + 1;
    const head = parseStartLine(buf, lineStart, base + ends[first]! - 1);
    head.headers = parseFields(buf, base, ends, first + 1, lines - 1, fieldStatus);
    this.#window.consume(ends[lines - 1]! + 1);
    return head;
  }

  /**
   * One CRLF-terminated line of at most `maxLength` bytes (CRLF not
   * counted), as Latin-1 text; throws {@link HttpProtocolError} with
   * `status` for a bare LF, an overlong line or the end of the stream.
   */
  *readLine(maxLength: number, status: number, what: string): Operation<string> {
    let from = this.#window.start;
    for (;;) {
      const lf = this.#window.bytes.indexOf(LF, from);
      if (lf !== -1 && lf < this.#window.end) {
        if (lf === this.#window.start || this.#window.bytes[lf - 1] !== CR)
          throw new HttpProtocolError(status, `${what} ends in a bare LF`);
        if (lf - 1 - this.#window.start > maxLength) throw new HttpProtocolError(status, `${what} is longer than ${maxLength} bytes`);
        const text = latin1(this.#window.bytes, this.#window.start, lf - 1);
        this.#window.consume(lf + 1 - this.#window.start);
        return text;
      }
      if (this.#window.end - this.#window.start > maxLength + 1)
        throw new HttpProtocolError(status, `${what} is longer than ${maxLength} bytes`);
      const scanned = this.#window.end - this.#window.start;
      if (!(yield* this.#fill())) throw new HttpProtocolError(status, `the stream ended in ${what}`);
      from = this.#window.start + scanned;
    }
  }

  /**
   * A block of field lines ended by an empty line (a chunked body's
   * trailers), within `limits`; throws {@link HttpProtocolError} with
   * `status`.
   */
  *readFields(limits: ResolvedHttpLimits, status: number): Operation<HttpHeaders> {
    const lines = yield* this.#scanFields(limits, status);
    const headers = parseFields(this.#window.bytes, this.#window.start, this.#lineEnds, 0, lines - 1, status);
    this.#window.consume(this.#lineEnds[lines - 1]! + 1);
    return headers;
  }

  /**
   * Finds the line ends of a whole head (start line, fields, empty line) in
   * the buffer, reading more as needed; returns the number of lines (0 for a
   * clean end of stream). Consumes nothing.
   */
  *#scanHead(limits: ResolvedHttpLimits, startLineStatus: number): Operation<number> {
    // Filled by index, never truncated: `length = 0` would drop the array's storage and regrow it for every head.
    const ends = this.#lineEnds;
    let count = 0;
    const isRequest = startLineStatus === 414;
    let lineStart = 0; // offsets from the window's start
    let from = 0;
    let startLineSeen = false;
    let fieldBytes = 0;
    for (;;) {
      // indexOf from an offset, not on a subarray: a view per line costs more than the scan (a Buffer's most of all).
      let lf = this.#window.bytes.indexOf(LF, this.#window.start + from);
      lf = lf === -1 || lf >= this.#window.end ? -1 : lf - this.#window.start - from;
      if (lf === -1) {
        const partial = this.#window.end - this.#window.start - lineStart;
        if (!startLineSeen) {
          if (partial > limits.maxStartLineLength + 1 || lineStart > limits.maxStartLineLength) {
            throw new HttpProtocolError(
              startLineStatus,
              `the ${isRequest ? "request" : "status"} line is longer than ${limits.maxStartLineLength} bytes`,
            );
          }
        } else if (fieldBytes + partial > limits.maxHeaderSize) {
          throw tooLarge(isRequest ? 431 : 502, limits.maxHeaderSize);
        }
        from = this.#window.end - this.#window.start;
        if (yield* this.#fill()) continue;
        if (this.#window.end === this.#window.start || isOnlyEmptyLines(this.#window.bytes, this.#window.start, this.#window.end)) return 0;
        throw new HttpProtocolError(isRequest ? 400 : 502, "the stream ended in the middle of a message head");
      }
      const at = from + lf; // offset of the LF
      if (at === lineStart || this.#window.bytes[this.#window.start + at - 1] !== CR) {
        throw new HttpProtocolError(isRequest ? 400 : 502, "a line of the message head ends in a bare LF (RFC 9112 §2.2 asks for CRLF)");
      }
      const length = at - 1 - lineStart;
      ends[count++] = at;
      if (!startLineSeen) {
        if (length > limits.maxStartLineLength || at > limits.maxStartLineLength + 2) {
          throw new HttpProtocolError(
            startLineStatus,
            `the ${isRequest ? "request" : "status"} line is longer than ${limits.maxStartLineLength} bytes`,
          );
        }
        if (length > 0) startLineSeen = true;
      } else {
        if (length === 0) return count;
        fieldBytes += length + 2;
        if (fieldBytes > limits.maxHeaderSize) throw tooLarge(isRequest ? 431 : 502, limits.maxHeaderSize);
        if (count - 1 > limits.maxHeaderCount) {
          throw new HttpProtocolError(isRequest ? 431 : 502, `the head has more than ${limits.maxHeaderCount} header fields`);
        }
      }
      lineStart = from = at + 1;
    }
  }

  /** Like {@link HttpInput.#scanHead} for a block of field lines with no start line. */
  *#scanFields(limits: ResolvedHttpLimits, status: number): Operation<number> {
    // Filled by index, never truncated: `length = 0` would drop the array's storage and regrow it for every head.
    const ends = this.#lineEnds;
    let count = 0;
    let lineStart = 0;
    let from = 0;
    for (;;) {
      let lf = this.#window.bytes.indexOf(LF, this.#window.start + from);
      lf = lf === -1 || lf >= this.#window.end ? -1 : lf - this.#window.start - from;
      if (lf === -1) {
        if (this.#window.end - this.#window.start > limits.maxHeaderSize + 2) throw tooLarge(status, limits.maxHeaderSize);
        from = this.#window.end - this.#window.start;
        if (yield* this.#fill()) continue;
        throw new HttpProtocolError(status, "the stream ended in the middle of the trailer fields");
      }
      const at = from + lf;
      if (at === lineStart || this.#window.bytes[this.#window.start + at - 1] !== CR) {
        throw new HttpProtocolError(status, "a trailer line ends in a bare LF (RFC 9112 §2.2 asks for CRLF)");
      }
      ends[count++] = at;
      if (at - 1 === lineStart) return count;
      if (at + 1 > limits.maxHeaderSize + 2) throw tooLarge(status, limits.maxHeaderSize);
      if (count > limits.maxHeaderCount) throw new HttpProtocolError(status, `more than ${limits.maxHeaderCount} trailer fields`);
      lineStart = from = at + 1;
    }
  }

  /** Reads more from the transport into the buffer; false at end of stream. */
  *#fill(): Operation<boolean> {
    if (this.#ended) return false;
    const chunk = yield* this.#transport.readSome();
    if (chunk === undefined) {
      this.#ended = true;
      return false;
    }
    this.#window.append(chunk);
    return true;
  }
}

/**
 * The index of the start line among the scanned line ends: the empty lines
 * (a lone CRLF each) before it are skipped, as RFC 9112 §2.2 advises and
 * llhttp does; how many fit is bounded by the start line's limit.
 */
function firstNonEmptyLine(ends: number[]): number {
  let first = 0;
  let lineStart = 0;
  while (ends[first] === lineStart + 1) {
    lineStart = ends[first]! + 1;
    first++;
  }
  return first;
}

function tooLarge(status: number, limit: number): HttpProtocolError {
  return new HttpProtocolError(status, `the header block is larger than ${limit} bytes`);
}

function isOnlyEmptyLines(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== CR && buf[i] !== LF) return false;
  return true;
}

/** `method SP request-target SP HTTP-version` in `buf[start, end)`. */
function parseRequestLine(buf: Uint8Array, start: number, end: number): RequestHead {
  let i = start;
  while (i < end && TOKEN[buf[i]!] === 1) i++;
  if (i === start || i >= end || buf[i] !== SP) throw badRequest("the request line does not start with a method (a token) and one space");
  const method = latin1(buf, start, i);
  const targetStart = ++i;
  while (i < end && TARGET[buf[i]!] === 1) i++;
  if (i === targetStart || i >= end || buf[i] !== SP)
    throw badRequest("the request target is empty or holds a character RFC 9112 §3.2 does not allow");
  const target = latin1(buf, targetStart, i);
  const minorVersion = parseVersion(buf, i + 1, end, 400);
  return { method, target, minorVersion, headers: undefined as unknown as HttpHeaders };
}

/** `HTTP-version SP status-code [SP reason-phrase]` in `buf[start, end)`. */
function parseStatusLine(buf: Uint8Array, start: number, end: number): ResponseHead {
  if (end - start < 12 || buf[start + 8] !== SP) throw badResponse("the status line does not start with an HTTP version and a space");
  const minorVersion = parseVersion(buf, start, start + 8, 502);
  let status = 0;
  for (let i = start + 9; i < start + 12; i++) {
    const digit = buf[i]! - 48;
    if (digit < 0 || digit > 9) throw badResponse("the status code is not three digits");
    status = status * 10 + digit;
  }
  if (status < 100) throw badResponse(`the status code ${status} is below 100`);
  let reason = "";
  if (end > start + 12) {
    if (buf[start + 12] !== SP) throw badResponse("the status code is not followed by a space");
    for (let i = start + 13; i < end; i++) if (FIELD_VALUE[buf[i]!] === 0) throw badResponse("the reason phrase holds a control character");
    reason = latin1(buf, start + 13, end);
  }
  return { minorVersion, status, reason, headers: undefined as unknown as HttpHeaders };
}

/** `HTTP/1.x` exactly filling `buf[start, end)`: 0 for 1.0, 1 for 1.1 and later 1.x. */
function parseVersion(buf: Uint8Array, start: number, end: number, status: number): 0 | 1 {
  const ok =
    end - start === 8 &&
    buf[start] === 72 && // H
    buf[start + 1] === 84 && // T
    buf[start + 2] === 84 && // T
    buf[start + 3] === 80 && // P
    buf[start + 4] === 47 && // /
    isDigit(buf[start + 5]!) &&
    buf[start + 6] === 46 && // .
    isDigit(buf[start + 7]!);
  if (!ok) throw new HttpProtocolError(status, "the HTTP version is not of the form HTTP/d.d (or something follows it)");
  // Only 1.0 and 1.1: llhttp refuses 1.2 and later too, and no client sends them (RFC 9110 §2.5 would read them as 1.1).
  if (buf[start + 5] !== 49 || buf[start + 7]! > 49) {
    const version = `${String.fromCharCode(buf[start + 5]!)}.${String.fromCharCode(buf[start + 7]!)}`;
    throw new HttpProtocolError(status === 400 ? 505 : status, `HTTP/${version} is not supported; only HTTP/1.0 and HTTP/1.1`);
  }
  return buf[start + 7] === 48 ? 0 : 1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parses field lines `from..to` (indices into `ends`; the last one excluded is the empty line) into headers. */
function parseFields(buf: Uint8Array, base: number, ends: number[], from: number, to: number, status: number): HttpHeaders {
  const headers = new HttpHeaders();
  for (let n = from; n < to; n++) {
    const start = n === 0 ? base : base + ends[n - 1]! + 1;
    const end = base + ends[n]! - 1; // the CR
    const c = buf[start]!;
    if (c === SP || c === HTAB) {
      throw new HttpProtocolError(status, "a header line starts with whitespace (obs-fold, which RFC 9112 §5.2 lets a server reject)");
    }
    let i = start;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    if (i === start || i === end || buf[i] !== COLON) {
      throw new HttpProtocolError(status, "a header name is empty, is not a token, or is not directly followed by ':'");
    }
    const name = latin1(buf, start, i);
    let valueStart = i + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && (buf[valueStart] === SP || buf[valueStart] === HTAB)) valueStart++;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    for (let j = valueStart; j < valueEnd; j++) {
      if (FIELD_VALUE[buf[j]!] === 0)
        throw new HttpProtocolError(status, `the value of ${name} holds a control character (CR, LF, NUL or another)`);
    }
    headers.appendParsed(name, name.toLowerCase(), latin1(buf, valueStart, valueEnd));
  }
  return headers;
}

function badRequest(message: string): HttpProtocolError {
  return new HttpProtocolError(400, message);
}

function badResponse(message: string): HttpProtocolError {
  return new HttpProtocolError(502, message);
}
