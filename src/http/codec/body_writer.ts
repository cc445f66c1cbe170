/**
 * `BodyWriter`: a message body written to a connection with its framing:
 * exactly `Content-Length` bytes (a write past it is refused before a byte
 * goes out, and ending short is an error, so a mis-declared length can never
 * desynchronise the connection), chunked, until close, or none at all.
 *
 * The head can be handed over unsent: it then goes out with the first body
 * bytes (or at the end) in one write, which is one syscall for a small
 * response instead of two.
 */
import { WeftUsageError } from "../../core/errors.ts";
import type { Operation } from "../../core/operation.ts";
import { allocBytes } from "../../io/byte_pool.ts";
import { WriterBase, type Writer } from "../../io/writer.ts";
import { HttpBodyLengthError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";
import { putLatin1 } from "./chars.ts";
import type { BodyFraming } from "./framing.ts";

/** Chunks up to this size are copied into one buffer with their framing: one write. */
export const COALESCE = 16 * 1024;
const CRLF = Uint8Array.of(13, 10);

/** A body being written to a connection. */
export class BodyWriter extends WriterBase {
  readonly #transport: Writer;
  readonly #kind: BodyFraming["kind"];
  readonly #declared: number;
  #head: Uint8Array | undefined;
  #written = 0;
  #ended = false;
  #closed = false;

  /**
   * Writes a body framed by `framing` to `transport`.
   *
   * @param transport the connection
   * @param framing the body's framing
   * @param head the message head, when it has not been sent yet: it goes out with the first bytes
   */
  constructor(transport: Writer, framing: BodyFraming, head?: Uint8Array) {
    super();
    this.#transport = transport;
    this.#kind = framing.kind;
    this.#declared = framing.kind === "length" ? framing.length : 0;
    this.#head = head;
  }

  /** True once {@link BodyWriter.end} has run. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Body bytes written so far. */
  get written(): number {
    return this.#written;
  }

  /** True while the head has not been written. */
  get headPending(): boolean {
    return this.#head !== undefined;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Refuses further writes (the connection itself is not closed). */
  close(): void {
    this.#closed = true;
  }

  protected *writeChunk(bytes: Uint8Array): Operation<void> {
    if (this.#ended) throw new WeftUsageError("write(): the body has already ended");
    switch (this.#kind) {
      case "none":
        throw new WeftUsageError("write(): this message has no body (a HEAD response, 1xx, 204 or 304)");
      case "length": {
        const total = this.#written + bytes.length;
        if (total > this.#declared) throw new HttpBodyLengthError(this.#declared, total);
        yield* this.#send(bytes);
        this.#written = total;
        return;
      }
      case "close":
        yield* this.#send(bytes);
        this.#written += bytes.length;
        return;
      default: {
        const size = bytes.length.toString(16);
        if (bytes.length <= COALESCE) {
          const framed = allocBytes(size.length + 4 + bytes.length);
          putLatin1(framed, 0, size);
          framed[size.length] = 13;
          framed[size.length + 1] = 10;
          framed.set(bytes, size.length + 2);
          framed[framed.length - 2] = 13;
          framed[framed.length - 1] = 10;
          yield* this.#send(framed);
        } else {
          yield* this.#send(ascii(`${size}\r\n`));
          yield* this.#transport.write(bytes);
          yield* this.#transport.write(CRLF);
        }
        this.#written += bytes.length;
      }
    }
  }

  /** Sends the head now if no body bytes have taken it along yet (a streamed response that starts late). */
  *flushHead(): Operation<void> {
    if (this.#head !== undefined) yield* this.#send(undefined);
  }

  /**
   * Ends the body: the last chunk (with `trailers`) for a chunked body; for
   * a declared length, an {@link HttpBodyLengthError} when bytes are missing.
   * Sends a head still pending. Ending twice does nothing.
   */
  *end(trailers?: HttpHeaders): Operation<void> {
    if (this.#ended) return;
    if (this.#kind === "length" && this.#written !== this.#declared) {
      throw new HttpBodyLengthError(this.#declared, this.#written);
    }
    if (this.#kind === "chunked") {
      let last = "0\r\n";
      if (trailers !== undefined) for (const [name, value] of trailers) last += `${name}: ${value}\r\n`;
      yield* this.#send(latin1Bytes(`${last}\r\n`));
    } else if (this.#head !== undefined) {
      yield* this.#send(undefined);
    }
    this.#ended = true;
  }

  /** Writes `bytes`, preceded by the pending head in the same write. */
  *#send(bytes: Uint8Array | undefined): Operation<void> {
    const head = this.#head;
    if (head === undefined) {
      if (bytes !== undefined) yield* this.#transport.write(bytes);
      return;
    }
    let out = head;
    if (bytes !== undefined && bytes.length <= COALESCE) {
      out = allocBytes(head.length + bytes.length);
      out.set(head);
      out.set(bytes, head.length);
      bytes = undefined;
    }
    yield* this.#transport.write(out);
    this.#head = undefined;
    if (bytes !== undefined) yield* this.#transport.write(bytes);
  }
}

function ascii(text: string): Uint8Array {
  return latin1Bytes(text);
}

function latin1Bytes(text: string): Uint8Array {
  const out = allocBytes(text.length);
  putLatin1(out, 0, text);
  return out;
}
