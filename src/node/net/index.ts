/**
 * weft/node networking: TCP connections and servers, UDP sockets and host
 * name resolution, on Node's `net`, `dgram` and `dns`.
 */
export { resolveHost, type HostAddress, type ResolveHostOptions } from "./resolve_host.ts";
export { TcpConnection, type TcpConnectionOptions } from "./tcp_connection.ts";
export { connectTcp, type ConnectTcpOptions } from "./connect_tcp.ts";
export { ConnectionServer, type ServeOptions, type ServedConnection } from "./connection_server.ts";
export { TcpServer, listenTcp, type ListenTcpOptions } from "./tcp_server.ts";
export { UdpSocket, bindUdp, type BindUdpOptions, type Datagram } from "./udp_socket.ts";
