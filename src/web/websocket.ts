/**
 * `connectWebSocket` of `weft/web`: the platform's own `WebSocket` (browsers,
 * Deno, Bun, Node 22+) behind the message surface of `weft/ws`.
 *
 * The platform object runs the protocol; this module turns its events into
 * operations. Its listeners are the only link: they fill a queue of received
 * messages and wake the task waiting for one, and all four are removed when
 * the socket's close event arrives (or at once when it is dropped).
 */
import "../io/dispose_symbol.ts";
import { action } from "../core/action.ts";
import { withTimeoutOpt } from "../group/timeout.ts";
import { WeftUsageError } from "../core/errors.ts";
import { describe, type Operation } from "../core/operation.ts";
import { decodeUtf8 } from "../io/data.ts";
import { MemoryReader } from "../io/memory_reader.ts";
import type { Reader } from "../io/reader.ts";
import { ConnectionClosed, ProtocolError } from "../ws/errors.ts";
import { resolveCloseTimeout } from "../ws/options.ts";
import { WebSocketConnectFailed } from "./errors.ts";

/** What the listeners of a platform WebSocket are given: `data` on "message", `code` and `reason` on "close". */
export interface WebSocketEventLike {
  /** The event's type: "open", "message", "close" or "error". */
  readonly type: string;
  /** A "message" event's payload: a string, or an `ArrayBuffer` (the `binaryType` is "arraybuffer"). */
  readonly data?: unknown;
  /** A "close" event's close code. */
  readonly code?: number;
  /** A "close" event's close reason. */
  readonly reason?: string;
}

/**
 * The part of the platform's `WebSocket` that `connectWebSocket` uses (the
 * WHATWG interface: browsers, Deno, Bun and Node 22+ have it as a global).
 *
 * @example
 * ```ts
 * const Platform = (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
 * // Browsers, Deno, Bun and Node 22+ have one; Node 20 has none.
 * console.log(Platform === undefined ? "no global WebSocket" : "a global WebSocket"); // prints a global WebSocket (on Node 20: no global WebSocket)
 * ```
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** The subprotocol the server chose ("" when none). */
  readonly protocol: string;
  /** How binary messages are delivered: set to "arraybuffer". */
  binaryType: string;
  /** Queues a message (the platform copies the bytes). */
  send(data: string | ArrayBufferView<ArrayBuffer> | ArrayBuffer): void;
  /** Starts the close handshake. */
  close(code?: number, reason?: string): void;
  /** Adds an event listener ("open", "message", "close", "error"). */
  addEventListener(type: string, listener: (event: WebSocketEventLike) => void): void;
  /** Removes an event listener. */
  removeEventListener(type: string, listener: (event: WebSocketEventLike) => void): void;
}

/**
 * A `WebSocket` class as the platform has it: `new WebSocket(url, protocols)`.
 *
 * @example
 * ```ts
 * const options: ConnectWebSocketOptions = { WebSocket: globalThis.WebSocket as WebSocketConstructorLike | undefined };
 * console.log("WebSocket" in options); // prints true
 * ```
 */
export type WebSocketConstructorLike = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Options of {@link connectWebSocket}.
 *
 * @example
 * ```ts
 * const options: ConnectWebSocketOptions = { protocols: ["chat.v2", "chat.v1"] };
 * console.log(options.protocols); // prints [ 'chat.v2', 'chat.v1' ]
 * ```
 */
export interface ConnectWebSocketOptions {
  /** Subprotocols to offer, most wanted first; `protocol` says which one the server chose. */
  protocols?: string | string[];
  /** The `WebSocket` class to use instead of the global one (tests; Node 20, which has none: e.g. the `ws` package's). */
  WebSocket?: WebSocketConstructorLike;
  /**
   * How long `close()` waits for the close handshake to end, in ms (30 s by
   * default, as `weftjs/ws`); past it, `close()` stops waiting and listening.
   */
  closeTimeout?: number;
}

/**
 * A received message of a {@link PlatformWebSocket}: its kind and its payload
 * as a weft `Reader`. In a browser a message arrives whole (the platform
 * reads all of it before it says anything), so the reader reads from memory.
 */
