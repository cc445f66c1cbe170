/**
 * The byte pattern the IO workloads send: a stream of 1 KiB chunks, each
 * starting with its index (4 bytes, little endian) and ending with a byte
 * derived from it. The receiver checks those five bytes of every chunk
 * wherever its reads split the stream, and the total count: lost, repeated,
 * reordered or truncated chunks all fail the run, at a cost of O(chunks)
 * rather than a pass over every byte (which would dwarf the IO being timed).
 */

/** One op of the IO workloads: this many bytes written and read. */
export const CHUNK = 1024;

function tailByte(index: number): number {
  return (index * 31 + 0xa5) & 0xff;
}

/** Writes chunk `index` of the pattern into `chunk` (length {@link CHUNK}, filler set once by {@link newChunk}). */
export function fillChunk(chunk: Uint8Array, index: number): void {
  chunk[0] = index & 0xff;
  chunk[1] = (index >>> 8) & 0xff;
  chunk[2] = (index >>> 16) & 0xff;
  chunk[3] = (index >>> 24) & 0xff;
  chunk[CHUNK - 1] = tailByte(index);
}

/** A chunk buffer with the filler bytes in place. */
export function newChunk(): Uint8Array {
  return new Uint8Array(CHUNK).fill(0x5a);
}

/** The offsets in each chunk that the receiver checks. */
const CHECKED = [0, 1, 2, 3, CHUNK - 1] as const;

function expectedAt(position: number): number | undefined {
  const offset = position % CHUNK;
  const index = Math.floor(position / CHUNK);
  if (offset < 4) return (index >>> (8 * offset)) & 0xff;
  if (offset === CHUNK - 1) return tailByte(index);
  return undefined;
}

/** Checks the stream as it arrives; `received` is the byte count so far. */
export class PatternCheck {
  received = 0;

  /** Checks `bytes[from, to)`, the next bytes of the stream; throws on a wrong byte. */
  add(bytes: Uint8Array, from = 0, to = bytes.length): void {
    const start = this.received;
    const end = start + (to - from);
    // Only the five checked positions of each chunk the range touches.
    for (let chunkStart = start - (start % CHUNK); chunkStart < end; chunkStart += CHUNK) {
      for (const offset of CHECKED) {
        const p = chunkStart + offset;
        if (p < start || p >= end) continue;
        const want = expectedAt(p);
        const got = bytes[from + p - start];
        if (got !== want) throw new Error(`IO pattern: byte ${p} is ${got}, expected ${want}: the stream is broken`);
      }
    }
    this.received = end;
  }

  /** The number of whole chunks received; throws if the stream ended inside a chunk. */
  chunks(): number {
    if (this.received % CHUNK !== 0) throw new Error(`IO pattern: the stream ended after ${this.received} bytes, inside a chunk`);
    return this.received / CHUNK;
  }
}
