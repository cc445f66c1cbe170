/**
 * Helpers of the weft/ws tests over sockets: a weft HTTP server serving a
 * handler while a test body runs, raw TCP exchanges for handshakes a real
 * client would not send, and raw servers for answers a real server would
 * not give.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { call, withTaskGroup, type Operation } from "../../src/index.ts";
import { listenHttp, type HttpServer } from "../../src/http/server/server.ts";
import type { HttpHandler } from "../../src/http/server/connection.ts";
import { HandshakeRejected } from "../../src/ws.ts";

/**
 * Serves `handler` on a fresh 127.0.0.1 server while `body` runs; then stops
 * serving. A handler error other than HandshakeRejected (which a refused
 * handshake throws on purpose) fails the test after `body`.
 */
export function* serving<T>(handler: HttpHandler, body: (server: HttpServer) => Operation<T>): Operation<T> {
  using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
  const errors: unknown[] = [];
  const onError = (error: unknown) => {
    if (!(error instanceof HandshakeRejected)) errors.push(error);
  };
  const result = yield* withTaskGroup<T>(function* (group) {
    const task = group.spawn(() => server.serve(handler, { onError }));
    try {
      return yield* body(server);
    } finally {
      task.cancel();
    }
  });
  if (errors.length > 0) throw errors[0];
  return result;
}

/** Sends `request` over a new TCP connection and returns everything received until the server closes it or `until` matches. */
export function rawExchange(port: number, request: string, until: RegExp = /\r\n\r\n[^]*$/): Operation<string> {
  return call(
    () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        let received = "";
        const done = () => {
          socket.destroy();
          resolve(received);
        };
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
          received += chunk;
          // A full head (and the body its Content-Length announces) is enough.
          const end = received.indexOf("\r\n\r\n");
          if (end < 0 || !until.test(received)) return;
          const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, end));
          if (length === null || received.length - end - 4 >= Number(length[1])) done();
        });
        socket.on("end", done);
        socket.on("error", reject);
        socket.write(request);
      }),
  );
}

/** A raw TCP server answering each connection's first request head with `answer(requestHead)`; the connection stays open. */
export function rawServer(answer: (head: string) => string | Uint8Array): Operation<{ port: number; close(): void }> {
  return call(
    () =>
      new Promise((resolve) => {
        const sockets = new Set<Socket>();
        const server: Server = createServer((socket) => {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => {});
          let head = "";
          socket.setEncoding("latin1");
          const onData = (chunk: string) => {
            head += chunk;
            if (!head.includes("\r\n\r\n")) return;
            socket.off("data", onData);
            socket.write(answer(head));
          };
          socket.on("data", onData);
        });
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as { port: number };
          resolve({
            port,
            close() {
              for (const socket of sockets) socket.destroy();
              server.close();
            },
          });
        });
      }),
  );
}

/** The value of `name` in a raw response head, or undefined. */
export function headerOf(response: string, name: string): string | undefined {
  const head = response.slice(0, response.indexOf("\r\n\r\n"));
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (line.slice(0, colon).toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** The Sec-WebSocket-Key of a raw request head. */
export function keyOf(head: string): string {
  const match = /\r\nsec-websocket-key: *([^\r]+)/i.exec(head);
  if (match === null) throw new Error("no Sec-WebSocket-Key in the request");
  return match[1]!.trim();
}

/** A queue of what a `ws` peer receives, awaited one at a time. */
export class PeerInbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.#items.push(item);
  }

  next(): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

export { HAS_TINYPROXY, startTinyproxy } from "./tinyproxy.ts";
