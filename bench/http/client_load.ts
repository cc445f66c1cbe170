/**
 * http_client: `n` keep-alive GETs against one `node:http` hello server in
 * its own process (`hello_server.ts`), spread over a fixed number of
 * connections, each connection's worker sending its next request when the
 * previous answer has been read whole (and checked). weft's `HttpClient`
 * (`maxConnectionsPerOrigin` = the connection count) against undici's
 * `request` on a `Pool` with the same number of connections. One op is one
 * request; the time includes opening the connections on the first requests.
 */
import { Pool, request } from "undici";
import { run, withTaskGroup } from "../../src/index.ts";
import { HttpClient } from "../../src/http/client/index.ts";
import { HELLO } from "./hello.ts";
import { startHelloServer, type HelloServer } from "./server_load.ts";

export const CLIENT_CONNECTIONS = 16;

/** Which client drives the requests. */
export type HttpClientKind = "weft" | "undici";

function share(n: number, connections: number, id: number): number {
  return Math.floor(n / connections) + (id < n % connections ? 1 : 0);
}

function checkBody(kind: string, body: string): void {
  if (body !== HELLO) throw new Error(`http_client (${kind}): got ${JSON.stringify(body.slice(0, 40))}, expected ${JSON.stringify(HELLO)}`);
}

async function weftRequests(port: number, n: number, connections: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/`;
  return run(function* () {
    using client = new HttpClient({ maxConnectionsPerOrigin: connections });
    let done = 0;
    yield* withTaskGroup(function* (group) {
      for (let id = 0; id < connections; id++) {
        const count = share(n, connections, id);
        group.spawn(function* () {
          for (let i = 0; i < count; i++) {
            using res = yield* client.get(url);
            checkBody("weft", yield* res.text());
            done++;
          }
        });
      }
    });
    return done;
  });
}

async function undiciRequests(port: number, n: number, connections: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/`;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections });
  try {
    const counts = await Promise.all(
      Array.from({ length: connections }, async (_, id) => {
        const count = share(n, connections, id);
        for (let i = 0; i < count; i++) {
          const res = await request(url, { dispatcher: pool });
          if (res.statusCode !== 200) throw new Error(`http_client (undici): status ${res.statusCode}`);
          checkBody("undici", await res.body.text());
        }
        return count;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    await pool.close();
  }
}

/**
 * The workload for one client kind: each call makes `n` requests over
 * `connections` connections (a fresh client or pool per call) against a
 * server started on the first call, and returns how many answers came back
 * intact.
 */
export function httpClientLoad(
  kind: HttpClientKind,
  connections = CLIENT_CONNECTIONS,
): ((n: number) => Promise<number>) & { stop(): void } {
  let server: Promise<HelloServer> | undefined;
  const load = async (n: number): Promise<number> => {
    const { port } = await (server ??= startHelloServer("node"));
    return kind === "weft" ? weftRequests(port, n, connections) : undiciRequests(port, n, connections);
  };
  return Object.assign(load, {
    stop: () => {
      void server?.then((s) => s.stop());
    },
  });
}
