/** TEMPORARY stub of the lead's BodyReader (replaced by main's codec on merge). */
import type { Operation } from "../../core/operation.ts";
import { ReaderBase } from "../../io/reader.ts";
import { HttpProtocolError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";
import type { HttpLimits } from "../limits.ts";
import type { BodyFraming } from "./framing.ts";
import type { HttpInput } from "./input.ts";

export class BodyReader extends ReaderBase {
  readonly #input: HttpInput;
  readonly #framing: BodyFraming;
  #left: number;
  #chunkLeft = -1; // -1: expect a size line
  #complete = false;
  #closed = false;
  #line = "";
  constructor(input: HttpInput, framing: BodyFraming) {
    super();
    this.#input = input;
    this.#framing = framing;
    this.#left = framing.kind === "length" ? framing.length : 0;
    if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) this.#complete = true;
  }
  get complete(): boolean {
    return this.#complete;
  }
  get trailers(): HttpHeaders | undefined {
    return undefined;
  }
  *drain(max: number): Operation<boolean> {
    let n = 0;
    while (!this.#complete && n <= max) {
      const c = yield* this.readSome();
      if (c === undefined) break;
      n += c.length;
    }
    return this.#complete;
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  close(): void {
    this.#closed = true;
  }
  *#readByteLine(): Operation<string> {
    for (;;) {
      const b = yield* this.#input.readSome(1);
      if (b === undefined) throw new HttpProtocolError(400, "truncated chunked body");
      const ch = String.fromCharCode(b[0]!);
      if (ch === "\n") {
        const l = this.#line.replace(/\r$/, "");
        this.#line = "";
        return l;
      }
      this.#line += ch;
    }
  }
  protected *readChunk(hint: number): Operation<Uint8Array | undefined> {
    if (this.#complete) return undefined;
    switch (this.#framing.kind) {
      case "length": {
        const c = yield* this.#input.readSome(Math.min(hint, this.#left));
        if (c === undefined) throw new HttpProtocolError(400, "truncated body");
        this.#left -= c.length;
        if (this.#left === 0) this.#complete = true;
        return c;
      }
      case "close": {
        const c = yield* this.#input.readSome(hint);
        if (c === undefined) this.#complete = true;
        return c;
      }
      case "chunked": {
        for (;;) {
          if (this.#chunkLeft === -1) {
            const size = parseInt((yield* this.#readByteLine()).split(";")[0]!, 16);
            if (size === 0) {
              while ((yield* this.#readByteLine()) !== "");
              this.#complete = true;
              return undefined;
            }
            this.#chunkLeft = size;
          }
          if (this.#chunkLeft === 0) {
            yield* this.#readByteLine();
            this.#chunkLeft = -1;
            continue;
          }
          const c = yield* this.#input.readSome(Math.min(hint, this.#chunkLeft));
          if (c === undefined) throw new HttpProtocolError(400, "truncated chunk");
          this.#chunkLeft -= c.length;
          return c;
        }
      }
      default:
        return undefined;
    }
  }
}
export function bodyReader(input: HttpInput, framing: BodyFraming, _limits: Required<HttpLimits>): BodyReader {
  return new BodyReader(input, framing);
}
