/**
 * The server half of `weft/http`: `listenHttp`, `HttpServer`, the request
 * and response a handler gets, and `serveHttpConnection` for serving one
 * connection of any kind (a tunnel, joined pipes).
 */
export { listenHttp, HttpServer } from "./server.ts";
export type { ListenHttpOptions, HttpServerTimeouts, HttpServeOptions } from "./server.ts";
export { HttpRequest } from "./request.ts";
export { HttpResponse, HttpUpgradedConnection } from "./response.ts";
export { serveHttpConnection } from "./connection.ts";
export type { HttpHandler, ConnectionConfig } from "./connection.ts";
export type { ResolvedTimeouts } from "./exchange.ts";
export type { FetchHandler } from "./fetch.ts";
export type { HttpTransport } from "./transport.ts";
