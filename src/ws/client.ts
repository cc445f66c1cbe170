/**
 * `connectWebSocket`: the client side of the opening handshake, over TCP or
 * TLS, directly or through an HTTP proxy.
 */
import { describe, type Operation } from "../core/operation.ts";
import { DuplexBase } from "../io/duplex.ts";
import type { TlsClientOptions } from "../node/tls/connect_tls.ts";
import { bodyReader } from "../http/codec/body_reader.ts";
import { responseFraming } from "../http/codec/framing.ts";
import { HttpInput, type ResponseHead } from "../http/codec/input.ts";
import { joinChunks } from "../http/codec/read_whole.ts";
import { requestHeadBytes } from "../http/codec/serialize.ts";
import { HttpHeaders, type HttpHeadersInit } from "../http/headers.ts";
import { protocolError } from "../http/client/errors.ts";
import { DEFAULT_LIMITS } from "../http/limits.ts";
import { openConnection, type OriginTransport, requireProxy } from "../http/client/open_connection.ts";
import { checkResponse, generateKey, HandshakeRejected, requireProtocols } from "./handshake.ts";
import { resolveWebSocketOptions, type WebSocketOptions } from "./options.ts";
import { WebSocket } from "./websocket.ts";

/**
 * Options of {@link connectWebSocket}.
 *
 * @example
 * ```ts
 * const options: ConnectWebSocketOptions = { protocols: ["chat.v2"], headers: { origin: "https://example.com" }, closeTimeout: 5_000 };
 * ```
 */
export interface ConnectWebSocketOptions extends WebSocketOptions {
  /**
   * Extra request headers (`Origin`, `Authorization`, cookies, …). The
   * handshake's own (`Upgrade`, `Connection` and the `Sec-WebSocket-*`
   * ones) cannot be set: that is a TypeError.
   */
  headers?: HttpHeadersInit;
  /** The subprotocols to offer, most preferred first; the server picks one or none (`ws.protocol`). */
  protocols?: readonly string[];
  /**
   * An HTTP proxy, `http://[user:password@]host:port`. Both `ws://` and
   * `wss://` go through a `CONNECT` tunnel (TLS over it for `wss://`).
   */
  proxy?: string | URL;
  /** TLS options for `wss://` (`ca`, `rejectUnauthorized`, a client `cert` and `key`, …). */
  tls?: TlsClientOptions;
}

const api = "connectWebSocket()";
/** How much of a refusal's body HandshakeRejected keeps. */
const MAX_REJECTED_BODY = 64 * 1024;
const FORBIDDEN = /[\r\n\0]/;
const OWN_HEADERS = [
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "sec-websocket-accept",
];

function requireUrl(url: unknown): URL {
  if (typeof url === "string") {
    // The URL parser silently drops CR, LF and tab: a header injected through a URL must fail, not vanish.
    if (FORBIDDEN.test(url)) throw new TypeError(`${api}: the URL contains CR, LF or NUL`);
    try {
      url = new URL(url);
    } catch {
      throw new TypeError(`${api}: the URL must be absolute, got ${JSON.stringify(url)}`);
    }
  }
  if (!(url instanceof URL)) throw new TypeError(`${api}: the URL must be a string or a URL, got ${describe(url)}`);
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new TypeError(`${api}: the URL must be ws: or wss:, got ${url.protocol}`);
  // RFC 6455 §3: a WebSocket URI has no fragment.
  if (url.hash !== "") throw new TypeError(`${api}: a WebSocket URL has no fragment, got ${JSON.stringify(url.hash)}`);
  return url;
}

/**
 * Opens a WebSocket to a `ws://` or `wss://` URL (RFC 6455 §4.1) and
 * returns it once the server accepted the handshake.
 *
 * Throws a TypeError or RangeError for a bad URL or option before
 * connecting; the connection's error (`ECONNREFUSED`, a TLS verification
 * failure, …); `ProxyError` when the proxy refuses the tunnel; and
 * {@link HandshakeRejected} when the server does not answer 101 (with its
 * status, headers and the first 64 KiB of its body) or answers 101 wrongly:
 * a wrong `Sec-WebSocket-Accept`, a subprotocol the client did not offer,
 * or an extension, since the client asks for none (`permessage-deflate` is
 * not supported yet). These are refusals of the handshake, not framing
 * errors, so no CLOSE frame is sent: the connection is dropped. Bytes the
 * server sent right after its 101 head are read as the first frame bytes.
 * Cancelling the call drops the connection.
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) {
 *     using ws = yield* acceptWebSocket(req, res);
 *     yield* ws.sendText((yield* ws.recvText()).toUpperCase());
 *     yield* ws.close();
 *   }), { daemon: true });
 *   using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/`);
 *   yield* ws.sendText("shout");
 *   console.log(yield* ws.recvText()); // prints SHOUT
 * });
 * ```
 */
