/**
 * Short-lived small byte arrays, carved from shared slabs.
 *
 * Why: a `new Uint8Array(n)` larger than a few dozen bytes lives outside the
 * JavaScript heap. V8 then allocates its memory with the C allocator,
 * zero-fills it, and registers it with the garbage collector, which must later
 * sweep it. In a loop that builds one HTTP head per request, that costs over a
 * microsecond per array (measured on Node 22), more than parsing the request.
 * Node's `Buffer.allocUnsafe` has the same answer: small buffers are views into
 * one 8 KiB pool. This is the portable form of it, for code that must run on
 * every host (no `Buffer`).
 *
 * A slab is never written again once a view of it was handed out, so views
 * stay valid for as long as anyone holds them. The cost is retention: a view
 * keeps its whole slab alive. That is why only arrays up to a quarter of a
 * slab come from it, and why callers should use it for bytes that are written
 * and dropped soon (a message head, a framed chunk), not for long-lived data.
 * The bytes are zero, as from `new Uint8Array`: a slab is fresh memory and
 * each byte of it is handed out once.
 */

/** The slab size: small enough that a few retained views cost little, large enough to serve many heads. */
const SLAB = 16 * 1024;
/** Larger requests get an array of their own. */
const MAX_POOLED = SLAB / 4;

let slab = new Uint8Array(SLAB);
let used = 0;

/**
 * `n` zeroed bytes that no other caller ever gets. Small arrays are views into
 * a shared slab; larger ones are arrays of their own.
 */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (used + n > SLAB) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
  const start = used;
  // Keeps every view 8-byte aligned, as Node's pool does, so a view can back a wider typed array.
  used = (start + n + 7) & ~7;
  return slab.subarray(start, start + n);
}

interface NodeBufferGlobal {
  Buffer?: { allocUnsafe?(n: number): Uint8Array };
}

const nodeBuffer = (globalThis as NodeBufferGlobal).Buffer;
const hasNodeBuffer = typeof nodeBuffer?.allocUnsafe === "function";

/**
 * `n` bytes for one small write that the caller fills completely (a
 * WebSocket frame of a short message). On a host with Node's `Buffer` (Node,
 * Bun), a slice of Node's pool: a Node stream takes a Buffer as it is, where
 * a small plain array must be copied into one first (see `ON_HEAP_MAX` in
 * `src/node/stream_port.ts`), and the copy costs more than the slice (about
 * 70 ns per 34-byte frame on Node 20). Elsewhere, a fresh array. The bytes
 * are NOT zeroed on Node: every one must be written.
 */
export function wireBytes(n: number): Uint8Array {
  return hasNodeBuffer ? nodeBuffer!.allocUnsafe!(n) : new Uint8Array(n);
}
