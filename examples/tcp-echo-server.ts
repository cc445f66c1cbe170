/**
 * A TCP echo server: each connection gets back whatever it sends, and is
 * handled by its own task, so a slow client never holds up the others.
 *
 * Run it with `node dist/examples/tcp-echo-server.js [port]` (after
 * `npm run build`; port 0 or none picks a free one) and talk to it with
 * `nc 127.0.0.1 <port>`. Stop it with Ctrl-C.
 */
import { listenTcp, main } from "../src/node.ts";

const port = Number(process.argv[2] ?? 0);

// main(): Ctrl-C (SIGINT) cancels the server task; the listener and every
// open connection are closed before the process ends.
main(function* () {
  // `using`: the listener is closed however this block is left.
  using server = yield* listenTcp({ host: "127.0.0.1", port });
  console.log(`echo server listening on 127.0.0.1:${server.port}`);
  yield* server.serve(
    function* (conn) {
      // Copies until the client ends its side; serve() closes the connection after.
      yield* conn.writeReader(conn);
    },
    // Beyond 100 clients, new connections wait until one ends.
    { maxConnections: 100 },
  );
});
