/**
 * Adler-32 (RFC 1950), the checksum at the end of a zlib stream: the Web
 * engine checks it itself, because some hosts' `DecompressionStream`
 * ("deflate") end a truncated stream silently (Deno 2).
 */

/** Bytes that can be summed before the 32-bit sums must be reduced (zlib's NMAX). */
const RUN = 5552;
const BASE = 65521;

/** A running Adler-32. */
export class Adler32 {
  #a = 1;
  #b = 0;

  /** Adds `bytes` to the sum. */
  update(bytes: Uint8Array): void {
    let a = this.#a;
    let b = this.#b;
    for (let at = 0; at < bytes.length; ) {
      const end = Math.min(bytes.length, at + RUN);
      for (; at < end; at++) {
        a += bytes[at]!;
        b += a;
      }
      a %= BASE;
      b %= BASE;
    }
    this.#a = a;
    this.#b = b;
  }

  /** The checksum of everything added, as an unsigned 32-bit number. */
  get value(): number {
    return ((this.#b << 16) | this.#a) >>> 0;
  }
}
