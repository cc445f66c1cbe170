/**
 * `fetchResponse` of `weft/web`: the platform's `fetch` as an operation,
 * aborted when the task is cancelled, its body a weft `Reader`.
 */
import "../io/dispose_symbol.ts";
import { action } from "../core/action.ts";
import { Cancelled, WeftUsageError } from "../core/errors.ts";
import { describe, type Operation } from "../core/operation.ts";
import { decodeUtf8 } from "../io/data.ts";
import type { Reader } from "../io/reader.ts";
import { readWholeBody } from "../http/codec/read_whole.ts";
import { HttpBodyTooLarge } from "../http/errors.ts";
import { StreamBodyReader, type ByteStreamLike } from "./body.ts";

/** The default `maxSize` of `text()`, `json()` and `bytes()`: 16 MiB, as `weft/http`'s client. */
const DEFAULT_MAX_SIZE = 16 * 1024 * 1024;

/**
 * The part of a platform `Response` that {@link WebResponse} uses.
 *
 * @example
 * ```ts
 * const response: ResponseLike = new Response("hi", { status: 201 });
 * console.log(response.status); // prints 201
 * ```
 */
export interface ResponseLike {
  /** The status code. */
  readonly status: number;
  /** The reason phrase ("" over HTTP/2). */
  readonly statusText: string;
  /** The response headers. */
  readonly headers: Headers;
  /** The final URL (after redirects). */
  readonly url: string;
  /** The body, null when there is none. */
  readonly body: ReadableStream<Uint8Array> | null;
}

/** A `fetch` function: the global one, or one given in {@link FetchResponseOptions}. */
export type FetchLike = (input: string, init: RequestInit) => Promise<ResponseLike>;

/**
 * Options of {@link fetchResponse} (beside the request's own `init`).
 *
 * @example
 * ```ts
 * const options: FetchResponseOptions = { fetch: (input, init) => fetch(input, init) };
 * console.log(typeof options.fetch); // prints function
 * ```
 */
export interface FetchResponseOptions {
  /** The `fetch` to call instead of the global one (tests, a wrapped fetch). */
  fetch?: FetchLike;
}

/**
 * Options of {@link WebResponse.text}, `json()` and `bytes()`.
 *
 * @example
 * ```ts
 * const options: WebReadBodyOptions = { maxSize: 1024 * 1024 }; // a body over 1 MiB is an error
 * console.log(options.maxSize); // prints 1048576
 * ```
 */
export interface WebReadBodyOptions {
  /** The most bytes to accept (default 16 MiB); more throw `HttpBodyTooLarge` (a `ReadLimitExceeded`). */
  maxSize?: number;
}

function maxSizeOf(api: string, options: unknown): number {
  if (options === undefined) return DEFAULT_MAX_SIZE;
  if (typeof options !== "object" || options === null) throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  const { maxSize = DEFAULT_MAX_SIZE } = options as { maxSize?: unknown };
  if (typeof maxSize !== "number") throw new TypeError(`${api}: options.maxSize must be a number, got ${describe(maxSize)}`);
  if (!(maxSize >= 0) || (maxSize !== Infinity && !Number.isInteger(maxSize))) {
    throw new RangeError(`${api}: options.maxSize must be an integer >= 0 or Infinity, got ${maxSize}`);
  }
  return maxSize;
}

/**
 * A response of {@link fetchResponse}: the status, the platform's `Headers`,
 * and the body as a weft `Reader` read straight from the platform's stream.
 *
 * The response is not tied to the task that fetched it: another task may
 * read the body, also after that task ended. Cancelling a read of the body
 * loses nothing (the next read gets the chunk the platform was fetching).
 * The download stops when the body is read to its end, or closed: `close()`,
 * or leaving the block of `using res = …` (do that, or read the body, or the
 * platform keeps the connection busy). Once closed, reading the body throws
 * `WeftUsageError`.
 *
 * @example
 * ```ts
 * import { listenHttp } from "weftjs/http";
 *
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve((req, res) => res.send(200, "one\ntwo\n")), { daemon: true });
 *   using res = yield* fetchResponse(`http://127.0.0.1:${server.port}/`);
 *   console.log(res.status, res.ok); // prints 200 true
 *   console.log(yield* res.body.readLine()); // prints one
 * });
 * ```
 */
