/**
 * How long a message body is (RFC 9112 §6.3), decided from its head before a
 * byte of it is read. This is where request smuggling is stopped: a request
 * whose length two parsers could read differently (Content-Length together
 * with Transfer-Encoding, two Content-Lengths, a coding list that does not
 * end in `chunked`) is refused with 400 and its connection closed, instead
 * of being given the benefit of the doubt.
 */
import { HttpProtocolError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";
import type { RequestHead, ResponseHead } from "./input.ts";

/** How a body is delimited. */
export type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "close" };

export const NO_BODY: BodyFraming = Object.freeze({ kind: "none" });
export const CHUNKED: BodyFraming = Object.freeze({ kind: "chunked" });
export const UNTIL_CLOSE: BodyFraming = Object.freeze({ kind: "close" });

/**
 * The framing of a request body; throws {@link HttpProtocolError} (400, or
 * 501 for a transfer coding weft does not implement) for an ambiguous or
 * malformed one, and for a missing or doubled Host on HTTP/1.1.
 */
export function requestFraming(head: RequestHead): BodyFraming {
  const headers = head.headers;
  if (head.minorVersion === 1) {
    const hosts = headers.countOf("host");
    if (hosts !== 1)
      throw new HttpProtocolError(
        400,
        hosts === 0
          ? "an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)"
          : "the request carries more than one Host header (RFC 9112 §3.2)",
      );
  }
  if (headers.countOf("transfer-encoding") > 0) {
    const codings = headers.getAll("transfer-encoding");
    if (headers.countOf("content-length") > 0) {
      throw new HttpProtocolError(
        400,
        "the request carries both Content-Length and Transfer-Encoding (RFC 9112 §6.1: a smuggling attempt)",
      );
    }
    if (head.minorVersion === 0) throw new HttpProtocolError(400, "an HTTP/1.0 request must not carry Transfer-Encoding (RFC 9112 §6.1)");
    return chunkedOrError(codings, 400);
  }
  const length = contentLength(headers, 400);
  return length === undefined || length === 0 ? NO_BODY : { kind: "length", length };
}

/**
 * The framing of a response to a `method` request; throws
 * {@link HttpProtocolError} (502) for a malformed one.
 */
export function responseFraming(head: ResponseHead, method: string): BodyFraming {
  const status = head.status;
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return NO_BODY;
  if (method === "CONNECT" && status < 300) return NO_BODY;
  const headers = head.headers;
  if (headers.countOf("transfer-encoding") > 0) {
    const codings = headers.getAll("transfer-encoding");
    if (headers.countOf("content-length") > 0) {
      throw new HttpProtocolError(502, "the response carries both Content-Length and Transfer-Encoding (RFC 9112 §6.1)");
    }
    const last = lastCoding(codings);
    // A response whose codings do not end in chunked runs until the connection closes (RFC 9112 §6.3, rule 4).
    return last === "chunked" ? chunkedOrError(codings, 502) : UNTIL_CLOSE;
  }
  const length = contentLength(headers, 502);
  if (length === undefined) return UNTIL_CLOSE;
  return length === 0 ? NO_BODY : { kind: "length", length };
}

/** True when the connection may carry another message after one with these `headers`. */
export function keepsAlive(minorVersion: 0 | 1, headers: HttpHeaders): boolean {
  if (headers.hasToken("connection", "close")) return false;
  return minorVersion === 1 || headers.hasToken("connection", "keep-alive");
}

/** `chunked` when it is the only coding; 501 for other codings before it, `status` otherwise. */
function chunkedOrError(lines: string[], status: number): BodyFraming {
  let chunked = 0;
  let others = 0;
  let count = 0;
  for (const line of lines) {
    for (const item of line.split(",")) {
      const coding = item.trim().toLowerCase();
      if (coding === "") continue;
      count++;
      if (coding === "chunked") chunked++;
      else others++;
    }
  }
  if (count === 0) throw new HttpProtocolError(status, "Transfer-Encoding is empty");
  if (lastCoding(lines) !== "chunked" || chunked > 1) {
    throw new HttpProtocolError(status, "Transfer-Encoding must end in a single chunked (RFC 9112 §6.3): the length cannot be determined");
  }
  if (others > 0) throw new HttpProtocolError(status === 400 ? 501 : status, "a transfer coding other than chunked is not implemented");
  return CHUNKED;
}

function lastCoding(lines: string[]): string {
  // An empty last element ("chunked,") is not chunked: llhttp refuses it, and so do we.
  const line = lines[lines.length - 1]!;
  return line
    .slice(line.lastIndexOf(",") + 1)
    .trim()
    .toLowerCase();
}

/** The one Content-Length, undefined when absent; `status` for a malformed or repeated one. */
function contentLength(headers: HttpHeaders, status: number): number | undefined {
  const count = headers.countOf("content-length");
  if (count === 0) return undefined;
  const values = headers.getAll("content-length");
  if (count > 1) throw new HttpProtocolError(status, "the message carries more than one Content-Length");
  const text = values[0]!;
  if (text.length === 0 || text.length > 15)
    throw new HttpProtocolError(status, `Content-Length ${JSON.stringify(text)} is not a decimal length weft accepts`);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9)
      throw new HttpProtocolError(status, `Content-Length ${JSON.stringify(text)} is not 1*DIGIT (RFC 9110 §8.6)`);
    length = length * 10 + digit;
  }
  return length;
}
