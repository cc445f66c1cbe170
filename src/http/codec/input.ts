/** TEMPORARY stub of the lead's HttpInput (replaced by main's codec on merge). */
import type { Operation } from "../../core/operation.ts";
import type { Reader } from "../../io/reader.ts";
import { HttpProtocolError } from "../errors.ts";
import { HttpHeaders } from "../headers.ts";
import type { HttpLimits } from "../limits.ts";

export interface RequestHead {
  method: string;
  target: string;
  minorVersion: 0 | 1;
  headers: HttpHeaders;
}
export interface ResponseHead {
  minorVersion: 0 | 1;
  status: number;
  reason: string;
  headers: HttpHeaders;
}

export class HttpInput {
  readonly #transport: Reader;
  constructor(transport: Reader) {
    this.#transport = transport;
  }
  *readRequestHead(_limits: Required<HttpLimits>): Operation<RequestHead | undefined> {
    throw new Error("stub");
  }
  *readResponseHead(limits: Required<HttpLimits>): Operation<ResponseHead | undefined> {
    const line = yield* this.#transport.readLine({ maxLength: limits.maxStartLineLength });
    if (line === undefined) return undefined;
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(line);
    if (m === null) throw new HttpProtocolError(400, `bad status line ${JSON.stringify(line)}`);
    const headers = new HttpHeaders();
    for (;;) {
      const h = yield* this.#transport.readLine({ maxLength: limits.maxHeaderSize });
      if (h === undefined) throw new HttpProtocolError(400, "end of stream in a head");
      if (h === "") break;
      const colon = h.indexOf(":");
      if (colon <= 0) throw new HttpProtocolError(400, "bad header line");
      headers.append(h.slice(0, colon), h.slice(colon + 1).trim());
    }
    return { minorVersion: m[1] === "0" ? 0 : 1, status: Number(m[2]), reason: m[3] ?? "", headers };
  }
  readSome(max: number): Operation<Uint8Array | undefined> {
    return this.#transport.readSome(max);
  }
  get buffered(): number {
    return this.#transport.buffered;
  }
  takeBuffered(): Uint8Array {
    if (this.#transport.buffered > 0) throw new Error("stub: takeBuffered with bytes");
    return new Uint8Array(0);
  }
}
