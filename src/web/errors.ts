/**
 * The errors of `weft/web` that `weft/ws` does not have. `ConnectionClosed`
 * and `ProtocolError` are the same classes as `weft/ws`'s.
 */

/**
 * Thrown by `connectWebSocket` of `weft/web` when the platform's WebSocket
 * closed before it opened. A page is told nothing more on purpose (a refused
 * connection, a handshake the server rejected, a TLS failure and a URL the
 * browser blocked all look the same to it), so unlike `weft/ws`'s
 * `HandshakeRejected` this error carries no response: only the URL and the
 * close code the platform reported (1006 as a rule).
 *
 * @example
 * ```ts
 * const error = new WebSocketConnectFailed("ws://127.0.0.1:1/", 1006);
 * console.log(error.url, error.code); // prints ws://127.0.0.1:1/ 1006
 * ```
 */
export class WebSocketConnectFailed extends Error {
  /** The URL the connection was opened to. */
  readonly url: string;
  /** The close code of the platform's close event (1006 when it gave none). */
  readonly code: number;

  /**
   * Creates the error.
   *
   * @param url the URL the connection was opened to
   * @param code the close code the platform reported
   * @param message what the error says
   */
  constructor(url: string, code: number, message = `the WebSocket connection to ${url} failed before it opened (${code})`) {
    super(message);
    this.name = "WebSocketConnectFailed";
    this.url = url;
    this.code = code;
  }
}
