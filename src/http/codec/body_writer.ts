/** TEMPORARY stub of the lead's BodyWriter (replaced by main's codec on merge). */
import type { Operation } from "../../core/operation.ts";
import { WriterBase, type Writer } from "../../io/writer.ts";
import { HttpBodyLengthError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";
import type { BodyFraming } from "./framing.ts";

export class BodyWriter extends WriterBase {
  readonly #transport: Writer;
  readonly #framing: BodyFraming;
  #written = 0;
  #ended = false;
  constructor(transport: Writer, framing: BodyFraming) {
    super();
    this.#transport = transport;
    this.#framing = framing;
  }
  protected *writeChunk(bytes: Uint8Array): Operation<void> {
    const f = this.#framing;
    if (f.kind === "length" && this.#written + bytes.length > f.length) throw new HttpBodyLengthError("too long");
    this.#written += bytes.length;
    if (f.kind === "chunked") {
      const head = new TextEncoder().encode(`${bytes.length.toString(16)}\r\n`);
      const all = new Uint8Array(head.length + bytes.length + 2);
      all.set(head);
      all.set(bytes, head.length);
      all.set([13, 10], head.length + bytes.length);
      yield* this.#transport.write(all);
    } else {
      yield* this.#transport.write(bytes);
    }
  }
  *end(_trailers?: HttpHeaders): Operation<void> {
    const f = this.#framing;
    if (f.kind === "length" && this.#written !== f.length) throw new HttpBodyLengthError("too short");
    if (f.kind === "chunked") yield* this.#transport.write("0\r\n\r\n");
    this.#ended = true;
  }
  get ended(): boolean {
    return this.#ended;
  }
  get written(): number {
    return this.#written;
  }
  protected get isClosed(): boolean {
    return false;
  }
  close(): void {}
}
