/**
 * RFC 6455 framing: opcodes, the frame header, masking, close codes and the
 * close payload. Pure functions over bytes; the state machine that reads
 * frames from a stream is in websocket.ts.
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** True for CLOSE, PING and PONG. */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** True for an opcode RFC 6455 defines (0-2, 8-10); the others are reserved. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/** The largest payload of a control frame. */
export const MAX_CONTROL_PAYLOAD = 125;

/**
 * Whether `code` may appear in a CLOSE frame, sent or received: 1000-1003,
 * 1007-1014 and 3000-4999. 1004 is reserved, and 1005, 1006 and 1015 only
 * report what happened locally (no code, no CLOSE frame, a TLS failure).
 * So 1000 and 4000 are valid and 1006 is not. (Internal: not exported from
 * `weftjs/ws`, so no runnable example.)
 */
export function isValidCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
}

/** The size of a frame header for a payload of `length` bytes. */
export function headerSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `out` at `offset`; returns the offset after it.
 * `maskKey` (4 bytes) is written after the length when given.
 */
export function writeHeader(
  out: Uint8Array,
  offset: number,
  fin: boolean,
  opcode: number,
  length: number,
  maskKey: Uint8Array | null,
): number {
  out[offset++] = (fin ? 0x80 : 0) | opcode;
  const maskBit = maskKey === null ? 0 : 0x80;
  if (length < 126) {
    out[offset++] = maskBit | length;
  } else if (length < 0x10000) {
    out[offset++] = maskBit | 126;
    out[offset++] = length >>> 8;
    out[offset++] = length & 0xff;
  } else {
    out[offset++] = maskBit | 127;
    const hi = Math.floor(length / 0x100000000);
    const lo = length >>> 0;
    out[offset++] = hi >>> 24;
    out[offset++] = (hi >>> 16) & 0xff;
    out[offset++] = (hi >>> 8) & 0xff;
    out[offset++] = hi & 0xff;
    out[offset++] = lo >>> 24;
    out[offset++] = (lo >>> 16) & 0xff;
    out[offset++] = (lo >>> 8) & 0xff;
    out[offset++] = lo & 0xff;
  }
  if (maskKey !== null) {
    out.set(maskKey, offset);
    offset += 4;
  }
  return offset;
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * XORs `data[start..end)` in place with the 4-byte `key`, the first byte
 * taking key byte `phase` (0-3), as a frame's payload is masked and
 * unmasked; returns the phase of the byte after `end`, to continue a payload
 * that arrives in pieces. Aligned stretches go 32 bits at a time.
 * Masking `10 20 30 40 50` with the key `1 2 3 4` in two calls (bytes 0-2,
 * then 3-4 with the phase the first returned) gives `11 22 29 44 51`, as one
 * call would.
 */
export function applyMask(data: Uint8Array, key: Uint8Array, phase = 0, start = 0, end = data.length): number {
  let i = start;
  let p = phase & 3;
  if (end - start < 64) {
    // A short stretch (the common small message): a 32-bit view would cost more than it saves.
    for (; i < end; i++) {
      data[i]! ^= key[p]!;
      p = (p + 1) & 3;
    }
    return p;
  }
  // Bytes up to the first 4-byte-aligned address.
  while (i < end && ((data.byteOffset + i) & 3) !== 0) {
    data[i++]! ^= key[p]!;
    p = (p + 1) & 3;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    const k0 = key[p]!;
    const k1 = key[(p + 1) & 3]!;
    const k2 = key[(p + 2) & 3]!;
    const k3 = key[(p + 3) & 3]!;
    // The key as the word it is in memory on this host (the phase stays the same after 4 bytes).
    const word = littleEndian ? (k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)) >>> 0 : ((k0 << 24) | (k1 << 16) | (k2 << 8) | k3) >>> 0;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= word;
    i += words << 2;
  }
  while (i < end) {
    data[i++]! ^= key[p]!;
    p = (p + 1) & 3;
  }
  return p;
}

/**
 * One whole frame as bytes (header, mask key, masked payload): for control
 * frames and tests. `payload` is not modified. `rsv` sets the RSV1-3 bits
 * (0-7), which only tests need.
 * An unmasked final text frame of "hi" is the bytes `129 2 104 105`.
 */
export function encodeFrame(opcode: number, fin: boolean, payload: Uint8Array, maskKey: Uint8Array | null = null, rsv = 0): Uint8Array {
  const out = new Uint8Array(headerSize(payload.length, maskKey !== null) + payload.length);
  const offset = writeHeader(out, 0, fin, opcode, payload.length, maskKey);
  out[0]! |= (rsv & 7) << 4;
  out.set(payload, offset);
  if (maskKey !== null) applyMask(out, maskKey, 0, offset);
  return out;
}

const utf8Encoder = new TextEncoder();

/**
 * The payload of a CLOSE frame: the code (big-endian) and the reason as
 * UTF-8; empty when `code` is undefined. Throws RangeError naming the
 * argument for a code that may not be sent or a reason over 123 bytes.
 * Code 1000 with the reason "bye" is the bytes `3 232 98 121 101`.
 */
export function encodeClosePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new RangeError("close(): a reason needs a code");
    return new Uint8Array(0);
  }
  if (typeof code !== "number" || !isValidCloseCode(code)) {
    throw new RangeError(`close(): code must be 1000-1003, 1007-1014 or 3000-4999, got ${String(code)}`);
  }
  if (typeof reason !== "string") throw new TypeError(`close(): reason must be a string, got ${typeof reason}`);
  const text = utf8Encoder.encode(reason);
  if (text.length > MAX_CONTROL_PAYLOAD - 2) {
    throw new RangeError(`close(): reason must be at most 123 bytes of UTF-8, got ${text.length}`);
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** A CLOSE frame's payload as read: `code` 1005 when it had none. */
export interface ClosePayload {
  readonly code: number;
  readonly reason: string;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a received CLOSE payload; returns the close code the connection
 * must fail with instead when it is malformed (1002 for a 1-byte payload or
 * a code that may not be sent, 1007 for a reason that is not UTF-8).
 * The bytes `3 232 111 107` are `{ code: 1000, reason: "ok" }`; `3 237`
 * (code 1005, which may not be sent) gives 1002.
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload | number {
  if (payload.length === 0) return { code: 1005, reason: "" };
  if (payload.length === 1) return 1002;
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) return 1002;
  try {
    return { code, reason: strictUtf8.decode(payload.subarray(2)) };
  } catch {
    return 1007;
  }
}
