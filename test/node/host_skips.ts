/**
 * The tests of test/node that Bun or Deno cannot run, by name, each with the
 * reason: the one list. `npm run test:hosts` runs the files of
 * hosts/node_io.ts on Bun and Deno (through their `node:` modules), and a
 * test named here is skipped there with its reason as the skip message (it
 * still runs on Node). Only a host's own limitation belongs here; a weft bug
 * that shows on one host is fixed instead. The runner checks that every name
 * here is still a test of its file, and prints the list.
 */
import { test as nodeTest, type TestContext } from "node:test";

/** The host this file runs on. */
export const host: "node" | "bun" | "deno" = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/** One test a host cannot run. */
export interface HostSkip {
  /** the file under test/node */
  readonly file: string;
  /** the test's name, exactly */
  readonly name: string;
  /** why Bun cannot run it, when it cannot */
  readonly bun?: string;
  /** why Deno cannot run it, when it cannot */
  readonly deno?: string;
}

// The request oracle is node:http's server, which on Node is llhttp. Bun's node:http server is
// Bun's own parser and Deno's is built on Deno.serve: they accept and reject other inputs (Bun
// accepts `Transfer-Encoding: chunked,`; Deno "accepts" the truncated `DELETE /` and leaves a plain
// `GET / HTTP/1.1` with `Content-Length: 0` unanswered), so a disagreement there says nothing
// about weft. Seen with bun 1.4.5 and deno 2.9.5.
const NOT_LLHTTP_BUN = "node:http's server here is Bun's own parser, not llhttp: the oracle is not there";
const NOT_LLHTTP_DENO = "node:http's server here is built on Deno.serve, not llhttp: the oracle is not there";

export const HOST_SKIPS: readonly HostSkip[] = [
  {
    file: "http_differential_test.ts",
    name: "the oracle: llhttp parses every generated valid request, pipelined and cut anywhere, with the fields that were sent",
    bun: NOT_LLHTTP_BUN,
    deno: NOT_LLHTTP_DENO,
  },
  {
    file: "http_differential_test.ts",
    name: "the oracle: llhttp rejects, alone on a connection, every hostile kind both parsers must reject",
    bun: NOT_LLHTTP_BUN,
    deno: NOT_LLHTTP_DENO,
  },
  {
    file: "http_differential_test.ts",
    name: "weft agrees with llhttp on generated requests, except where it is stricter by a named RFC rule",
    bun: NOT_LLHTTP_BUN,
    deno: NOT_LLHTTP_DENO,
  },
  {
    file: "http_examples_test.ts",
    name: "http-file-server on SIGINT finishes the download in progress, then exits 0",
    // The same loss with a node:http server on Node as the peer (deno 2.9.5): not the file server's.
    deno: "Deno's node:http client loses the end of a body read after res.pause() and res.resume()",
  },
  {
    file: "ws_fuzz_test.ts",
    name: "the frame fuzzer: random valid and invalid frame sequences cut at random boundaries, in both roles, agree with ws's Receiver",
    // Bun answers `import "ws"` with its own built-in WebSocket module (bun 1.4.5), whose Receiver
    // throws "Not supported yet in Bun": the oracle is not there. (The ws peer tests do run on Bun,
    // against that built-in client and server.)
    bun: "Bun's built-in ws module replaces the ws package and has no Receiver: the oracle is not there",
  },
];

/** Why this host cannot run the test `name`, or undefined. */
export function skipReason(name: string): string | undefined {
  if (host === "node") return undefined;
  return HOST_SKIPS.find((s) => s.name === name)?.[host];
}

/**
 * node:test's `test(name, options, fn)`, except that a test {@link HOST_SKIPS}
 * names for this host is skipped, with the reason as the skip message.
 */
export function test(
  name: string,
  options: { timeout: number; skip?: string | boolean },
  fn: (t: TestContext) => void | Promise<void>,
): void {
  const why = skipReason(name);
  // The runner awaits its top-level tests itself.
  void nodeTest(name, why === undefined ? options : { ...options, skip: `${host}: ${why}` }, fn);
}
