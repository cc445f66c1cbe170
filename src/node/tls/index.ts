/**
 * weft/node TLS: client and server connections on Node's `tls`, and TLS over
 * any open weft stream (STARTTLS, proxies, in-memory pipes).
 */
export { TlsConnection, type TlsConnectionOptions } from "./tls_connection.ts";
export { connectTls, type ConnectTlsOptions, type TlsClientOptions } from "./connect_tls.ts";
export { TlsServer, listenTls, type ListenTlsOptions, type TlsServerOptions } from "./tls_server.ts";
export { startTls, acceptTls, type TlsTransport } from "./start_tls.ts";
export type { Credential } from "./validate.ts";
