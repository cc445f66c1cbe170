/**
 * weft/ws: WebSocket (RFC 6455) servers and clients over weft's own
 * streams. `acceptWebSocket` upgrades a request inside a `weft/http`
 * handler (plain HTTP routes share the port); `connectWebSocket` opens a
 * `ws://` or `wss://` connection, through an HTTP proxy if asked. Both give a
 * {@link WebSocket}: `recv()` hands back each message with its payload as a
 * weft `Reader` (streamed, fragments joined), PINGs are answered and a peer's
 * CLOSE echoed while a task reads, `ping()` waits for its pong and `close()`
 * runs the close handshake.
 *
 * Extensions are not supported yet: `permessage-deflate` (which browsers
 * offer by default) is declined, and frames are never compressed.
 *
 * Node only for now (sockets and TLS come from `weft/node`); the
 * `WebSocket` class itself runs over any weft duplex, e.g. an in-memory pipe.
 *
 * @example
 * ```ts
 * import { run, withTaskGroup } from "weftjs";
 * import { listenHttp } from "weftjs/http";
 * import { acceptWebSocket, connectWebSocket } from "weftjs/ws";
 *
 * const reply = await run(function* () {
 *   using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 *   return yield* withTaskGroup<string>(function* (group) {
 *     group.startSoon(() => server.serve(function* (req, res) {
 *       using ws = yield* acceptWebSocket(req, res);
 *       yield* ws.sendText(`echo: ${yield* ws.recvText()}`);
 *       yield* ws.close();
 *     }), { daemon: true });
 *     using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/`);
 *     yield* ws.sendText("hello");
 *     return yield* ws.recvText();
 *   });
 * });
 * console.log(reply); // prints echo: hello
 * ```
 *
 * @module
 */
export { WebSocket, type WebSocketMessage, type WebSocketMessageWriter, type WebSocketTransport } from "./ws/websocket.ts";
export { ConnectionClosed, ProtocolError } from "./ws/errors.ts";
export type { WebSocketOptions } from "./ws/options.ts";
export { HandshakeRejected } from "./ws/handshake.ts";
export { acceptWebSocket, isWebSocketRequest, type AcceptWebSocketOptions } from "./ws/server.ts";
export { connectWebSocket, type ConnectWebSocketOptions } from "./ws/client.ts";
