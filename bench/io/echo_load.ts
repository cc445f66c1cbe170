/**
 * tcp_echo's load client: starts an echo server in its own process (once per
 * cell process, on the first run), then for each run opens 50 connections
 * on raw `net` and makes `n` round trips across them, each a 64-byte message
 * that must come back intact before the connection sends the next. One op is
 * one round trip; the time includes opening and closing the connections.
 * For the `-tls` server kinds (tls_echo) the connections are `node:tls`
 * ones (the server's certificate is self-signed and not checked), and the
 * time includes their handshakes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import type { EchoServerKind } from "./echo_server.ts";

export const CONNECTIONS = 50;
export const MESSAGE_BYTES = 64;

const serverScript = fileURLToPath(new URL("./echo_server.js", import.meta.url));

/** Starts the server; it exits when this process does (its stdin ends). */
async function startServer(kind: EchoServerKind): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, [serverScript, kind], { stdio: ["pipe", "pipe", "inherit"] });
  process.once("exit", () => child.kill());
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the ${kind} echo server exited with ${code} before listening`)));
    child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
  });
  // Neither the child nor its pipes keep this process alive: the cell ends when its work does.
  child.stdout!.destroy();
  (child.stdin as net.Socket).unref();
  child.unref();
  return port;
}

/** One connection's round trips; resolves with their count once every echo came back intact. */
function connection(port: number, rounds: number, id: number, overTls: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    if (rounds === 0) return resolve(0);
    const socket = overTls
      ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }).setNoDelay(true)
      : net.connect({ port, host: "127.0.0.1", noDelay: true });
    const message = Buffer.alloc(MESSAGE_BYTES, id & 0xff);
    const reply = Buffer.alloc(MESSAGE_BYTES);
    let round = 0;
    let received = 0;
    const send = (): void => {
      message.writeUInt32LE(id, 0);
      message.writeUInt32LE(round, 4);
      socket.write(message);
    };
    socket.on(overTls ? "secureConnect" : "connect", send);
    socket.on("data", (data: Buffer) => {
      let offset = 0;
      while (offset < data.length) {
        const take = Math.min(MESSAGE_BYTES - received, data.length - offset);
        data.copy(reply, received, offset, offset + take);
        received += take;
        offset += take;
        if (received < MESSAGE_BYTES) continue;
        if (!reply.equals(message)) {
          socket.destroy();
          reject(new Error(`echo: connection ${id}, round ${round} came back wrong`));
          return;
        }
        received = 0;
        if (++round === rounds) {
          if (offset < data.length) reject(new Error(`echo: connection ${id} got bytes it never sent`));
          socket.end();
          resolve(round);
          return;
        }
        send();
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`echo: connection ${id} closed after ${round} of ${rounds} round trips`)));
  });
}

/** The workload against a server of `kind`: `n` round trips spread over the connections. */
export function echoLoad(kind: EchoServerKind): (n: number) => Promise<number> {
  let port: Promise<number> | undefined;
  return async (n) => {
    const p = await (port ??= startServer(kind));
    const base = Math.floor(n / CONNECTIONS);
    const counts = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, id) => connection(p, base + (id < n % CONNECTIONS ? 1 : 0), id, kind.endsWith("-tls"))),
    );
    return counts.reduce((a, b) => a + b, 0);
  };
}
