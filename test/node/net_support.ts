/**
 * Helpers for the networking tests: waiting for socket handles to go away,
 * and a listener that never accepts (to make a connection attempt hang on
 * loopback).
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";

const SOCKET_RESOURCE = /TCP|Connect|UDP|GetAddrInfo|Shutdown|WriteWrap/;

/** The socket-like handles and requests this process holds, by kind. */
export function socketResources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((name) => SOCKET_RESOURCE.test(name))
    .sort();
}

/**
 * The socket handles once nothing has changed for a few turns of the event
 * loop: handles closed just before are really gone.
 */
export async function quietResources(): Promise<string[]> {
  let last = socketResources();
  for (let stable = 0, rounds = 0; stable < 3 && rounds < 200; rounds++) {
    await delay(10);
    const now = socketResources();
    stable = now.join() === last.join() ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * Waits (up to `ms`) until the process holds no more socket handles than in
 * `baseline`; returns what it holds then. Closing a handle completes on a
 * later turn of the event loop, so an immediate count would be too early.
 */
export async function settleResources(baseline: readonly string[], ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let now = socketResources();
  while (now.length > baseline.length && Date.now() < deadline) {
    await delay(10);
    now = socketResources();
  }
  return now;
}

/**
 * A TCP listener in a child process whose event loop is blocked, so it never
 * accepts. Once its kernel accept queue is full (the fillers below), further
 * connection attempts to it get no answer: they hang until cancelled.
 */
export class BlackHole {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly fillers: net.Socket[],
  ) {}

  static async start(host = "127.0.0.1"): Promise<BlackHole> {
    const script = `
      const net = require("node:net");
      const server = net.createServer();
      server.listen({ host: ${JSON.stringify(host)}, port: 0, backlog: 1 }, () => {
        process.stdout.write(server.address().port + "\\n", () => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
        });
      });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
    });
    // Fill the accept queue: connect until an attempt gets no answer.
    const fillers: net.Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const socket = net.connect(port, host);
      socket.on("error", () => {});
      fillers.push(socket);
      const connected = await Promise.race([
        new Promise<boolean>((resolve) => socket.once("connect", () => resolve(true))),
        delay(300).then(() => false),
      ]);
      if (!connected) return new BlackHole(port, child, fillers);
    }
    child.kill("SIGKILL");
    throw new Error("BlackHole: the accept queue never filled up");
  }

  /** Kills the child and drops the filler sockets. */
  async stop(): Promise<void> {
    for (const socket of this.fillers) socket.destroy();
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGKILL");
    await exited;
  }
}

/**
 * A plain Node server on loopback for the peer side of a test: each
 * connection (paused when `pauseOnConnect`, so nothing is read from it) goes
 * to `onConnection`; `stop()` destroys them all and closes the server.
 */
export async function rawServer(
  onConnection: (socket: net.Socket) => void = () => {},
  options: { pauseOnConnect?: boolean } = {},
): Promise<{ port: number; stop(): void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ pauseOnConnect: options.pauseOnConnect === true }, (socket) => {
    socket.on("error", () => {});
    sockets.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