export interface PlatformWebSocketMessage {
  /** "text" or "binary". */
  readonly kind: "text" | "binary";
  /** The payload (UTF-8 for a text message). */
  readonly reader: Reader;
}

type Received = { readonly kind: "text"; readonly data: string } | { readonly kind: "binary"; readonly data: Uint8Array };

const OPEN = 1;
const EVENTS = ["open", "message", "close", "error"] as const;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const utf8Encoder = new TextEncoder();

/**
 * A WebSocket over the platform's own `WebSocket` object, with the message
 * surface of `weft/ws`'s `WebSocket` where the platform allows it. Made by
 * {@link connectWebSocket}.
 *
 * - `recv()` gives `{ kind, reader }`; the payload arrived whole (browsers
 *   give no access to a message before it is complete), so the reader is
 *   over memory. `recvText()` and `recvBytes()` take a whole message.
 * - Messages that arrive while no task reads are queued here without a bound:
 *   the platform reads the socket as fast as data comes and offers no way to
 *   pause it, so a bound could only drop messages or close the connection.
 *   Keep a task reading (fan out through a bounded weft `Queue`), or close.
 * - `sendText`/`sendBinary` hand the message to the platform at once (it
 *   buffers them: `bufferedAmount`); they never wait.
 * - No `ping()`: the browser API cannot send a PING (the platform answers
 *   the server's PINGs itself). No `startMessage()`: it cannot fragment.
 * - `close()` runs the close handshake and waits for its end.
 *
 * Errors are `weft/ws`'s own classes: a closed connection raises
 * `ConnectionClosed { code, reason }` (1006 when it ended without a close
 * frame), so one `catch` serves both modules.
 *
 * @example
 * ```ts
 * // Node 20 has no global WebSocket: it takes the ws package's (a browser, Deno, Bun or Node 22+ needs none).
 * import { WebSocket as NodeWebSocket } from "ws";
 * import { listenHttp } from "weftjs/http";
 * import { acceptWebSocket } from "weftjs/ws";
 *
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) {
 *     using peer = yield* acceptWebSocket(req, res);
 *     yield* peer.sendBinary(yield* peer.recvBytes());
 *     yield* peer.close();
 *   }), { daemon: true });
 *   using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/`, { WebSocket: NodeWebSocket });
 *   yield* ws.sendBinary(Uint8Array.of(1, 2, 3));
 *   const message = yield* ws.recv();
 *   console.log(message.kind, (yield* message.reader.readAll()).bytes()); // prints binary Uint8Array(3) [ 1, 2, 3 ]
 *   yield* ws.close();
 * });
 * ```
 */
export class PlatformWebSocket {
  /** The URL the connection was opened to. */
  readonly url: string;
  readonly #ws: WebSocketLike;
  readonly #queue: Received[] = [];
  readonly #wakers = new Set<() => void>();
  #receiving = false;
  #opened = false;
  /** The close code and reason once the platform's close event arrived. */
  #closeEvent: { code: number; reason: string } | null = null;
  /** What operations raise once the connection is closed (or closing, by this side). */
  #closed: ConnectionClosed | ProtocolError | null = null;
  #closeCalled = false;
  #listening = true;
  readonly #listeners: Array<[string, (event: WebSocketEventLike) => void]>;
  readonly #closeTimeout: number;

  /** @internal Made by {@link connectWebSocket}: the platform socket was just created. */
  constructor(ws: WebSocketLike, url: string, closeTimeout: number) {
    this.#ws = ws;
    this.url = url;
    this.#closeTimeout = closeTimeout;
    this.#listeners = EVENTS.map((type): [string, (event: WebSocketEventLike) => void] => [type, (event) => this.#handle(type, event)]);
    for (const [type, listener] of this.#listeners) ws.addEventListener(type, listener);
  }

  /** The subprotocol the server chose, "" when none. */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** Messages received and not yet taken by `recv`. */
  get queued(): number {
    return this.#queue.length;
  }

  #handle(type: string, event: WebSocketEventLike): void {
    if (!this.#listening) return;
    if (type === "open") this.#opened = true;
    else if (type === "message") this.#received(event.data);
    else if (type === "close") {
      this.#closeEvent = {
        code: typeof event.code === "number" ? event.code : 1006,
        reason: typeof event.reason === "string" ? event.reason : "",
      };
      this.#closed ??= new ConnectionClosed(this.#closeEvent.code, this.#closeEvent.reason);
      this.#unlisten();
    }
    // "error" is always followed by "close", which says all there is to say.
    this.#wake();
  }

