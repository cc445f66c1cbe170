/**
 * The tcp_echo server process: `echo_server.js weft|raw|await` listens on
 * 127.0.0.1, prints its port on stdout, echoes every connection until the
 * client ends it, and exits when its stdin ends (the cell that started it has
 * gone, whatever way it went).
 */
import { once } from "node:events";
import net from "node:net";
import { run } from "../../src/index.ts";
import { listenTcp } from "../../src/node.ts";

/** How the server is written: weft, raw `net` callbacks, or `net` with async/await. */
export type EchoServerKind = "weft" | "raw" | "await";

function serveRaw(): void {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("data", (data) => {
      if (!socket.write(data)) {
        socket.pause();
        socket.once("drain", () => socket.resume());
      }
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => console.log((server.address() as net.AddressInfo).port));
}

function serveAwait(): void {
  const server = net.createServer({ noDelay: true }, async (socket) => {
    try {
      for await (const data of socket) {
        if (!socket.write(data as Buffer)) await once(socket, "drain");
      }
      socket.end();
    } catch {
      socket.destroy();
    }
  });
  server.listen(0, "127.0.0.1", () => console.log((server.address() as net.AddressInfo).port));
}

async function serveWeft(): Promise<void> {
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0, noDelay: true });
    console.log(server.port);
    yield* server.serve(function* (conn) {
      for (let data; (data = yield* conn.readSome()) !== undefined; ) yield* conn.write(data);
    });
  });
}

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
const kind = process.argv[2] as EchoServerKind;
if (kind === "raw") serveRaw();
else if (kind === "await") serveAwait();
else if (kind === "weft") await serveWeft();
else throw new RangeError(`echo_server: kind must be weft, raw or await, got ${JSON.stringify(kind)}`);
