/**
 * weft/http: an HTTP/1.1 server and client over weft's own streams, where
 * every connection is a task and every request's handler runs in the
 * server's task group: cancelled the moment its client goes away (its
 * `finally` runs), held to deadlines, and wound down by `shutdown()`.
 *
 * The codec is weft's own, strict RFC 9112 and bounded: a request whose
 * length two parsers could read differently (Content-Length with
 * Transfer-Encoding, two Content-Lengths, a coding list that does not end in
 * `chunked`), obs-fold, a bare CR or LF, a bad header character or a missing
 * Host is refused with 400 and its connection closed; a request line over
 * 8 KiB gets 414 and a header block over 16 KiB 431 (`limits`). It is checked
 * against node:http's llhttp by a differential test. Anything a user puts in
 * a head (method, target, header name or value, reason) that holds CR, LF or
 * NUL is a TypeError before a byte is written.
 *
 * Node only for now (sockets and TLS come from `weft/node`); the server also
 * runs over any weft duplex (`serveHttpConnection`), e.g. an in-memory pipe.
 *
 * @example
 * ```ts
 * import { run, withTaskGroup } from "weftjs";
 * import { HttpClient, listenHttp } from "weftjs/http";
 *
 * const text = await run(function* () {
 *   using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 *   return yield* withTaskGroup<string>(function* (group) {
 *     group.startSoon(() => server.serve(function* (req, res) {
 *       yield* res.send(200, `hello, ${req.url.pathname}`);
 *     }), { daemon: true });
 *     using client = new HttpClient();
 *     using res = yield* client.get(`http://127.0.0.1:${server.port}/world`);
 *     return yield* res.text();
 *   });
 * });
 * console.log(text); // prints hello, /world
 * ```
 *
 * @module
 */
export { HttpHeaders, type HttpHeadersInit } from "./http/headers.ts";
export { HttpProtocolError, HttpBodyLengthError, HttpBodyTooLarge } from "./http/errors.ts";
export { resolveLimits, type HttpLimits, type ResolvedHttpLimits } from "./http/limits.ts";
export { reasonPhrase } from "./http/codec/serialize.ts";
export * from "./http/server/index.ts";
export * from "./http/client/index.ts";