export function* connectWebSocket(url: string | URL, options?: ConnectWebSocketOptions): Operation<WebSocket> {
  const target = requireUrl(url);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  const protocols = requireProtocols(api, "options.protocols", options?.protocols);
  const proxy = requireProxy(api, options?.proxy);
  const tls = options?.tls;
  if (tls !== undefined && (typeof tls !== "object" || tls === null))
    throw new TypeError(`${api}: options.tls must be an object, got ${describe(tls)}`);
  const resolved = resolveWebSocketOptions(api, options);
  const headers = new HttpHeaders(options?.headers);
  for (const name of OWN_HEADERS) {
    if (headers.has(name)) throw new TypeError(`${api}: options.headers cannot set ${name}: the handshake sets it`);
  }
  const key = generateKey();
  if (!headers.has("host")) headers.set("host", target.host);
  headers.set("upgrade", "websocket");
  headers.set("connection", "Upgrade");
  headers.set("sec-websocket-key", key);
  headers.set("sec-websocket-version", "13");
  if (protocols.length > 0) headers.set("sec-websocket-protocol", protocols.join(", "));
  // Validated by the serializer (a TypeError names a bad header) before a connection is made.
  const head = requestHeadBytes("GET", `${target.pathname}${target.search}`, headers);

  const secure = target.protocol === "wss:";
  const port = target.port === "" ? (secure ? 443 : 80) : Number(target.port);
  const transport = yield* openConnection(
    { hostname: target.hostname, port, secure },
    { proxy, tls, limits: DEFAULT_LIMITS, alpn: ["http/1.1"], api },
  );
  let done = false;
  try {
    yield* transport.write(head);
    const input = new HttpInput(transport);
    let answer: ResponseHead | undefined;
    for (;;) {
      answer = yield* input.readResponseHead(DEFAULT_LIMITS);
      if (answer === undefined) throw protocolError(502, `${api}: the server closed the connection instead of answering the handshake`);
      // Interim 1xx answers (103 Early Hints) may precede the final one; 101 is final.
      if (answer.status === 101 || answer.status >= 200) break;
    }
    if (answer.status !== 101) {
      const body = yield* readSomeBody(input, answer);
      throw new HandshakeRejected(`${api}: the server answered ${answer.status} ${answer.reason}`, answer.status, answer.headers, body);
    }
    const checked = checkResponse(answer.headers, key, protocols);
    if (!checked.ok) throw new HandshakeRejected(`${api}: ${checked.reason}`, 101, answer.headers);
    const ws = new WebSocket(new HandshakenConnection(transport, input), "client", resolved, checked.protocol);
    done = true;
    return ws;
  } finally {
    // A failed or cancelled handshake leaves nothing half-open.
    if (!done) {
      if (transport.abort !== undefined) transport.abort();
      else transport.close();
    }
  }
}

/** Up to MAX_REJECTED_BODY bytes of a refusal's body. */
function* readSomeBody(input: HttpInput, head: ResponseHead): Operation<Uint8Array> {
  const body = bodyReader(input, responseFraming(head, "GET"), DEFAULT_LIMITS, 502);
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < MAX_REJECTED_BODY) {
    const chunk = yield* body.readSome(MAX_REJECTED_BODY - total);
    if (chunk === undefined) break;
    chunks.push(chunk); // the input never overwrites bytes it handed out
    total += chunk.length;
  }
  return joinChunks(chunks, total);
}

/**
 * The connection after the handshake: reads take what the head parser had
 * buffered past the 101 head first (the server may send frames right
 * behind it), then the transport.
 */
class HandshakenConnection extends DuplexBase {
  readonly #transport: OriginTransport;
  readonly #input: HttpInput;
  #closed = false;

  constructor(transport: OriginTransport, input: HttpInput) {
    super();
    this.#transport = transport;
    this.#input = input;
  }

  /** The transport's: see `Writer.cancelledWrite`. */
  get cancelledWrite(): "queued" | "dropped" | undefined {
    return this.#transport.cancelledWrite;
  }

  protected readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    // Once the leftover is gone, straight from the transport: one layer less per read.
    return this.#input.buffered > 0 ? this.#input.readSome(sizeHint) : this.#transport.readSome(sizeHint);
  }

  protected writeChunk(bytes: Uint8Array): Operation<void> {
    return this.#transport.write(bytes);
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Ends the write side after what was written. */
  shutdownWrite(): void {
    this.#transport.shutdownWrite?.();
  }

  /** Closes the connection (queued bytes still go out). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
  }

  /** Drops the connection at once. */
  abort(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#transport.abort !== undefined) this.#transport.abort();
    else this.#transport.close();
  }
}
