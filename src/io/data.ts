/**
 * `Data`: bytes read from a stream, viewed as bytes, text or JSON.
 */

// ignoreBOM keeps a leading U+FEFF: a line or chunk is decoded on its own, and
// the default would silently drop that character from the start of each one.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, throwing a TypeError (naming `api`) on malformed input. */
export function decodeUtf8(api: string, bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new TypeError(`${api}: the bytes are not valid UTF-8`);
  }
}

/**
 * A copy of `bytes` in new memory. Not `bytes.slice()`: Node's `Buffer`
 * overrides `slice` to return a view of the same memory.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

/**
 * What {@link Reader.readAll} returns: the bytes of a whole stream, with
 * conversions to text and JSON.
 *
 * @example
 * ```ts
 * const config = (yield* new MemoryReader('{ "port": 8080 }').readAll()).json() as { port: number };
 * console.log(config.port); // prints 8080
 * ```
 */
export class Data {
  readonly #bytes: Uint8Array;

  /** Wraps `bytes` without copying them: do not change them afterwards. */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("Data: bytes must be a Uint8Array");
    this.#bytes = bytes;
  }

  /** Number of bytes. */
  get length(): number {
    return this.#bytes.length;
  }

  /** The raw bytes (not a copy). */
  bytes(): Uint8Array {
    return this.#bytes;
  }

  /** The bytes decoded as UTF-8 (a byte order mark is kept as U+FEFF); a TypeError if they are not valid UTF-8. */
  text(): string {
    return decodeUtf8("Data.text()", this.#bytes);
  }

  /** The text parsed as JSON; a SyntaxError if it is not JSON. */
  json(): unknown {
    return JSON.parse(this.text());
  }
}
