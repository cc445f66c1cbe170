/**
 * `acceptWebSocket`: the server side of the opening handshake, inside a
 * `weft/http` handler.
 */
import { describe, type Operation } from "../core/operation.ts";
import { HttpHeaders } from "../http/headers.ts";
import type { HttpRequest } from "../http/server/request.ts";
import type { HttpResponse } from "../http/server/response.ts";
import { acceptKey, checkRequest, chooseProtocol, HandshakeRejected, headerList, requireProtocols } from "./handshake.ts";
import { resolveWebSocketOptions, type WebSocketOptions } from "./options.ts";
import { WebSocket } from "./websocket.ts";

/**
 * Options of {@link acceptWebSocket}: the subprotocols the server speaks and
 * the limits of the {@link WebSocket} it returns.
 *
 * @example
 * ```ts
 * const options: AcceptWebSocketOptions = { protocols: ["chat.v2", "chat.v1"], maxMessageSize: 1024 * 1024 };
 * ```
 */
export interface AcceptWebSocketOptions extends WebSocketOptions {
  /**
   * The subprotocols the server speaks. The first one the client offered
   * (in the client's order) that is listed here is chosen and sent back in
   * `Sec-WebSocket-Protocol`; when none matches, none is chosen and the
   * connection goes ahead without one (`ws.protocol` is ""): the client
   * decides whether that will do.
   */
  protocols?: readonly string[];
}

const api = "acceptWebSocket()";
const utf8 = new TextEncoder();

/**
 * True when `req` asks for a WebSocket (`Upgrade: websocket`), so a handler
 * can route it to {@link acceptWebSocket} and answer everything else as
 * plain HTTP on the same port.
 *
 * @example
 * ```ts
 * function* handler(req: HttpRequest, res: HttpResponse): Operation<void> {
 *   if (!isWebSocketRequest(req)) return yield* res.send(200, "plain HTTP here\n");
 *   using ws = yield* acceptWebSocket(req, res);
 *   yield* ws.sendText("hello");
 *   yield* ws.close();
 * }
 * ```
 */
export function isWebSocketRequest(req: HttpRequest): boolean {
  return headerList(req.headers, "upgrade").some((item) => item.toLowerCase() === "websocket");
}

/**
 * Performs the WebSocket opening handshake (RFC 6455 §4.2) for `req` and
 * returns the connection (the handler then owns it until it returns; the
 * server closes the transport after).
 *
 * A request that is not a valid handshake is answered here and the call
 * throws {@link HandshakeRejected} carrying that answer: `400 Bad Request`
 * for a method other than GET, a missing `Upgrade: websocket` or `Connection:
 * upgrade`, or a `Sec-WebSocket-Key` that is not base64 of 16 bytes; `426
 * Upgrade Required` with `Sec-WebSocket-Version: 13` for another version.
 * Catch it to end the handler quietly; left to escape, it reaches the
 * server's `onError` like any handler failure (the answer is already out).
 * Extensions are declined: `permessage-deflate` (which browsers offer by
 * default) is not supported yet, so the answer has no
 * `Sec-WebSocket-Extensions` and frames are never compressed. Options are
 * checked (TypeError/RangeError naming the option) before anything is sent.
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) {
 *     if (req.url.pathname !== "/echo") return yield* res.send(404);
 *     using ws = yield* acceptWebSocket(req, res, { protocols: ["echo"] });
 *     yield* ws.sendText(`you speak ${ws.protocol}`);
 *     yield* ws.close();
 *   }), { daemon: true });
 *   using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/echo`, { protocols: ["echo"] });
 *   console.log(yield* ws.recvText()); // prints you speak echo
 * });
 * ```
 */
export function* acceptWebSocket(req: HttpRequest, res: HttpResponse, options?: AcceptWebSocketOptions): Operation<WebSocket> {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  const supported = requireProtocols(api, "options.protocols", options?.protocols);
  const resolved = resolveWebSocketOptions(api, options);
  const problem = checkRequest(req.method, req.headers);
  if (problem !== undefined) {
    const body = utf8.encode(`${problem.message}\n`);
    const headers = new HttpHeaders({ "content-type": "text/plain; charset=utf-8" });
    if (problem.status === 426) {
      headers.set("sec-websocket-version", "13");
      headers.set("upgrade", "websocket");
    }
    // The request may carry a body (a POST) and the client may still send frames: the connection is not reused.
    headers.set("connection", "close");
    yield* res.send(problem.status, body, headers);
    throw new HandshakeRejected(`${api}: ${problem.message}`, problem.status, headers, body);
  }
  const protocol = chooseProtocol(headerList(req.headers, "sec-websocket-protocol"), supported);
  const headers = new HttpHeaders({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-accept": acceptKey(req.headers.get("sec-websocket-key")!.trim()),
  });
  if (protocol !== "") headers.set("sec-websocket-protocol", protocol);
  const conn = yield* res.upgrade(101, headers);
  try {
    return new WebSocket(conn, "server", resolved, protocol);
  } catch (error) {
    conn.close();
    throw error;
  }
}
