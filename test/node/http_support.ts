/**
 * Helpers for the weft/http server tests: a duplex made of two in-memory
 * pipes (so a server connection runs under virtual time), a server config,
 * and a small client that writes raw requests and reads responses with the
 * codec's own parser.
 */
import type { Operation } from "../../src/core/operation.ts";
import { bodyReader } from "../../src/http/codec/body_reader.ts";
import { responseFraming } from "../../src/http/codec/framing.ts";
import { HttpInput, type ResponseHead } from "../../src/http/codec/input.ts";
import { resolveLimits } from "../../src/http/limits.ts";
import { serveHttpConnection, type ConnectionConfig, type HttpHandler } from "../../src/http/server/connection.ts";
import { withTaskGroup } from "../../src/index.ts";
import { duplexPair, type PipeEnd } from "../pipe_pair.ts";

export { duplexPair, PipeEnd } from "../pipe_pair.ts";

/** A server connection's settings, with the defaults of `listenHttp` unless overridden. */
export function serverConfig(
  overrides: Omit<Partial<ConnectionConfig>, "timeouts"> & { timeouts?: Partial<ConnectionConfig["timeouts"]> } = {},
): ConnectionConfig {
  const { timeouts, ...rest } = overrides;
  return {
    limits: resolveLimits("test", undefined),
    maxBodyDrain: 64 * 1024,
    scheme: "http",
    allowFailure: true,
    onError: () => {},
    ...rest,
    timeouts: { headers: 60_000, requestBody: 300_000, keepAlive: 5_000, ...timeouts },
  };
}

/** A response as the test client read it. */
export interface ReadResponse {
  head: ResponseHead;
  status: number;
  body: string;
}

/** A raw HTTP client over one end of a pair. */
export class RawClient {
  readonly input: HttpInput;
  constructor(readonly end: PipeEnd) {
    this.input = new HttpInput(end);
  }

  send(text: string): Operation<void> {
    return this.end.write(text);
  }

  /** Reads the next response (1xx heads included) to `method`; undefined at end of stream. */
  *response(method = "GET"): Operation<ReadResponse | undefined> {
    const limits = resolveLimits("test", undefined);
    const head = yield* this.input.readResponseHead(limits);
    if (head === undefined) return undefined;
    if (head.status < 200) return { head, status: head.status, body: "" };
    const reader = bodyReader(this.input, responseFraming(head, method), limits);
    const body = (yield* reader.readAll()).text();
    return { head, status: head.status, body };
  }

  /** Exactly `n` raw bytes after a response head, as text (an upgraded connection's). */
  *readText(n: number): Operation<string> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n) {
      const chunk = yield* this.input.readSome(n - got);
      if (chunk === undefined) throw new Error(`the stream ended after ${got} of ${n} bytes`);
      parts.push(chunk.slice());
      got += chunk.length;
    }
    return parts.map((part) => new TextDecoder().decode(part)).join("");
  }

  /** True when the server closed the connection (nothing more arrives). */
  *atEnd(): Operation<boolean> {
    try {
      return (yield* this.input.readSome(1)) === undefined;
    } catch {
      return true;
    }
  }
}

/**
 * Serves one in-memory connection with `handler` while `client` talks to it
 * through a {@link RawClient} (and, for raw bytes, the client's end of the
 * pair); closes the client's end when `client` returns.
 */
export function* served(
  handler: HttpHandler,
  client: (c: RawClient, end: PipeEnd) => Operation<void>,
  config: ConnectionConfig = serverConfig(),
): Operation<void> {
  const [serverEnd, clientEnd] = duplexPair();
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(() => serveHttpConnection(serverEnd, handler, config));
    yield* client(new RawClient(clientEnd), clientEnd);
    clientEnd.close();
  });
}
