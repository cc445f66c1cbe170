/**
 * A compressed response body, decoded: the decoder stops at the end of the
 * compressed stream without reading the body's own end (a chunked body's
 * last chunk), so this reader reads that end too, and only then does the
 * connection go back to the pool.
 */
import type { Operation } from "../../core/operation.ts";
import type { DecompressReader } from "../../io/compression/decompress_reader.ts";
import { ReaderBase } from "../../io/reader.ts";
import { protocolError } from "./errors.ts";
import type { ResponseBody } from "./response.ts";

export class DecodedBody extends ReaderBase {
  readonly #raw: ResponseBody;
  readonly #decoder: DecompressReader;
  #closed = false;

  constructor(raw: ResponseBody, decoder: DecompressReader) {
    super();
    this.#raw = raw;
    this.#decoder = decoder;
  }

  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    const chunk = yield* this.#decoder.readSome(sizeHint);
    if (chunk !== undefined) return chunk;
    // The compressed stream ended: the body must end with it.
    const raw = this.#raw;
    while (!raw.complete) {
      const rest = yield* raw.readSome();
      if (rest === undefined) break;
      if (rest.length > 0) throw protocolError(502, "HttpClient: bytes after the end of a compressed response body");
    }
    return undefined;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.close();
    this.#raw.close();
  }
}