  #received(data: unknown): void {
    if (this.#closed !== null) return; // closing by this side: later messages are discarded
    if (typeof data === "string") this.#queue.push({ kind: "text", data });
    else if (data instanceof ArrayBuffer) this.#queue.push({ kind: "binary", data: new Uint8Array(data) });
    else if (ArrayBuffer.isView(data))
      this.#queue.push({ kind: "binary", data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    else {
      // A Blob: binaryType could not be set. Reading it would need a promise per message and lose their order.
      this.#closed = new ProtocolError(1003, "the platform delivered a binary message as a Blob (binaryType is not arraybuffer)");
      this.#queue.length = 0;
      try {
        this.#ws.close(1003, "binary messages as Blob are not supported");
      } catch {
        // already closing
      }
    }
  }

  #unlisten(): void {
    if (!this.#listening) return;
    this.#listening = false;
    for (const [type, listener] of this.#listeners) this.#ws.removeEventListener(type, listener);
  }

  #wake(): void {
    for (const waker of [...this.#wakers]) waker();
  }

  /** Waits until `ready()` returns something other than `undefined` (it may throw), re-checked after every event. */
  *#until<T>(ready: () => T | undefined): Operation<T> {
    const first = ready();
    if (first !== undefined) return first;
    return yield* action<T>((resolve, reject) => {
      const waker = (): void => {
        let value: T | undefined;
        try {
          value = ready();
        } catch (error) {
          this.#wakers.delete(waker);
          reject(error);
          return;
        }
        if (value !== undefined) {
          this.#wakers.delete(waker);
          resolve(value);
        }
      };
      this.#wakers.add(waker);
      return () => this.#wakers.delete(waker);
    });
  }

  /** @internal Waits for the open event; throws `WebSocketConnectFailed` if the socket closed first. */
  *opened(): Operation<void> {
    yield* this.#until(() => {
      if (this.#opened || this.#ws.readyState === OPEN) return true;
      if (this.#closeEvent !== null) throw new WebSocketConnectFailed(this.url, this.#closeEvent.code);
      if (this.#closed !== null) throw this.#closed;
      return undefined;
    });
  }

  *#take(): Operation<Received> {
    if (this.#receiving) throw new WeftUsageError("recv(): another task is receiving; receive from one task and fan out with a Queue");
    this.#receiving = true;
    try {
      return yield* this.#until(() => {
        if (this.#closeCalled && this.#closed !== null) throw this.#closed;
        const next = this.#queue.shift();
        if (next !== undefined) return next;
        if (this.#closed !== null) throw this.#closed;
        return undefined;
      });
    } finally {
      this.#receiving = false;
    }
  }

  /**
   * The next message; its payload arrived whole and the reader is over it.
   * Messages received before the peer closed are still handed out; after
   * them (or at once, after this side's `close()`), `ConnectionClosed`.
   * Cancelling it takes nothing from the queue.
   */
  *recv(): Operation<PlatformWebSocketMessage> {
    const message = yield* this.#take();
    return { kind: message.kind, reader: new MemoryReader(message.data) };
  }

  /** The next message as text (a binary message is decoded as UTF-8: a TypeError if it is not). */
  *recvText(): Operation<string> {
    const message = yield* this.#take();
    return message.kind === "text" ? message.data : decodeUtf8("recvText()", message.data);
  }

  /** The next message as bytes (a text message as its UTF-8). */
  *recvBytes(): Operation<Uint8Array> {
    const message = yield* this.#take();
    return message.kind === "binary" ? message.data : utf8Encoder.encode(message.data);
  }

  #checkSend(api: string): void {
    if (this.#closed !== null) throw this.#closed;
    if (this.#closeCalled) throw new ConnectionClosed(1000, "", "the WebSocket is closing: close() was called");
    if (this.#ws.readyState !== OPEN)
      throw new ConnectionClosed(1006, "", `${api}: the WebSocket is not open (readyState ${this.#ws.readyState})`);
  }

  /** Sends a text message (handed to the platform at once). */
  *sendText(text: string): Operation<void> {
    if (typeof text !== "string") throw new TypeError(`sendText(): text must be a string, got ${describe(text)}`);
    this.#checkSend("sendText()");
    this.#ws.send(text);
  }

  /** Sends a binary message (the platform copies the bytes before it returns). */
  *sendBinary(bytes: Uint8Array): Operation<void> {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`sendBinary(): bytes must be a Uint8Array, got ${describe(bytes)}`);
    this.#checkSend("sendBinary()");
    this.#ws.send(bytes as Uint8Array<ArrayBuffer>);
  }

  /**
   * Runs the close handshake: sends a close frame with `code` (1000, or
   * 3000–4999: the codes a browser lets a page send) and `reason` (at most
   * 123 bytes of UTF-8), then waits for the platform's close event, for at
   * most `closeTimeout` (30 s by default). Past it, `close()` stops waiting
   * and removes the listeners, as `[Symbol.dispose]` does (a page has no way
   * to cut a closing connection short: the platform ends it in its own
   * time). Queued messages are discarded and every later operation raises
   * `ConnectionClosed`. Cancelling the wait leaves the handshake to the
   * platform (the listeners go when it ends). Returns at once if the
   * connection is already closed.
   */
  *close(code = 1000, reason = ""): Operation<void> {
    if (typeof code !== "number" || !Number.isInteger(code) || (code !== 1000 && (code < 3000 || code > 4999))) {
      throw new RangeError(`close(): code must be 1000 or an integer in 3000-4999, got ${describe(code)}`);
    }
    if (typeof reason !== "string") throw new TypeError(`close(): reason must be a string, got ${describe(reason)}`);
    const length = utf8Encoder.encode(reason).length;
    if (length > 123) throw new RangeError(`close(): reason must be at most 123 bytes of UTF-8, got ${length}`);
    if (!this.#closeCalled) {
      this.#closeCalled = true;
      this.#queue.length = 0;
      this.#closed ??= new ConnectionClosed(code, reason, `the WebSocket was closed by this side (${code})`);
      this.#wake(); // a waiting recv raises now
      if (this.#listening) this.#ws.close(code, reason);
    }
    if (!this.#listening) return;
    const ended = yield* withTimeoutOpt(this.#closeTimeout, () => this.#until(() => (this.#listening ? undefined : true)));
    if (ended === undefined && this.#listening) {
      // The platform's close is under way already; only the wait is given up.
      this.#unlisten();
      this.#wake();
    }
  }

  /**
   * Drops the connection: starts the platform's close (no code) without
   * waiting, and removes the listeners at once. Queued messages are
   * discarded; later operations raise `ConnectionClosed` (1006).
   */
  [Symbol.dispose](): void {
    this.#closed ??= new ConnectionClosed(1006, "", "the WebSocket was dropped by this side");
    this.#closeCalled = true;
    this.#queue.length = 0;
    if (this.#listening) {
      this.#unlisten();
      try {
        this.#ws.close();
      } catch {
        // already closing or closed
      }
    }
    this.#wake();
  }
}

function requireUrl(url: unknown): string {
  const Url = (globalThis as { URL?: typeof URL }).URL;
  if (typeof url !== "string" && !(Url !== undefined && url instanceof Url)) {
    throw new TypeError(`connectWebSocket(): url must be a string or a URL, got ${describe(url)}`);
  }
  const text = String(url);
  let scheme: string;
  let href: string;
  if (Url !== undefined) {
    let parsed: URL;
    try {
      parsed = new Url(text);
    } catch {
      throw new TypeError(`connectWebSocket(): url must be an absolute URL, got ${JSON.stringify(text)}`);
    }
    scheme = parsed.protocol;
    href = parsed.href;
  } else {
    // A host without URL (an embedded engine): the scheme is checked, the platform's WebSocket parses the rest.
    const match = /^([a-z][a-z0-9+.-]*:)\/\/[^/?#\s]+/i.exec(text);
    if (match === null) throw new TypeError(`connectWebSocket(): url must be an absolute URL, got ${JSON.stringify(text)}`);
    scheme = match[1]!.toLowerCase();
    href = text;
  }
  if (scheme !== "ws:" && scheme !== "wss:") {
    throw new RangeError(`connectWebSocket(): url must be a ws: or wss: URL, got ${scheme}`);
  }
  if (href.includes("#")) throw new RangeError("connectWebSocket(): url must not have a fragment (#…)");
  return href;
}

function requireProtocols(protocols: unknown): string[] {
  if (protocols === undefined) return [];
  const list = typeof protocols === "string" ? [protocols] : protocols;
  if (!Array.isArray(list)) {
    throw new TypeError(`connectWebSocket(): options.protocols must be a string or an array of strings, got ${describe(protocols)}`);
  }
  const seen = new Set<string>();
  for (const p of list as unknown[]) {
    if (typeof p !== "string" || !TOKEN.test(p)) {
      throw new TypeError(`connectWebSocket(): options.protocols must be HTTP tokens, got ${describe(p)}`);
    }
    if (seen.has(p)) throw new RangeError(`connectWebSocket(): options.protocols names ${p} twice`);
    seen.add(p);
  }
  return [...seen];
}

/**
 * Opens a WebSocket with the platform's own `WebSocket` (the global one, or
 * `options.WebSocket`) and waits until it is open. Cancelling it closes the
 * socket and removes its listeners. A socket that closes before it opens
 * raises {@link WebSocketConnectFailed}; the platform says no more (no
 * status, no response, by design), unlike `weft/ws`'s `HandshakeRejected`.
 *
 * Use the result with `using`: leaving the block drops the connection; call
 * `close()` first for a clean close handshake.
 *
 * @example
 * ```ts
 * // Node 20 has no global WebSocket: it takes the ws package's (a browser, Deno, Bun or Node 22+ needs none).
 * import { WebSocket as NodeWebSocket } from "ws";
 * import { listenHttp } from "weftjs/http";
 * import { acceptWebSocket } from "weftjs/ws";
 *
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) {
 *     using peer = yield* acceptWebSocket(req, res);
 *     yield* peer.sendText(`echo: ${yield* peer.recvText()}`);
 *     yield* peer.close(4000, "bye");
 *   }), { daemon: true });
 *   using ws = yield* connectWebSocket(`ws://127.0.0.1:${server.port}/`, { WebSocket: NodeWebSocket });
 *   yield* ws.sendText("hello");
 *   console.log(yield* ws.recvText()); // prints echo: hello
 *   try {
 *     yield* ws.recv();
 *   } catch (e) {
 *     if (e instanceof ConnectionClosed) console.log(e.code, e.reason); // prints 4000 bye
 *   }
 * });
 * ```
 */
export function* connectWebSocket(url: string | URL, options?: ConnectWebSocketOptions): Operation<PlatformWebSocket> {
  const href = requireUrl(url);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`connectWebSocket(): options must be an object, got ${describe(options)}`);
  }
  const protocols = requireProtocols(options?.protocols);
  const closeTimeout = resolveCloseTimeout("connectWebSocket()", options?.closeTimeout);
  const Platform = options?.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (typeof Platform !== "function") {
    throw new TypeError(
      options?.WebSocket !== undefined
        ? `connectWebSocket(): options.WebSocket must be a WebSocket class, got ${describe(options.WebSocket)}`
        : "connectWebSocket(): this host has no global WebSocket (Node before 22): pass options.WebSocket",
    );
  }
  const ws = protocols.length === 0 ? new Platform(href) : new Platform(href, protocols);
  ws.binaryType = "arraybuffer";
  const socket = new PlatformWebSocket(ws, href, closeTimeout);
  let opened = false;
  try {
    yield* socket.opened();
    opened = true;
    return socket;
  } finally {
    if (!opened) socket[Symbol.dispose]();
  }
}
