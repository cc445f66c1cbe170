/**
 * Shared helpers for the WebSocket tests: a duplex made of two pipes, a
 * WebSocket with a raw peer that writes and reads frames byte by byte, and a
 * small frame reader for what the WebSocket sends.
 */
import type { Operation } from "../../src/index.ts";
import type { Reader } from "../../src/io.ts";
import { duplexPair, type PipeEnd } from "../pipe_pair.ts";
import { WebSocket } from "../../src/ws/websocket.ts";
import type { WebSocketOptions } from "../../src/ws/options.ts";
import { applyMask, encodeFrame } from "../../src/ws/frame.ts";

export { duplexPair, PipeEnd } from "../pipe_pair.ts";

/** A server and a client WebSocket joined by pipes. */
export function wsPair(options?: WebSocketOptions): { server: WebSocket; client: WebSocket; serverEnd: PipeEnd; clientEnd: PipeEnd } {
  const [serverEnd, clientEnd] = duplexPair();
  return { server: new WebSocket(serverEnd, "server", options), client: new WebSocket(clientEnd, "client", options), serverEnd, clientEnd };
}

/** A WebSocket of `role` whose peer is the raw `peer` end. */
export function withRawPeer(role: "client" | "server", options?: WebSocketOptions): { ws: WebSocket; peer: PipeEnd } {
  const [mine, peer] = duplexPair();
  return { ws: new WebSocket(mine, role, options), peer };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A frame as the peer of a `role` WebSocket would send it (masked towards a server). */
export function peerFrame(
  role: "client" | "server",
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  { fin = true, rsv = 0, mask }: { fin?: boolean; rsv?: number; mask?: boolean } = {},
): Uint8Array {
  const bytes = typeof payload === "string" ? utf8(payload) : payload;
  const masked = mask ?? role === "server";
  return encodeFrame(opcode, fin, bytes, masked ? Uint8Array.of(0x12, 0x34, 0x56, 0x78) : null, rsv);
}

/** A frame read off the wire. */
export interface WireFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Reads one frame (unmasking it); `undefined` at end of stream. */
export function* readFrame(reader: Reader): Operation<WireFrame | undefined> {
  const first = yield* reader.readSome(1);
  if (first === undefined) return undefined;
  const b0 = first[0]!;
  const b1 = (yield* reader.readExactly(1))[0]!;
  let length = b1 & 0x7f;
  if (length === 126) {
    const ext = yield* reader.readExactly(2);
    length = (ext[0]! << 8) | ext[1]!;
  } else if (length === 127) {
    const ext = yield* reader.readExactly(8);
    length = new DataView(ext.buffer, ext.byteOffset, 8).getUint32(0) * 2 ** 32 + new DataView(ext.buffer, ext.byteOffset, 8).getUint32(4);
  }
  const masked = (b1 & 0x80) !== 0;
  const key = masked ? (yield* reader.readExactly(4)).slice() : null;
  const payload = (yield* reader.readExactly(length)).slice();
  if (key !== null) applyMask(payload, key);
  return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, masked, payload };
}

/** A CLOSE payload's code (1005 when empty). */
export function closeCode(frame: WireFrame | undefined): number | undefined {
  if (frame === undefined || frame.opcode !== 8) return undefined;
  if (frame.payload.length < 2) return 1005;
  return (frame.payload[0]! << 8) | frame.payload[1]!;
}

export const LIMIT = { timeout: 30_000 };