export class WebResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase ("" over HTTP/2). */
  readonly statusText: string;
  /** The response headers, the platform's `Headers`. */
  readonly headers: Headers;
  /** The final URL, after redirects. */
  readonly url: string;
  /** The body; end of stream at its end. */
  readonly body: Reader & { close(): void };
  #read = false;

  /** @internal Made by {@link fetchResponse}; `onEnd` runs once the body ended or was closed. */
  constructor(response: ResponseLike, onEnd: () => void) {
    this.status = response.status;
    this.statusText = response.statusText;
    this.headers = response.headers;
    this.url = response.url;
    this.body = new StreamBodyReader(response.body as ByteStreamLike | null, onEnd);
  }

  /** True for a status in 200–299. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /**
   * The whole body as bytes; `HttpBodyTooLarge` (a `ReadLimitExceeded`) when
   * it is larger than `options.maxSize` (16 MiB by default), at once when
   * `Content-Length` says so. Closes the body. Once per response.
   */
  *bytes(options?: WebReadBodyOptions): Operation<Uint8Array> {
    const maxSize = maxSizeOf("WebResponse.bytes()", options);
    if (this.#read) throw new WeftUsageError("WebResponse.bytes(): the body was already read");
    this.#read = true;
    const body = this.body;
    const tooLarge = (): Error => new HttpBodyTooLarge(maxSize, `WebResponse: the body is larger than options.maxSize (${maxSize} bytes)`);
    try {
      const announced = Number(this.headers.get("content-length") ?? Number.NaN);
      if (announced > maxSize) throw tooLarge();
      return yield* readWholeBody(body, maxSize, tooLarge);
    } finally {
      body.close();
    }
  }

  /** The whole body as UTF-8 text (a TypeError if it is not UTF-8); limits as {@link WebResponse.bytes}. */
  *text(options?: WebReadBodyOptions): Operation<string> {
    const maxSize = maxSizeOf("WebResponse.text()", options);
    return decodeUtf8("WebResponse.text()", yield* this.bytes({ maxSize }));
  }

  /** The body parsed as JSON (a `SyntaxError` if it is not); limits as {@link WebResponse.bytes}. */
  *json<T = unknown>(options?: WebReadBodyOptions): Operation<T> {
    const maxSize = maxSizeOf("WebResponse.json()", options);
    return JSON.parse(yield* this.text({ maxSize })) as T;
  }

  /** Closes the body: the rest of it is not downloaded. Idempotent. */
  close(): void {
    this.body.close();
  }

  /** Closes the body (for `using`). */
  [Symbol.dispose](): void {
    this.body.close();
  }
}

function requireUrl(url: unknown): string {
  const Url = (globalThis as { URL?: typeof URL }).URL;
  if (Url !== undefined && url instanceof Url) return url.href;
  if (typeof url !== "string") throw new TypeError(`fetchResponse(): url must be a string or a URL, got ${describe(url)}`);
  return url;
}

/**
 * Calls the platform's `fetch` (or `options.fetch`) and waits for the
 * response head. Cancelling the task aborts the request; so does
 * `init.signal` (either one aborts it). The body is not read yet: see
 * {@link WebResponse} for its lifetime. Network failures and aborts by
 * `init.signal` raise what the platform's `fetch` raises (a `TypeError`, a
 * `DOMException` named "AbortError").
 *
 * @example
 * ```ts
 * import { listenHttp } from "weftjs/http";
 *
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve((req, res) => res.send(200, '{"n":1}', { "content-type": "application/json" })), { daemon: true });
 *   using res = yield* fetchResponse(`http://127.0.0.1:${server.port}/`);
 *   console.log((yield* res.json<{ n: number }>()).n); // prints 1
 * });
 * ```
 */
export function* fetchResponse(url: string | URL, init?: RequestInit, options?: FetchResponseOptions): Operation<WebResponse> {
  const href = requireUrl(url);
  if (init !== undefined && (typeof init !== "object" || init === null)) {
    throw new TypeError(`fetchResponse(): init must be an object, got ${describe(init)}`);
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`fetchResponse(): options must be an object, got ${describe(options)}`);
  }
  const doFetch = options?.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof doFetch !== "function") {
    throw new TypeError(
      options?.fetch !== undefined
        ? `fetchResponse(): options.fetch must be a function, got ${describe(options.fetch)}`
        : "fetchResponse(): this host has no global fetch: pass options.fetch",
    );
  }
  const outer = init?.signal ?? null;
  if (outer !== null && (typeof outer !== "object" || typeof outer.addEventListener !== "function")) {
    throw new TypeError(`fetchResponse(): init.signal must be an AbortSignal, got ${describe(outer)}`);
  }
  const controller = new AbortController();
  const follow = (): void => controller.abort(outer?.reason);
  let following = false;
  const unfollow = (): void => {
    if (!following) return;
    following = false;
    outer?.removeEventListener("abort", follow);
  };
  if (outer !== null) {
    if (outer.aborted) controller.abort(outer.reason);
    else {
      outer.addEventListener("abort", follow);
      following = true;
    }
  }
  let response: ResponseLike;
  try {
    response = yield* action<ResponseLike>((resolve, reject) => {
      let settled = false;
      const promise = doFetch(href, { ...init, signal: controller.signal });
      Promise.resolve(promise).then(
        (value) => {
          settled = true;
          resolve(value);
        },
        (error: unknown) => {
          settled = true;
          reject(error);
        },
      );
      return () => {
        if (!settled) controller.abort(new Cancelled("the task waiting for this fetch was cancelled"));
      };
    });
  } catch (error) {
    unfollow();
    throw error;
  }
  // init.signal keeps aborting the download until the body ends or is closed.
  return new WebResponse(response, unfollow);
}
