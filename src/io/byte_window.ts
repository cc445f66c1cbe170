/**
 * `ByteWindow`: the bytes a reader has received and not yet handed out, for
 * every reader that buffers (`ReaderBase`, the HTTP codec's input).
 *
 * The bytes are `bytes[start..end)`. Bytes before `end` are never written
 * again once they are in the window, because views of them may have been
 * handed out (a `readSome` result, a parsed head's source): appending either
 * adopts the chunk itself (when the window is empty: no copy) or copies into
 * memory the window owns, growing into a fresh array when the spare room
 * after `end` is too small or not its own.
 */

const EMPTY = new Uint8Array(0);

/** Received bytes not yet read; see the module comment for the rules. */
export class ByteWindow {
  /** The memory; the window is `bytes[start..end)`. */
  bytes: Uint8Array = EMPTY;
  start = 0;
  end = 0;
  /** Spare room after `end` belongs to the window (false for an adopted chunk). */
  #ownsSpare = false;

  /** How many bytes are in the window. */
  get size(): number {
    return this.end - this.start;
  }

  /** Adds `chunk` after the bytes held (adopting it without a copy when none are). */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const held = this.end - this.start;
    if (held === 0) {
      this.bytes = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.#ownsSpare = false;
      return;
    }
    if (!this.#ownsSpare || this.bytes.length - this.end < chunk.length) {
      const grown = new Uint8Array(Math.max(held + chunk.length, held * 2, 1024));
      grown.set(this.bytes.subarray(this.start, this.end));
      this.bytes = grown;
      this.start = 0;
      this.end = held;
      this.#ownsSpare = true;
    }
    this.bytes.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Removes and returns the next `n` bytes (a view that is never written again). */
  take(n: number): Uint8Array {
    if (this.start === 0 && n === this.bytes.length) {
      // The whole of an adopted chunk (a reader passing a chunk on as it came): the chunk itself, no view to make.
      const whole = this.bytes;
      this.clear();
      return whole;
    }
    const taken = this.bytes.subarray(this.start, this.start + n);
    this.consume(n);
    return taken;
  }

  /** Drops the next `n` bytes. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.clear();
  }

  /** Drops every byte. */
  clear(): void {
    this.bytes = EMPTY;
    this.start = this.end = 0;
    this.#ownsSpare = false;
  }
}
