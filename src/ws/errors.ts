/**
 * The errors of `weft/ws`.
 */

/**
 * Thrown by an operation on a {@link WebSocket} once the connection is
 * closed: the peer sent a CLOSE frame (its `code` and `reason`), our own
 * close handshake ended, or the transport ended without a CLOSE frame
 * (`code` 1006, which is never sent on the wire).
 *
 * @example
 * ```ts
 * const error = new ConnectionClosed(1001, "going away");
 * console.log(error.code, error.reason); // prints 1001 going away
 * ```
 */
export class ConnectionClosed extends Error {
  /** The close code: the peer's, 1005 when its CLOSE frame had none, 1006 when the transport ended without one. */
  readonly code: number;
  /** The close reason the peer gave ("" when none). */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param code the close code
   * @param reason the close reason
   * @param message what the error says
   */
  constructor(code: number, reason = "", message = `the WebSocket connection is closed (${code}${reason ? ` ${reason}` : ""})`) {
    super(message);
    this.name = "ConnectionClosed";
    this.code = code;
    this.reason = reason;
  }
}

/**
 * Thrown by the read that met a protocol violation of the peer; the
 * connection was then failed with `code` (a CLOSE frame carrying it was sent
 * and the transport closed): 1002 for a framing error, 1007 for a text
 * message that is not UTF-8, 1009 for a message over `maxMessageSize`, 1011
 * for a message whose sending was cut off.
 *
 * @example
 * ```ts
 * const error = new ProtocolError(1007, "invalid UTF-8 in a text message");
 * console.log(error.code); // prints 1007
 * ```
 */
export class ProtocolError extends Error {
  /** The close code the connection was failed with. */
  readonly code: number;

  /**
   * Creates the error.
   *
   * @param code the close code the connection was failed with
   * @param message what the error says
   */
  constructor(code: number, message = `WebSocket protocol error (${code})`) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}
