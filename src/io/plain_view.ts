/**
 * `plainView`: the bytes of a chunk as a plain `Uint8Array`, for parsers that
 * take many views of one chunk.
 */

/**
 * `chunk` itself when it is a plain `Uint8Array`, else a plain view of the
 * same memory (no copy). A Node `Buffer`'s `subarray()` builds each view
 * through the species constructor, several times the cost of a plain
 * array's, so a parser that slices a chunk many times (HTTP heads,
 * WebSocket frames) converts it once on arrival.
 */
export function plainView(chunk: Uint8Array): Uint8Array {
  return chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
