/**
 * The http_server and http_client benchmarks' server process:
 * `hello_server.js KIND` listens on 127.0.0.1, prints its port on stdout,
 * answers every request with a 13-byte "Hello, world!" (Content-Length set,
 * keep-alive), and exits when its stdin ends (the process that started it
 * has gone, whatever way it went). `weft` serves with `listenHttp` and
 * `serve`; `node` with `node:http`, the reference.
 */
import http from "node:http";
import type net from "node:net";
import { run } from "../../src/index.ts";
import { listenHttp } from "../../src/http/server/index.ts";
import { HELLO, type HelloServerKind } from "./hello.ts";

function serveNode(): void {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": HELLO.length });
    res.end(HELLO);
  });
  // Node's default keep-alive timeout (5 s) would close idle load connections between runs.
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as net.AddressInfo).port));
}

async function serveWeft(): Promise<void> {
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0, timeouts: { keepAlive: 60_000 } });
    console.log(server.port);
    yield* server.serve(function* (_req, res) {
      res.headers.set("content-type", "text/plain");
      yield* res.end(HELLO);
    });
  });
}

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
const kind = process.argv[2] as HelloServerKind;
if (kind === "node") serveNode();
else if (kind === "weft") await serveWeft();
else throw new RangeError(`hello_server: kind must be weft or node, got ${JSON.stringify(kind)}`);
