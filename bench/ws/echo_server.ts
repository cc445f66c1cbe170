/**
 * The ws_echo benchmark's server process: `echo_server.js KIND` listens on
 * 127.0.0.1, prints its port on stdout, echoes every WebSocket message back
 * (as binary: the load sends nothing else), and exits when its stdin ends (the process that
 * started it has gone, whatever way it went). `weft` serves with
 * `listenHttp` + `acceptWebSocket`, one task per connection receiving and
 * sending whole messages; `ws` with the `ws` package's `WebSocketServer`
 * (no compression: the weft server declines it too), the baseline; `raw`
 * written by hand on `node:net` callbacks with no library, the floor of what
 * a server on Node's sockets costs (see `serveRaw`).
 */
import { createHash } from "node:crypto";
import net from "node:net";
import { WebSocketServer } from "ws";
import { run } from "../../src/index.ts";
import { listenHttp } from "../../src/http/server/index.ts";
import { acceptWebSocket, ConnectionClosed } from "../../src/ws.ts";

/** Which server to run. */
export type EchoServerKind = "weft" | "ws" | "raw";

function serveWs(): void {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  server.on("connection", (socket) => {
    socket.on("message", (data, binary) => socket.send(data, { binary }));
  });
  server.on("listening", () => console.log((server.address() as net.AddressInfo).port));
}

/** The `Sec-WebSocket-Accept` answer to a client's key (RFC 6455 §4.2.2). */
function acceptKey(key: string): string {
  return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
}

/**
 * The floor: a WebSocket echo on bare `node:net` callbacks. It answers the
 * upgrade, then unmasks each whole frame and writes it back with one `write`
 * inside the 'data' callback that brought it, as a server with no scheduler,
 * no streams of its own and no message objects would. It handles only what
 * the load sends (unfragmented data frames of at most 64 KiB, and CLOSE,
 * which it echoes and ends on) and drops the connection on anything else:
 * it measures the cost of Node's sockets, not a WebSocket implementation.
 */
function serveRaw(): void {
  const server = net.createServer({ noDelay: true }, (socket) => {
    let upgraded = false;
    let held: Buffer | null = null;
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      let bytes = held === null ? chunk : Buffer.concat([held, chunk]);
      held = null;
      if (!upgraded) {
        const end = bytes.indexOf("\r\n\r\n");
        if (end < 0) {
          if (bytes.length > 16_384) socket.destroy();
          else held = bytes;
          return;
        }
        const key = /^sec-websocket-key:[ \t]*(\S+)/im.exec(bytes.toString("latin1", 0, end))?.[1];
        if (key === undefined) {
          socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
          return;
        }
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
        );
        upgraded = true;
        bytes = bytes.subarray(end + 4);
      }
      let at = 0;
      while (bytes.length - at >= 2) {
        const b0 = bytes[at]!;
        const b1 = bytes[at + 1]!;
        const opcode = b0 & 0x0f;
        // FIN, no RSV bit, masked (a client's frame), a data frame or CLOSE, a length that fits 16 bits.
        if ((b0 & 0xf0) !== 0x80 || (b1 & 0x80) === 0 || (opcode !== 1 && opcode !== 2 && opcode !== 8) || (b1 & 0x7f) === 127) {
          socket.destroy();
          return;
        }
        let length = b1 & 0x7f;
        let head = 2;
        if (length === 126) {
          if (bytes.length - at < 4) break;
          length = bytes.readUInt16BE(at + 2);
          head = 4;
        }
        if (bytes.length - at < head + 4 + length) break;
        const out = Buffer.allocUnsafe(head + length);
        out[0] = b0;
        out[1] = head === 2 ? length : 126;
        if (head === 4) out.writeUInt16BE(length, 2);
        const key = at + head;
        const payload = key + 4;
        for (let i = 0; i < length; i++) out[head + i] = bytes[payload + i]! ^ bytes[key + (i & 3)]!;
        at = payload + length;
        if (opcode === 8) {
          socket.end(out);
          return;
        }
        socket.write(out);
      }
      if (at < bytes.length) held = bytes.subarray(at);
    });
  });
  server.listen(0, "127.0.0.1", () => console.log((server.address() as net.AddressInfo).port));
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
else if (kind === "raw") serveRaw();
else if (kind === "weft") await serveWeft();
else throw new RangeError(`echo_server: kind must be weft, ws or raw, got ${JSON.stringify(kind)}`);
