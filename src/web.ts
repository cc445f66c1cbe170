/**
 * weft/web: the platform's own `WebSocket` and `fetch` as weft operations,
 * for browsers, Deno, Bun and Node 22+ (no `node:` import).
 *
 * - `connectWebSocket(url)` opens the platform's `WebSocket` and gives the
 *   message surface of `weft/ws` (`recv`, `recvText`, `recvBytes`,
 *   `sendText`, `sendBinary`, `close`), with `weft/ws`'s own
 *   `ConnectionClosed`. Message payloads arrive whole there (a browser hands
 *   over a message only once all of it arrived), and there is no `ping()`
 *   (the browser API cannot send one). Cancelling the connect closes the
 *   socket; its listeners are removed when it closes.
 * - `fetchResponse(url, init?)` is `fetch` as an operation: cancelling the
 *   task aborts the request, and the body is a weft `Reader` with `text()`,
 *   `json()` and `bytes()` (each with a `maxSize`).
 *
 * @example
 * ```ts
 * import { run, withTaskGroup } from "weftjs";
 * import { listenHttp } from "weftjs/http";
 * import { acceptWebSocket } from "weftjs/ws";
 * import { connectWebSocket, fetchResponse } from "weftjs/web";
 * // Node 20 has no global WebSocket: it takes the ws package's (a browser, Deno, Bun or Node 22+ needs none).
 * import { WebSocket as NodeWebSocket } from "ws";
 *
 * const lines = await run(function* () {
 *   using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 *   return yield* withTaskGroup<string[]>(function* (group) {
 *     group.startSoon(() => server.serve(function* (req, res) {
 *       if (req.url.pathname !== "/ws") return yield* res.send(200, "plain HTTP");
 *       using ws = yield* acceptWebSocket(req, res);
 *       yield* ws.sendText(`echo: ${yield* ws.recvText()}`);
 *       yield* ws.close();
 *     }), { daemon: true });
 *     using res = yield* fetchResponse(`http://127.0.0.1:${server.port}/`);
 *     using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/ws`, { WebSocket: NodeWebSocket });
 *     yield* ws.sendText("hello");
 *     return [yield* res.text(), yield* ws.recvText()];
 *   });
 * });
 * console.log(lines); // prints [ 'plain HTTP', 'echo: hello' ]
 * ```
 *
 * @module
 */
export {
  connectWebSocket,
  PlatformWebSocket,
  type ConnectWebSocketOptions,
  type PlatformWebSocketMessage,
  type WebSocketConstructorLike,
  type WebSocketEventLike,
  type WebSocketLike,
} from "./web/websocket.ts";
export {
  fetchResponse,
  WebResponse,
  type FetchLike,
  type FetchResponseOptions,
  type ResponseLike,
  type WebReadBodyOptions,
} from "./web/fetch.ts";
export { WebSocketConnectFailed } from "./web/errors.ts";
export { ConnectionClosed, ProtocolError } from "./ws/errors.ts";
export { HttpBodyTooLarge } from "./http/errors.ts";
