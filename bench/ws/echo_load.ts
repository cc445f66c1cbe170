/**
 * ws_echo: one `ws` client process (this one) drives an echo server in its
 * own fresh process (`echo_server.ts`: weft, ws or raw) with 32-byte binary
 * messages over 1 or 64 connections, in strict ping-pong: each connection
 * sends a message, waits for its echo, checks it, and sends the next.
 * Reported: messages per second (round trips over the timed run's wall
 * time), and the server process's CPU per message (utime + stime from
 * `/proc/<pid>/stat` just before and after the timed run, over the
 * messages; "n/a" without /proc). The same client drives every server, so
 * the ratio of two rates compares the servers.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { cpuSeconds } from "../http/server_load.ts";
import { startServerProcess, type ServerProcess } from "../server_process.ts";
import type { EchoServerKind } from "./echo_server.ts";

const serverScript = fileURLToPath(new URL("./echo_server.js", import.meta.url));

/** The size of every message. */
export const MESSAGE_SIZE = 32;

/** A running echo server: its port and process id; `stop()` ends it. */
export type EchoServer = ServerProcess;

/** Starts an echo server of `kind` in its own process; it also exits when this process does (its stdin ends). */
export function startEchoServer(kind: EchoServerKind): Promise<EchoServer> {
  return startServerProcess(serverScript, [kind], `the ${kind} echo server`);
}

/** What one timed run measured. */
export interface EchoLoadResult {
  connections: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** The server's CPU per message in ns, or undefined without /proc. */
  cpuNsPerMessage: number | undefined;
}

function hasProc(): boolean {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** Opens `n` clients to `port`. */
async function openClients(port: number, n: number): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
          socket.binaryType = "nodebuffer";
          socket.once("open", () => resolve(socket));
          socket.once("error", reject);
        }),
    ),
  );
}

/** Each client does `perClient` strict round trips; resolves when all are done. Every echo is checked. */
function pingPong(clients: WebSocket[], perClient: number): Promise<number> {
  return Promise.all(
    clients.map(
      (socket, index) =>
        new Promise<number>((resolve, reject) => {
          const message = Buffer.alloc(MESSAGE_SIZE, index & 0xff);
          let left = perClient;
          const onMessage = (data: Buffer): void => {
            if (data.length !== MESSAGE_SIZE || data[0] !== message[0] || data[MESSAGE_SIZE - 1] !== message[MESSAGE_SIZE - 1]) {
              socket.off("message", onMessage);
              reject(new Error("ws_echo: an echo did not match its message"));
              return;
            }
            if (--left === 0) {
              socket.off("message", onMessage);
              resolve(perClient);
            } else socket.send(message);
          };
          socket.on("message", onMessage);
          socket.once("close", () => left > 0 && reject(new Error("ws_echo: the server closed a connection")));
          socket.send(message);
        }),
    ),
  ).then((counts) => counts.reduce((a, b) => a + b, 0));
}

/**
 * Starts a `kind` echo server, opens `connections` clients, warms up with
 * `warmup` round trips per client, then times `perClient` round trips per
 * client.
 */
export async function echoLoad(
  kind: EchoServerKind,
  options: { connections: number; perClient: number; warmup: number },
): Promise<EchoLoadResult> {
  const server = await startEchoServer(kind);
  const clients = await openClients(server.port, options.connections);
  try {
    if (options.warmup > 0) await pingPong(clients, options.warmup);
    const proc = hasProc();
    const cpuBefore = proc ? cpuSeconds(server.pid) : 0;
    const start = performance.now();
    const messages = await pingPong(clients, options.perClient);
    const seconds = (performance.now() - start) / 1000;
    const cpu = proc ? cpuSeconds(server.pid) - cpuBefore : undefined;
    return {
      connections: options.connections,
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      cpuNsPerMessage: cpu === undefined ? undefined : (cpu * 1e9) / messages,
    };
  } finally {
    for (const client of clients) client.terminate();
    server.stop();
  }
}
