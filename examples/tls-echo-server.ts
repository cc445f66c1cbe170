/**
 * A TLS echo server: each connection, once its handshake succeeded, gets back
 * whatever it sends, in a task of its own. Handshakes that fail or stall
 * (longer than 5 s here) are dropped without reaching a handler.
 *
 * Run it with `node dist/examples/tls-echo-server.js KEY.pem CERT.pem [port]`
 * (after `npm run build`; port 0 or none picks a free one). A throwaway
 * certificate for trying it out:
 *
 *     openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
 *       -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost \
 *       -addext subjectAltName=DNS:localhost,IP:127.0.0.1
 *
 * and talk to it with `openssl s_client -connect 127.0.0.1:<port> -CAfile cert.pem`.
 * Stop it with Ctrl-C.
 */
import { readFileSync } from "node:fs";
import { listenTls, main } from "../src/node.ts";

const [keyFile, certFile, portArg] = process.argv.slice(2);
if (keyFile === undefined || certFile === undefined) {
  console.error("usage: tls-echo-server KEY.pem CERT.pem [port]");
  process.exit(2);
}
const key = readFileSync(keyFile, "utf8");
const cert = readFileSync(certFile, "utf8");
const port = Number(portArg ?? 0);

// main(): Ctrl-C (SIGINT) cancels the server task; the listener and every
// open connection are closed (with a TLS close_notify) before the process ends.
main(function* () {
  using server = yield* listenTls({ host: "127.0.0.1", port, key, cert, handshakeTimeout: 5000 });
  console.log(`TLS echo server listening on 127.0.0.1:${server.port}`);
  yield* server.serve(
    function* (conn) {
      // Copies until the client ends its side; serve() closes the connection after.
      yield* conn.writeReader(conn);
    },
    { maxConnections: 100 },
  );
});
