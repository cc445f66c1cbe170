/**
 * An incremental UTF-8 validator for text messages: it sees the payload
 * chunk by chunk as it arrives, so an invalid byte fails the message at once
 * and no message is buffered whole to be checked.
 */

/**
 * A UTF-8 validator as a small state machine (a DFA over bytes: the state is
 * how many continuation bytes are still due and the range the next one must
 * fall in, which rules out overlong forms, surrogates and code points past
 * U+10FFFF). Feed it the bytes of one text message in order, then call
 * `finish()`; `reset()` makes it ready for the next message.
 * "héllo" fed in two pieces cut inside "é" gives -1 twice and then
 * `finish()` true; `61 c0 80` (an overlong encoding) gives 1, the index of
 * the first byte that cannot be valid.
 */
export class Utf8Validator {
  /** Continuation bytes still due; -1 once a bad byte was seen. */
  #need = 0;
  #lo = 0x80;
  #hi = 0xbf;

  /**
   * Checks `bytes[start..end)`, continuing the sequence the previous call
   * left open. Returns the index of the first byte that cannot be part of
   * valid UTF-8, or -1 when all are fine so far. Once it has found a bad
   * byte, every later call returns `start` until `reset()`.
   */
  feed(bytes: Uint8Array, start = 0, end = bytes.length): number {
    let need = this.#need;
    if (need < 0) return start;
    let lo = this.#lo;
    let hi = this.#hi;
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (need === 0) {
        if (c < 0x80) continue;
        if (c < 0xc2) return this.#bad(i);
        if (c < 0xe0) {
          need = 1;
          lo = 0x80;
          hi = 0xbf;
        } else if (c < 0xf0) {
          need = 2;
          lo = c === 0xe0 ? 0xa0 : 0x80; // 0xe0 0x80..0x9f would be overlong
          hi = c === 0xed ? 0x9f : 0xbf; // 0xed 0xa0..0xbf would be a surrogate
        } else if (c < 0xf5) {
          need = 3;
          lo = c === 0xf0 ? 0x90 : 0x80; // overlong
          hi = c === 0xf4 ? 0x8f : 0xbf; // past U+10FFFF
        } else {
          return this.#bad(i);
        }
      } else {
        if (c < lo || c > hi) return this.#bad(i);
        lo = 0x80;
        hi = 0xbf;
        need--;
      }
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return -1;
  }

  /** True when the bytes fed so far end on a character boundary (no cut sequence, no bad byte). */
  finish(): boolean {
    return this.#need === 0;
  }

  /** Forgets the bytes fed so far, for the next message. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  #bad(index: number): number {
    this.#need = -1;
    return index;
  }
}
