/**
 * The weft server the weft/web tests talk to (test/web/real_server_test.ts):
 * a `weft/http` server with `weft/ws` upgrades, started by a host runner in
 * its own (Node) process on 127.0.0.1. The runner tells the tests its URL:
 * in the environment variable `WEFT_WEB_SERVER` for Node, Bun and Deno, and
 * as `globalThis.__weftWebServer`, set by the page before the test loads, in
 * Chromium. Every answer allows any origin (the pages come from another
 * port); no route needs a preflight, and OPTIONS is answered anyway.
 *
 * Routes:
 * - `GET /text`: "hello from weft"; `GET /json`: `{"n":42}`;
 *   `GET /bytes?n=N`: N bytes, byte i being i & 0xff.
 * - `POST /echo`: the request body back.
 * - `GET /slow`: "first\n", then nothing until the client goes away.
 * - `GET /hang`: never answers.
 * - `/ws/echo`: a WebSocket that echoes every message with its kind; the
 *   text message `close:<code>:<reason>` makes the server close with them.
 *   It offers the subprotocol `chat.v2`.
 * - anything else: 404 (so a WebSocket to it fails to connect).
 */
import { run, sleep, type Operation } from "../src/index.ts";
import { listenHttp, type HttpRequest, type HttpResponse } from "../src/http.ts";
import { acceptWebSocket, ConnectionClosed, isWebSocketRequest } from "../src/ws.ts";

/** The environment variable that carries the server's URL to test processes. */
export const WEB_SERVER_ENV = "WEFT_WEB_SERVER";

const CORS = { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "access-control-allow-methods": "GET, POST" };

function* echoSocket(req: HttpRequest, res: HttpResponse): Operation<void> {
  using ws = yield* acceptWebSocket(req, res, { protocols: ["chat.v2"] });
  try {
    for (;;) {
      const message = yield* ws.recv();
      const data = (yield* message.reader.readAll()).bytes();
      if (message.kind === "text") {
        const text = new TextDecoder().decode(data);
        const close = /^close:(\d+):(.*)$/s.exec(text);
        if (close !== null) return yield* ws.close(Number(close[1]), close[2]);
        yield* ws.sendText(text);
      } else {
        yield* ws.sendBinary(data);
      }
    }
  } catch (error) {
    if (!(error instanceof ConnectionClosed)) throw error; // the client closed: its CLOSE was echoed
  }
}

function* handle(req: HttpRequest, res: HttpResponse): Operation<void> {
  const path = req.url.pathname;
  if (path === "/ws/echo" && isWebSocketRequest(req)) return yield* echoSocket(req, res);
  if (req.method === "OPTIONS") return yield* res.send(204, undefined, CORS);
  if (req.method === "GET" && path === "/text") return yield* res.send(200, "hello from weft", { ...CORS, "content-type": "text/plain" });
  if (req.method === "GET" && path === "/json") return yield* res.send(200, '{"n":42}', { ...CORS, "content-type": "application/json" });
  if (req.method === "GET" && path === "/bytes") {
    const n = Number(req.url.searchParams.get("n") ?? "0");
    const body = new Uint8Array(Number.isInteger(n) && n >= 0 && n <= 64 * 1024 * 1024 ? n : 0);
    for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
    return yield* res.send(200, body, { ...CORS, "content-type": "application/octet-stream" });
  }
  if (req.method === "POST" && path === "/echo") {
    const body = yield* req.bytes();
    return yield* res.send(200, body, { ...CORS, "content-type": "application/octet-stream" });
  }
  if (req.method === "GET" && path === "/slow") {
    for (const [name, value] of Object.entries(CORS)) res.headers.set(name, value);
    yield* res.write("first\n");
    yield* sleep(600_000); // until the client goes away (the connection's task is cancelled) or the server stops
    return yield* res.end();
  }
  if (req.method === "GET" && path === "/hang") return yield* sleep(600_000);
  return yield* res.send(404, "not found", CORS);
}

/** A running test server: its base URL (`http://127.0.0.1:port`) and how to stop it. */
export interface WebTestServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1 on a free port. */
export async function startWebTestServer(): Promise<WebTestServer> {
  const controller = new AbortController();
  let announce: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const running = run(
    function* () {
      using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
      announce(`http://127.0.0.1:${server.port}`);
      yield* server.serve(handle, { onError: () => {} });
    },
    { signal: controller.signal },
  ).catch(() => {});
  const url = await Promise.race([ready, running.then(() => Promise.reject(new Error("the weft web test server did not start")))]);
  return {
    url,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}
