/**
 * The RFC 6455 opening handshake, both sides: the client's key, the
 * server's `Sec-WebSocket-Accept`, and the checks on the request and on the
 * answer.
 *
 * The accept value is SHA-1 over the key and a fixed GUID, in base64. SHA-1
 * is computed here by a small portable function rather than by
 * `crypto.subtle.digest` (a promise: every handshake would leave weft's
 * scheduler for the host's) or `node:crypto` (the only Node import outside
 * `src/node`, and the handshake needs nothing else from Node): the input is
 * 60 bytes once per connection, so speed does not matter, and the tests check
 * the function against `node:crypto` on random keys.
 */
import { fillRandom } from "./random.ts";
import type { HttpHeaders } from "../http/headers.ts";

/** The GUID RFC 6455 §1.3 appends to the key. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** A subprotocol name is an HTTP token (RFC 6455 §4.1, RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Base64 of 16 bytes: 22 characters and "==". The 4 unused bits of the last
 * character are not checked (a decoder ignores them), as `ws` does not.
 */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes. */
export function generateKey(): string {
  const bytes = new Uint8Array(16);
  fillRandom(bytes, "connectWebSocket()");
  return base64(bytes);
}

/** True when `key` is base64 of 16 bytes, as RFC 6455 §4.2.1 asks of `Sec-WebSocket-Key`. */
export function isValidKey(key: string): boolean {
  return KEY.test(key);
}

/**
 * The `Sec-WebSocket-Accept` value for `key`: base64(SHA-1(key + GUID)).
 * RFC 6455's sample key `dGhlIHNhbXBsZSBub25jZQ==` gives
 * `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=` (a test checks it).
 */
export function acceptKey(key: string): string {
  const input = new Uint8Array(key.length + GUID.length);
  // The key and the GUID are ASCII: one byte per character.
  for (let i = 0; i < key.length; i++) input[i] = key.charCodeAt(i) & 0xff;
  for (let i = 0; i < GUID.length; i++) input[key.length + i] = GUID.charCodeAt(i);
  return base64(sha1(input));
}

