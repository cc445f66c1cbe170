/**
 * What a request and its response need from the connection that carries
 * them: kept as one small interface so `HttpRequest` and `HttpResponse`
 * reach the transport without a closure per request.
 */
import type { HttpInput } from "../codec/input.ts";
import type { HttpLimits } from "../limits.ts";
import type { HttpTransport, WatchedReader } from "./transport.ts";

/** The server's timeouts, resolved (ms; `Infinity` when off): see `HttpServerTimeouts`. */
export interface ResolvedTimeouts {
  /** The whole request head must arrive within this. */
  headers: number;
  /** The request body must arrive within this, from the end of its head. */
  requestBody: number;
  /** How long a kept-alive connection may wait for its next request. */
  keepAlive: number;
}

/** The parts of a server connection a request and its response use. */
export interface ConnectionPort {
  readonly transport: HttpTransport;
  readonly watched: WatchedReader;
  readonly input: HttpInput;
  readonly limits: Required<HttpLimits>;
  readonly maxBodyDrain: number;
  readonly timeouts: ResolvedTimeouts;
  /** "https" over TLS, else "http" (for `req.url`). */
  readonly scheme: string;
  /** True once the server is shutting down: responses say `Connection: close`. */
  readonly shuttingDown: boolean;
  /** True once an upgraded connection owns the transport. */
  upgraded: boolean;
}
