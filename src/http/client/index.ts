/**
 * The weft/http client: `HttpClient`, its response, its errors, and one-shot
 * `request`/`get`/`post`/`put` functions that share one default client.
 *
 * The default client is made on first use and lives as long as the program;
 * its idle connections close when the servers close them or, at the latest,
 * when they are found too old. Code that wants them closed sooner (tests, a
 * CLI before it exits) makes its own client with `using`.
 */
import type { Operation } from "../../core/operation.ts";
import { type HttpBody, HttpClient, type HttpMethodOptions, type HttpRequestOptions } from "./client.ts";
import type { HttpClientResponse } from "./response.ts";

export { HttpClient, type HttpBody, type HttpClientOptions, type HttpMethodOptions, type HttpRequestOptions } from "./client.ts";
export { HttpClientResponse, type ReadBodyOptions } from "./response.ts";
export { HttpRedirectError, ProxyError, type HttpResponseHead } from "./errors.ts";

let defaultClient: HttpClient | undefined;

function client(): HttpClient {
  defaultClient ??= new HttpClient();
  return defaultClient;
}

/**
 * Sends a request with the default client (see {@link HttpClient.request}).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((req, res) => res.end(req.method));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * const { port } = server.address() as { port: number };
 * using res = yield* request({ method: "DELETE", url: `http://127.0.0.1:${port}/item/1`, headers: { connection: "close" } });
 * console.log(yield* res.text()); // prints DELETE
 * server.close();
 * ```
 */
export function request(options: HttpRequestOptions): Operation<HttpClientResponse> {
  return client().request(options);
}

/**
 * A GET request with the default client.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((_req, res) => res.end("hi"));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * const { port } = server.address() as { port: number };
 * using res = yield* get(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
 * console.log(yield* res.text()); // prints hi
 * server.close();
 * ```
 */
export function get(url: string | URL, options?: HttpMethodOptions): Operation<HttpClientResponse> {
  return client().get(url, options);
}

/**
 * A POST request with the default client.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((req, res) => req.pipe(res));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * const { port } = server.address() as { port: number };
 * using res = yield* post(`http://127.0.0.1:${port}/`, "body", { headers: { connection: "close" } });
 * console.log(yield* res.text()); // prints body
 * server.close();
 * ```
 */
export function post(url: string | URL, body: HttpBody, options?: HttpMethodOptions): Operation<HttpClientResponse> {
  return client().post(url, body, options);
}

/**
 * A PUT request with the default client.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((req, res) => res.end(req.method));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * const { port } = server.address() as { port: number };
 * using res = yield* put(`http://127.0.0.1:${port}/`, "x", { headers: { connection: "close" } });
 * console.log(yield* res.text()); // prints PUT
 * server.close();
 * ```
 */
export function put(url: string | URL, body: HttpBody, options?: HttpMethodOptions): Operation<HttpClientResponse> {
  return client().put(url, body, options);
}
