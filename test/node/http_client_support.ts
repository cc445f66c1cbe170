/**
 * Peers for the HTTP client tests: `node:http` servers in the same process
 * (the real peer), raw TCP servers that count the bytes they receive, and a
 * free-port finder for programs that cannot listen on port 0 (tinyproxy).
 */
import http from "node:http";
import net from "node:net";

/** A node:http server on loopback with what it saw. */
export interface TestServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Requests received so far. */
  requests: number;
  /** Connections that ended (closed by either side) so far. */
  closed: number;
  readonly server: http.Server;
  stop(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1 with `handler`. */
export async function startServer(handler: http.RequestListener, options: http.ServerOptions = {}): Promise<TestServer> {
  const server = http.createServer(options, (req, res) => {
    state.requests++;
    handler(req, res);
  });
  const state: TestServer = {
    port: 0,
    origin: "",
    connections: 0,
    open: 0,
    requests: 0,
    closed: 0,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on("connection", (socket: net.Socket) => {
    state.connections++;
    state.open++;
    socket.on("close", () => {
      state.open--;
      state.closed++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, { port, origin: `http://127.0.0.1:${port}` });
}

/** A raw TCP server: every connection goes to `onConnection`; `received` counts every byte it got. */
export interface RawServer {
  readonly port: number;
  received: number;
  connections: number;
  /** Connections that ended so far. */
  closed: number;
  stop(): void;
}

export async function startRawServer(onConnection: (socket: net.Socket, server: RawServer) => void = () => {}): Promise<RawServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    sockets.push(socket);
    state.connections++;
    socket.on("close", () => {
      state.closed++;
    });
    socket.on("data", (chunk: Buffer) => {
      state.received += chunk.length;
    });
    onConnection(socket, state);
  });
  const state: RawServer = {
    port: 0,
    received: 0,
    connections: 0,
    closed: 0,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, { port: (server.address() as net.AddressInfo).port });
}

/** A port that was free a moment ago (bind to 0, read it, close). Another process may take it: callers retry. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `condition()` holds, polling every 5 ms, for at most `ms`. */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("until(): the condition did not hold in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
