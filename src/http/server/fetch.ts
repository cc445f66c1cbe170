/**
 * `serveFetch`'s adapter: a Web-standard `(request: Request) => Response`
 * handler run as an {@link HttpHandler}.
 *
 * The request body becomes a `ReadableStream` fed by a daemon task that
 * reads `req.body` only as fast as the stream is read (a one-chunk queue), so
 * a fetch handler has the same back-pressure as a weft one. The `Request`'s
 * `signal` aborts when the handler's task is cancelled, which is what
 * happens when the client goes away (or the server is shut down past its
 * grace period). The response body is read from its stream and written as
 * it comes (chunked, unless the `Response` set a `Content-Length`).
 */
import { Cancelled } from "../../core/errors.ts";
import { isOperation, type Operation } from "../../core/operation.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { until } from "../../interop/call.ts";
import { fromReadableStream, toReadableStream } from "../../interop/streams.ts";
import { Queue, QueueClosed } from "../../sync/queue.ts";
import type { HttpHandler } from "./connection.ts";
import type { HttpRequest } from "./request.ts";
import type { HttpResponse } from "./response.ts";

/**
 * A Web-standard request handler for {@link HttpServer.serveFetch}: returns
 * a `Response`, a promise of one, or a weft operation giving one.
 *
 * @example
 * ```ts
 * const app: FetchHandler = (request) => Response.json({ path: new URL(request.url).pathname });
 * ```
 */
export type FetchHandler = (request: Request) => Response | Promise<Response> | Operation<Response>;

/** Copies the request body into `queue`, one chunk at a time, then closes it. */
function* feed(req: HttpRequest, queue: Queue<Uint8Array>): Operation<void> {
  try {
    const body = req.body;
    for (let chunk = yield* body.readSome(); chunk !== undefined; chunk = yield* body.readSome()) {
      yield* queue.put(chunk.slice());
    }
    queue.close();
  } catch (error) {
    queue.close(error instanceof Cancelled ? new Error("the request was cancelled") : error);
    if (error instanceof Cancelled) throw error;
  }
}

function* respond(res: HttpResponse, response: Response): Operation<void> {
  res.status = response.status;
  for (const [name, value] of response.headers) if (name !== "set-cookie") res.headers.append(name, value);
  for (const cookie of response.headers.getSetCookie()) res.headers.append("set-cookie", cookie);
  const stream = response.body;
  if (stream === null) return yield* res.end();
  yield* fromReadableStream(stream, function* (chunks) {
    try {
      for (;;) yield* res.write(yield* chunks.get());
    } catch (error) {
      if (!(error instanceof QueueClosed)) throw error;
    }
  });
  yield* res.end();
}

/** The {@link HttpHandler} that runs `handler` on a Web `Request`. */
export function fetchHandler(handler: FetchHandler): HttpHandler {
  return function* (req, res) {
    const controller = new AbortController();
    let done = false;
    try {
      yield* withTaskGroup<void>(function* (group) {
        let body: ReadableStream<Uint8Array> | null = null;
        if (req.framing.kind !== "none" && req.method !== "GET" && req.method !== "HEAD") {
          const queue = new Queue<Uint8Array>({ kind: "blocking", capacity: 1 });
          group.startSoon(() => feed(req, queue), { daemon: true });
          body = toReadableStream(queue);
        }
        const headers = new Headers();
        for (const [name, value] of req.headers) headers.append(name, value);
        const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, body, signal: controller.signal };
        if (body !== null) init.duplex = "half";
        const request = new Request(req.url, init);
        const out: unknown = handler(request);
        let response: unknown;
        if (isOperation(out)) response = yield* out;
        else if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
          response = yield* until(out as PromiseLike<unknown>);
        } else response = out;
        if (!(response instanceof Response)) {
          throw new TypeError(
            `HttpServer.serveFetch(): the handler must return a Response, got ${response === null ? "null" : typeof response}`,
          );
        }
        yield* respond(res, response);
      });
      done = true;
    } finally {
      // Only a request cut short aborts: a finished one's signal stays quiet, as in fetch servers.
      if (!done) controller.abort(new Error("the client went away or the request was cancelled"));
    }
  };
}
