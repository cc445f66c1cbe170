/**
 * weft/node: real IO on Node (and on Bun and Deno through their Node
 * compatibility): the program entry `main`, TCP, TLS, UDP and DNS, files,
 * processes, signals and stdio. Every operation suspends only the calling
 * task, can be cancelled, and on cancellation releases what it held.
 *
 * @module
 */
export * from "./node/net/index.ts";
export * from "./node/tls/index.ts";
export * from "./node/fs/index.ts";
export * from "./node/process/index.ts";
