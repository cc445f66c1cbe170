/**
 * The ws_echo benchmark's server process: `echo_server.js KIND` listens on
 * 127.0.0.1, prints its port on stdout, echoes every WebSocket message back
 * (as binary: the load sends nothing else), and exits when its stdin ends (the process that
 * started it has gone, whatever way it went). `weft` serves with
 * `listenHttp` + `acceptWebSocket`, one task per connection receiving and
 * sending whole messages; `ws` with the `ws` package's `WebSocketServer`
 * (no compression: the weft server declines it too), the baseline.
 */
import type net from "node:net";
import { WebSocketServer } from "ws";
import { run } from "../../src/index.ts";
import { listenHttp } from "../../src/http/server/index.ts";
import { acceptWebSocket, ConnectionClosed } from "../../src/ws.ts";

/** Which server to run. */
export type EchoServerKind = "weft" | "ws";

function serveWs(): void {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  server.on("connection", (socket) => {
    socket.on("message", (data, binary) => socket.send(data, { binary }));
  });
  server.on("listening", () => console.log((server.address() as net.AddressInfo).port));
}

async function serveWeft(): Promise<void> {
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    console.log(server.port);
    yield* server.serve(function* (req, res) {
      using ws = yield* acceptWebSocket(req, res);
      try {
        // The load sends binary messages only: each is echoed whole, as binary.
        for (;;) yield* ws.sendBinary(yield* ws.recvBytes());
      } catch (error) {
        if (!(error instanceof ConnectionClosed)) throw error;
      }
    });
  });
}

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
const kind = process.argv[2] as EchoServerKind;
if (kind === "ws") serveWs();
else if (kind === "weft") await serveWeft();
else throw new RangeError(`echo_server: kind must be weft or ws, got ${JSON.stringify(kind)}`);
