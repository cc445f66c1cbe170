/**
 * websocket-echo-server: echoes every WebSocket message back, streaming.
 *
 *   npm run build && node dist/examples/websocket-echo-server.js [port]
 *
 * Any path upgrades to a WebSocket except `/`, which answers plain HTTP on
 * the same port. A message is echoed as it arrives: its payload is a weft
 * `Reader`, copied into a message writer of the same kind, so a 100 MiB
 * message goes through in pieces and never sits whole in memory (the limit
 * is raised to 1 GiB to show it). Each connection is a task of the server;
 * a client that goes away ends its task, and Ctrl-C ends them all.
 *
 * It prints `echo server on ws://127.0.0.1:<port>/` once it listens.
 */
import { type Operation } from "../src/index.ts";
import { listenHttp, type HttpRequest, type HttpResponse } from "../src/http.ts";
import { main } from "../src/node.ts";
import { acceptWebSocket, ConnectionClosed } from "../src/ws.ts";

function* echo(req: HttpRequest, res: HttpResponse): Operation<void> {
  if (req.url.pathname === "/") return yield* res.send(200, "a WebSocket echo server: connect to any other path\n");
  using ws = yield* acceptWebSocket(req, res, { maxMessageSize: 1024 * 1024 * 1024 });
  try {
    for (;;) {
      const message = yield* ws.recv();
      const writer = yield* ws.startMessage(message.kind);
      yield* writer.writeReader(message.reader);
      yield* writer.end();
    }
  } catch (error) {
    // The client closed (its CLOSE was echoed already): a normal end.
    if (!(error instanceof ConnectionClosed)) throw error;
  }
}

main(function* () {
  using server = yield* listenHttp({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
  console.log(`echo server on ws://127.0.0.1:${server.port}/`);
  yield* server.serve(echo);
});
