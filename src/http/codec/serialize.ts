/**
 * Message heads as bytes. Every user-given part is checked before a byte is
 * produced: a method must be a token, a target visible ASCII, a reason
 * phrase free of control chars; header fields were checked when they were
 * put into their {@link HttpHeaders}. So a CR, LF or NUL smuggled into any of
 * them is a TypeError, never a second header or a second message.
 */
import { allocBytes } from "../../io/byte_pool.ts";
import type { HttpHeaders } from "../headers.ts";
import { TARGET, describeChar, putLatin1, requireFieldValue, requireToken } from "./chars.ts";

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a Teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

/** The standard reason phrase of `status`, or "" when it has none. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "";
}

/** Throws a TypeError unless `status` is an integer from 100 to 999. */
export function requireStatus(api: string, status: unknown): asserts status is number {
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`${api}: status must be an integer from 100 to 999, got ${String(status)}`);
  }
}

/** `method SP target SP HTTP/1.1 CRLF fields CRLF`. Throws a TypeError naming the bad part. */
export function requestHeadBytes(method: string, target: string, headers: HttpHeaders): Uint8Array {
  requireToken("request", "method", method);
  requireTarget(target);
  const size = method.length + target.length + 12 + fieldsLength(headers);
  const out = allocBytes(size);
  let at = putLatin1(out, 0, method);
  out[at++] = 32;
  at = putLatin1(out, at, target);
  at = putLatin1(out, at, " HTTP/1.1\r\n");
  putFields(out, at, headers);
  return out;
}

/**
 * `HTTP/1.1 SP status SP reason CRLF fields CRLF`, followed by `body` when
 * one is given (so that a small response is built in one buffer and sent in
 * one write). Throws a TypeError (or RangeError) naming the bad part.
 */
export function responseHeadBytes(status: number, reason: string | undefined, headers: HttpHeaders, body?: Uint8Array): Uint8Array {
  requireStatus("response", status);
  const phrase = reason ?? reasonPhrase(status);
  if (typeof phrase !== "string") throw new TypeError(`response: reason must be a string, got ${typeof phrase}`);
  requireFieldValue("response", "the reason phrase", phrase);
  const size = 13 + phrase.length + 2 + fieldsLength(headers);
  const out = allocBytes(body === undefined ? size : size + body.length);
  if (body !== undefined) out.set(body, size);
  let at = putLatin1(out, 0, "HTTP/1.1 ");
  out[at++] = 48 + Math.floor(status / 100);
  out[at++] = 48 + (Math.floor(status / 10) % 10);
  out[at++] = 48 + (status % 10);
  out[at++] = 32;
  at = putLatin1(out, at, phrase);
  out[at++] = 13;
  out[at++] = 10;
  putFields(out, at, headers);
  return out;
}

function requireTarget(target: unknown): asserts target is string {
  if (typeof target !== "string") throw new TypeError(`request: target must be a string, got ${typeof target}`);
  if (target.length === 0) throw new TypeError("request: target must not be empty");
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c > 0xff || TARGET[c] === 0)
      throw new TypeError(`request: target must not contain ${describeChar(c)} (at index ${i}); percent-encode it`);
  }
}

/** Bytes of every `name: value CRLF` and the final CRLF. */
function fieldsLength(headers: HttpHeaders): number {
  let size = 2;
  for (let i = 0; i < headers.size; i++) size += headers.nameAt(i).length + headers.valueAt(i).length + 4;
  return size;
}

function putFields(out: Uint8Array, at: number, headers: HttpHeaders): number {
  for (let i = 0; i < headers.size; i++) {
    at = putLatin1(out, at, headers.nameAt(i));
    out[at++] = 58;
    out[at++] = 32;
    at = putLatin1(out, at, headers.valueAt(i));
    out[at++] = 13;
    out[at++] = 10;
  }
  out[at++] = 13;
  out[at++] = 10;
  return at;
}
