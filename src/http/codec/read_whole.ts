/**
 * A body read whole (`text()`, `json()`, `bytes()` on the server's request
 * and the client's response), refusing to hold more than a size limit.
 */
import type { Operation } from "../../core/operation.ts";
import type { Reader } from "../../io/reader.ts";

/** Every byte of `body`; throws `tooLarge()` as soon as more than `maxSize` arrived. */
export function* readWholeBody(body: Reader, maxSize: number, tooLarge: () => Error): Operation<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = yield* body.readSome();
    if (chunk === undefined) break;
    total += chunk.length;
    if (total > maxSize) throw tooLarge();
    chunks.push(chunk);
  }
  return joinChunks(chunks, total);
}

/** The bytes of `chunks` (`total` of them) in one array; a single chunk is returned as it is. */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const whole = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.length;
  }
  return whole;
}
