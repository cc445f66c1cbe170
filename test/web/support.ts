/**
 * Fakes for the weft/web tests: a WebSocket class whose events the test
 * fires by hand, and a fetch whose response body the test feeds chunk by
 * chunk. Neither needs the host to have a WebSocket, fetch, Headers or
 * ReadableStream, so the tests run on every host (QuickJS included).
 */
import type { FetchLike, ResponseLike, WebSocketConstructorLike, WebSocketEventLike, WebSocketLike } from "../../src/web.ts";

/** The time limit of every test here. */
export const LIMIT = { timeout: 30_000 };

type Listener = (event: WebSocketEventLike) => void;

/** A WebSocket driven by the test: `open()`, `message()`, `peerClose()`, `fail()`. */
export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  protocol = "";
  binaryType = "blob";
  readonly sent: Array<string | Uint8Array> = [];
  readonly closeCalls: Array<{ code: number | undefined; reason: string | undefined }> = [];
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {}

  addEventListener(type: string, listener: Listener): void {
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  /** How many listeners are registered, over all event types. */
  get listenerCount(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }

  send(data: string | ArrayBufferView | ArrayBuffer): void {
    if (this.readyState !== 1) throw new Error(`InvalidStateError: send() in readyState ${this.readyState}`);
    if (typeof data === "string") this.sent.push(data);
    else if (data instanceof ArrayBuffer) this.sent.push(new Uint8Array(data.slice(0)));
    else this.sent.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    if (this.readyState < 2) this.readyState = 2;
  }

  #dispatch(event: WebSocketEventLike): void {
    for (const listener of [...(this.#listeners.get(event.type) ?? [])]) listener(event);
  }

  open(protocol = ""): void {
    this.readyState = 1;
    this.protocol = protocol;
    this.#dispatch({ type: "open" });
  }

  message(data: unknown): void {
    this.#dispatch({ type: "message", data });
  }

  /** The close handshake ended (either side started it): the close event. */
  peerClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.#dispatch({ type: "close", code, reason });
  }

  /** The connection failed: an error event, then a close event with 1006. */
  fail(): void {
    this.#dispatch({ type: "error" });
    this.readyState = 3;
    this.#dispatch({ type: "close", code: 1006, reason: "" });
  }
}

/** A fake WebSocket class and the sockets made with it, in order. */
export function fakeWebSocketClass(): { WebSocket: WebSocketConstructorLike; sockets: FakeWebSocket[] } {
  const sockets: FakeWebSocket[] = [];
  class Recorded extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocket: Recorded, sockets };
}

/** The last socket made, or a failure. */
export function last(sockets: FakeWebSocket[]): FakeWebSocket {
  const socket = sockets[sockets.length - 1];
  if (socket === undefined) throw new Error("no socket was made");
  return socket;
}

type ReadResult = { done: true; value?: undefined } | { done: false; value: unknown };

/** A response body fed by the test: `push()`, `end()`, `error()`; records `cancel()`. */
export class FakeBody {
  readonly #chunks: ReadResult[] = [];
  #failure: { error: unknown } | null = null;
  #waiting: { resolve: (r: ReadResult) => void; reject: (e: unknown) => void } | null = null;
  cancelled = false;
  reads = 0;

  getReader(): { read(): Promise<ReadResult>; cancel(reason?: unknown): Promise<void>; releaseLock(): void } {
    return {
      read: () => {
        this.reads++;
        const next = this.#chunks.shift();
        if (next !== undefined) return Promise.resolve(next);
        if (this.#failure !== null) return Promise.reject(this.#failure.error);
        if (this.cancelled) return Promise.resolve({ done: true });
        return new Promise<ReadResult>((resolve, reject) => {
          this.#waiting = { resolve, reject };
        });
      },
      cancel: () => {
        this.cancelled = true;
        this.#settle({ done: true });
        return Promise.resolve();
      },
      releaseLock: () => {},
    };
  }

  #settle(result: ReadResult): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) waiting.resolve(result);
    else this.#chunks.push(result);
  }

  push(chunk: Uint8Array | string): void {
    this.#settle({ done: false, value: typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk });
  }

  /** Queues a chunk that is not bytes. */
  pushRaw(value: unknown): void {
    this.#settle({ done: false, value });
  }

  end(): void {
    this.#settle({ done: true });
  }

  error(error: unknown): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) waiting.reject(error);
    else this.#failure = { error };
  }
}

/** A stand-in for the platform's `Headers` (QuickJS has none): `get` only. */
export function fakeHeaders(fields: Record<string, string>): Headers {
  const lower = new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower.get(name.toLowerCase()) ?? null } as unknown as Headers;
}

/** One call of the fake fetch. */
export interface FetchCall {
  input: string;
  init: RequestInit;
  /** Answers the call with a response (its body fed through `body`). */
  respond(init?: { status?: number; statusText?: string; headers?: Record<string, string>; noBody?: boolean }): FakeBody;
  /** Fails the call. */
  reject(error: unknown): void;
}

/** A fetch that records its calls; the test answers each one. */
export function fakeFetch(): { fetch: FetchLike; calls: FetchCall[] } {
  const calls: FetchCall[] = [];
  const fetch: FetchLike = (input, init) =>
    new Promise<ResponseLike>((resolve, reject) => {
      calls.push({
        input,
        init,
        respond: (options = {}) => {
          const body = new FakeBody();
          resolve({
            status: options.status ?? 200,
            statusText: options.statusText ?? "OK",
            headers: fakeHeaders(options.headers ?? {}),
            url: input,
            body: options.noBody === true ? null : (body as unknown as ReadableStream<Uint8Array>),
          });
          return body;
        },
        reject,
      });
    });
  return { fetch, calls };
}

/** The last fetch call, or a failure. */
export function lastCall(calls: FetchCall[]): FetchCall {
  const call = calls[calls.length - 1];
  if (call === undefined) throw new Error("fetch was not called");
  return call;
}