/** Base64 of `bytes` (btoa is on every host weft runs on). */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** SHA-1 (FIPS 180-4) of `data`: 20 bytes. */
export function sha1(data: Uint8Array): Uint8Array {
  const bitLength = data.length * 8;
  const padded = new Uint8Array((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  // The length is a 64-bit big-endian count of bits; inputs here are far below 2^32 bits.
  view.setUint32(padded.length - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) >>> 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  outView.setUint32(0, h0);
  outView.setUint32(4, h1);
  outView.setUint32(8, h2);
  outView.setUint32(12, h3);
  outView.setUint32(16, h4);
  return out;
}

/** The items of a comma-separated header (every line of it), trimmed, empty ones dropped. */
export function headerList(headers: HttpHeaders, name: string): string[] {
  const items: string[] = [];
  for (const line of headers.getAll(name)) {
    for (const item of line.split(",")) {
      const trimmed = item.trim();
      if (trimmed !== "") items.push(trimmed);
    }
  }
  return items;
}

/** True when `name` is a valid subprotocol name (an HTTP token). */
export function isToken(name: string): boolean {
  return TOKEN.test(name);
}

/** Checks a list of subprotocols given by a caller: non-empty tokens, no duplicates. */
export function requireProtocols(api: string, name: string, protocols: unknown): readonly string[] {
  if (protocols === undefined) return [];
  if (!Array.isArray(protocols)) throw new TypeError(`${api}: ${name} must be an array of strings`);
  const seen = new Set<string>();
  for (const protocol of protocols as unknown[]) {
    if (typeof protocol !== "string" || !isToken(protocol)) {
      throw new TypeError(`${api}: ${name} must hold HTTP tokens (no spaces, commas or separators), got ${JSON.stringify(protocol)}`);
    }
    if (seen.has(protocol)) throw new TypeError(`${api}: ${name} lists ${JSON.stringify(protocol)} twice`);
    seen.add(protocol);
  }
  return protocols as string[];
}

/** Why a client's upgrade request is refused: the status to answer and what to say. */
export interface RequestProblem {
  status: 400 | 426;
  message: string;
}

/**
 * Checks a client's opening handshake (RFC 6455 §4.2.1); undefined when it
 * is acceptable. The version is checked before the key so that a client
 * speaking another version learns which one to use (426 with
 * `Sec-WebSocket-Version: 13`) whatever else it sent.
 */
export function checkRequest(method: string, headers: HttpHeaders): RequestProblem | undefined {
  if (method !== "GET") return { status: 400, message: `a WebSocket handshake is a GET request, not ${method}` };
  if (!headerList(headers, "upgrade").some((item) => item.toLowerCase() === "websocket")) {
    return { status: 400, message: "the request has no Upgrade: websocket" };
  }
  if (!headers.hasToken("connection", "upgrade")) return { status: 400, message: "the request's Connection header has no upgrade" };
  const versions = headers.getAll("sec-websocket-version");
  if (versions.length !== 1 || versions[0]!.trim() !== "13") {
    return { status: 426, message: "only WebSocket version 13 is supported" };
  }
  const keys = headers.getAll("sec-websocket-key");
  if (keys.length !== 1 || !isValidKey(keys[0]!.trim())) {
    return { status: 400, message: "Sec-WebSocket-Key must be base64 of 16 bytes" };
  }
  return undefined;
}

/** The first subprotocol the client offered that the server lists, or "" (RFC 6455 §4.2.2: the server picks one of the client's). */
export function chooseProtocol(offered: readonly string[], supported: readonly string[]): string {
  if (supported.length === 0) return "";
  for (const protocol of offered) if (supported.includes(protocol)) return protocol;
  return "";
}

/**
 * Checks the server's 101 answer against what the client sent (RFC 6455
 * §4.1): the upgrade headers, the accept value, a subprotocol the client
 * offered, and no extension (the client asks for none). Returns why it is
 * not acceptable, or the negotiated subprotocol ("" for none).
 */
export function checkResponse(
  headers: HttpHeaders,
  key: string,
  offered: readonly string[],
): { ok: true; protocol: string } | { ok: false; reason: string } {
  if (!headerList(headers, "upgrade").some((item) => item.toLowerCase() === "websocket")) {
    return { ok: false, reason: "the 101 response has no Upgrade: websocket" };
  }
  if (!headers.hasToken("connection", "upgrade")) return { ok: false, reason: "the 101 response's Connection header has no upgrade" };
  const accepts = headers.getAll("sec-websocket-accept");
  if (accepts.length !== 1 || accepts[0]!.trim() !== acceptKey(key)) {
    return { ok: false, reason: "the server's Sec-WebSocket-Accept does not match the key sent" };
  }
  const extensions = headerList(headers, "sec-websocket-extensions");
  if (extensions.length > 0) {
    return { ok: false, reason: `the server chose an extension the client did not ask for: ${extensions.join(", ")}` };
  }
  const protocols = headerList(headers, "sec-websocket-protocol");
  if (protocols.length > 1) return { ok: false, reason: "the server chose more than one subprotocol" };
  const protocol = protocols[0] ?? "";
  if (protocol !== "" && !offered.includes(protocol)) {
    return { ok: false, reason: `the server chose the subprotocol ${JSON.stringify(protocol)}, which the client did not offer` };
  }
  return { ok: true, protocol };
}

/**
 * The opening handshake did not happen. On the client
 * (`connectWebSocket`): the server answered with another status than 101
 * (`status`, `headers` and the first `body` bytes of its answer, at most
 * 64 KiB), or its 101 was not a valid WebSocket answer (a wrong
 * `Sec-WebSocket-Accept`, a subprotocol the client did not offer, an
 * extension it did not ask for: `status` is 101 and the message says
 * which). On the server (`acceptWebSocket`): the request was not a valid
 * WebSocket handshake and was answered with `status` (400, or 426 for
 * another protocol version) and `body`, the text sent.
 *
 * @example
 * ```ts
 * const error = new HandshakeRejected("the server answered 403 Forbidden", 403, new HttpHeaders({ "content-type": "text/plain" }), new TextEncoder().encode("no"));
 * console.log(error.status, new TextDecoder().decode(error.body)); // prints 403 no
 * ```
 */
export class HandshakeRejected extends Error {
  /** The status of the answer (101 when a 101 answer was itself wrong). */
  readonly status: number;
  /** The answer's headers. */
  readonly headers: HttpHeaders;
  /** The answer's body (its first 64 KiB on the client). */
  readonly body: Uint8Array;

  /**
   * Creates the error.
   *
   * @param message what the error says
   * @param status the status of the answer
   * @param headers the answer's headers
   * @param body the answer's body
   */
  constructor(message: string, status: number, headers: HttpHeaders, body: Uint8Array = new Uint8Array(0)) {
    super(message);
    this.name = "HandshakeRejected";
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}
