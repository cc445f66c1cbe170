/** What the HTTP benchmarks' hello server answers, shared by the server process and the clients that check it. */

/** How the hello server is written: weft (`listenHttp` + `serve`) or `node:http`. */
export type HelloServerKind = "weft" | "node";

/** The body of every answer (13 bytes). */
export const HELLO = "Hello, world!";
