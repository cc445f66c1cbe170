/**
 * `BodyReader`: a message body as a weft `Reader`, taking its bytes from the
 * connection's {@link HttpInput} and stopping exactly at the body's end, so
 * the next message on the connection is left where it is.
 *
 * A chunked body is decoded as it is read, with every rule checked: the size
 * must be hexadecimal and fit in a safe integer (an overflowing size is a
 * 400, not a wrap-around), an extension must be `;name[=value]`, the data
 * must be followed by CRLF, and the trailers are held to the head limits.
 * State changes only once a size line or a data slice has been taken, so a
 * read cancelled at any point loses nothing.
 */
import type { Operation } from "../../core/operation.ts";
import { ReaderClosed } from "../../io/errors.ts";
import { ReaderBase } from "../../io/reader.ts";
import { HttpProtocolError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";
import type { ResolvedHttpLimits } from "../limits.ts";
import { TOKEN } from "./chars.ts";
import type { BodyFraming } from "./framing.ts";
import { type HttpInput, MAX_CHUNK_LINE } from "./input.ts";

const enum Chunked {
  Size,
  Data,
  DataEnd,
  Trailers,
  Done,
}

/** A message body read from a connection. */
export class BodyReader extends ReaderBase {
  readonly #input: HttpInput;
  readonly #kind: BodyFraming["kind"];
  readonly #limits: ResolvedHttpLimits;
  readonly #status: number;
  #remaining: number;
  #state = Chunked.Size;
  #complete: boolean;
  #closed = false;
  #trailers: HttpHeaders | undefined;

  /**
   * Reads the body framed by `framing` from `input`.
   *
   * @param input the connection
   * @param framing how the body is delimited
   * @param limits bounds for a chunked body's trailers
   * @param status the status of an {@link HttpProtocolError} for a malformed chunked body (400 on a server, 502 on a client)
   */
  constructor(input: HttpInput, framing: BodyFraming, limits: ResolvedHttpLimits, status = 400) {
    super();
    this.#input = input;
    this.#kind = framing.kind;
    this.#limits = limits;
    this.#status = status;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#complete = framing.kind === "none";
  }

  /**
   * True once every byte of the body has been taken from the connection
   * (some may still be buffered here), so the connection is at the start of
   * the next message.
   */
  get complete(): boolean {
    return this.#complete;
  }

  /** A chunked body's trailer fields, once it is complete. */
  get trailers(): HttpHeaders | undefined {
    return this.#trailers;
  }

  /**
   * Reads and discards the rest of the body, at most `max` bytes; true when
   * the body ended within them.
   */
  *drain(max: number): Operation<boolean> {
    let left = max - this.buffered;
    if (left < 0) return false;
    while (!this.#complete) {
      const chunk = yield* this.readSome(Math.max(1, left));
      if (chunk === undefined) break;
      left -= chunk.length;
      if (left < 0) return false;
    }
    yield* this.drop(this.buffered);
    return this.#complete;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Stops reading (the connection stays open; it is reusable only if the body was complete). */
  close(): void {
    this.#closed = true;
  }

  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    switch (this.#kind) {
      case "none":
        return undefined;
      case "length":
        return yield* this.#readLength();
      case "close": {
        const chunk = yield* this.#input.readSome(Math.max(sizeHint, 65536));
        if (chunk === undefined) this.#complete = true;
        return chunk;
      }
      default:
        return yield* this.#readChunked();
    }
  }

  *#readLength(): Operation<Uint8Array | undefined> {
    if (this.#remaining === 0) return undefined;
    const chunk = yield* this.#input.readSome(this.#remaining);
    if (chunk === undefined) throw new ReaderClosed(`the connection closed ${this.#remaining} bytes before the end of the body`);
    this.#remaining -= chunk.length;
    if (this.#remaining === 0) this.#complete = true;
    return chunk;
  }

  *#readChunked(): Operation<Uint8Array | undefined> {
    const input = this.#input;
    for (;;) {
      switch (this.#state) {
        case Chunked.Size: {
          const line = yield* input.readLine(MAX_CHUNK_LINE, this.#status, "a chunk-size line");
          const size = parseChunkSize(line, this.#status);
          if (size === 0) {
            this.#state = Chunked.Trailers;
          } else {
            this.#remaining = size;
            this.#state = Chunked.Data;
          }
          break;
        }
        case Chunked.Data: {
          const chunk = yield* input.readSome(this.#remaining);
          if (chunk === undefined)
            throw new ReaderClosed(`the connection closed in the middle of a chunk (${this.#remaining} bytes short)`);
          this.#remaining -= chunk.length;
          if (this.#remaining === 0) this.#state = Chunked.DataEnd;
          return chunk;
        }
        case Chunked.DataEnd: {
          const rest = yield* input.readLine(0, this.#status, "the end of a chunk");
          if (rest !== "") throw new HttpProtocolError(this.#status, "a chunk's data is longer than its size");
          this.#state = Chunked.Size;
          break;
        }
        case Chunked.Trailers: {
          this.#trailers = yield* input.readFields(this.#limits, this.#status);
          this.#state = Chunked.Done;
          this.#complete = true;
          return undefined;
        }
        default:
          return undefined;
      }
    }
  }
}

/** `chunk-size [ chunk-ext ]` (RFC 9112 §7.1.1) → the size. */
function parseChunkSize(line: string, status: number): number {
  let i = 0;
  let size = 0;
  while (i < line.length) {
    const digit = hexValue(line.charCodeAt(i));
    if (digit === -1) break;
    size = size * 16 + digit;
    if (size > Number.MAX_SAFE_INTEGER) throw new HttpProtocolError(status, "a chunk size overflows");
    i++;
  }
  if (i === 0)
    throw new HttpProtocolError(status, `a chunk-size line does not start with a hexadecimal size: ${JSON.stringify(line.slice(0, 40))}`);
  if (i < line.length && !validExtensions(line, i)) {
    throw new HttpProtocolError(status, `a chunk-size line has malformed extensions: ${JSON.stringify(line.slice(0, 40))}`);
  }
  return size;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )` from `i` to the end. */
function validExtensions(line: string, i: number): boolean {
  const n = line.length;
  const skipSpace = () => {
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
  };
  const token = (): boolean => {
    const start = i;
    while (i < n && line.charCodeAt(i) < 256 && TOKEN[line.charCodeAt(i)] === 1) i++;
    return i > start;
  };
  while (i < n) {
    skipSpace();
    if (line[i] !== ";") return false;
    i++;
    skipSpace();
    if (!token()) return false;
    skipSpace();
    if (i < n && line[i] === "=") {
      i++;
      skipSpace();
      if (line[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) return false;
          const c = line.charCodeAt(i);
          if (c === 34) break;
          if (c === 92)
            i++; // quoted-pair
          else if (c < 0x20 ? c !== 9 : c === 0x7f) return false;
          i++;
        }
        i++;
      } else if (!token()) return false;
    }
  }
  return true;
}

/** A reader for the body framed by `framing` on `input` (`status` as for {@link BodyReader}). */
export function bodyReader(input: HttpInput, framing: BodyFraming, limits: ResolvedHttpLimits, status = 400): BodyReader {
  return new BodyReader(input, framing, limits, status);
}
