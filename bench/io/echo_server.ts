/**
 * The tcp_echo and tls_echo server process: `echo_server.js KIND` listens on
 * 127.0.0.1, prints its port on stdout, echoes every connection until the
 * client ends it, and exits when its stdin ends (the cell that started it has
 * gone, whatever way it went). The TLS kinds make a self-signed certificate
 * with the `openssl` command when they start.
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { run } from "../../src/index.ts";
import { listenTcp, listenTls } from "../../src/node.ts";

/** How the server is written: weft, raw `net` callbacks, or `net` with async/await; the `-tls` kinds over TLS. */
export type EchoServerKind = "weft" | "raw" | "await" | "weft-tls" | "raw-tls";

/** A throwaway self-signed key and certificate for 127.0.0.1. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "weft-echo-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
      ],
      { cwd: dir, stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "k.pem"), "utf8"), cert: readFileSync(join(dir, "c.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function serveRawTls(): void {
  const server = tls.createServer({ ...selfSigned(), noDelay: true }, (socket) => {
    socket.on("data", (data) => {
      if (!socket.write(data)) {
        socket.pause();
        socket.once("drain", () => socket.resume());
      }
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  server.listen(0, "127.0.0.1", () => console.log((server.address() as net.AddressInfo).port));
}

async function serveWeftTls(): Promise<void> {
  const { key, cert } = selfSigned();
  await run(function* () {
    using server = yield* listenTls({ host: "127.0.0.1", port: 0, noDelay: true, key, cert });
    console.log(server.port);
    yield* server.serve(function* (conn) {
      for (let data; (data = yield* conn.readSome()) !== undefined; ) yield* conn.write(data);
    });
  });
}

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
else if (kind === "raw-tls") serveRawTls();
else if (kind === "weft-tls") await serveWeftTls();
else throw new RangeError(`echo_server: kind must be weft, raw, await, weft-tls or raw-tls, got ${JSON.stringify(kind)}`);
