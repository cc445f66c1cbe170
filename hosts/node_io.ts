/**
 * The weft/http and weft/ws tests of test/node (and a few TCP and TLS ones) on Bun or
 * Deno, through their own `node:net`, `node:tls` and `node:http`:
 * `node dist/hosts/node_io.js bun|deno`
 * (hosts "bun-io" and "deno-io" of `npm run test:hosts`). The rest of
 * test/node stays Node-only. A test a host cannot run is skipped there by
 * test/node/host_skips.ts, which names it with the reason; this runner
 * checks that every name there is still a test of a file it runs, and prints
 * the list, so nothing is left out silently.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST_SKIPS } from "../test/node/host_skips.ts";
import { finish, finishFromSummary, lastNumber, root, runCommand } from "./common.ts";
import { bunBinary, denoBinary, denoEnv } from "./launch.ts";

/**
 * The files of test/node run on Bun and Deno: weft/http's and weft/ws's (not
 * ws_memory_test, which needs V8's `gc`), and three of the
 * TCP and TLS files it stands on. The other net files fail on these hosts on
 * a first run and are not sorted out yet, mostly over what the tests probe
 * (Bun's process.getActiveResourcesInfo() lists no sockets, V8's wording of
 * a TypeError, a listen backlog that never fills, examples started as `.js`
 * on Deno), and some not (a refused client certificate is a clean close on
 * both, not an error; on Deno a write fails with the peer's reset before the
 * line that came ahead of it is read, and acceptTls over a pipe refuses a
 * valid client certificate).
 */
export const NODE_IO_FILES: readonly string[] = [
  "http_client_body_test.ts",
  "http_client_cancel_test.ts",
  "http_client_features_test.ts",
  "http_client_pool_test.ts",
  "http_client_proxy_test.ts",
  "http_codec_hostile_test.ts",
  "http_codec_response_differential_test.ts",
  "http_differential_test.ts",
  "http_examples_test.ts",
  "http_server_pipe_test.ts",
  "http_server_tcp_test.ts",
  "net_cancel_test.ts",
  "tcp_abort_test.ts",
  "tls_abort_test.ts",
  "ws_examples_test.ts",
  "ws_fuzz_test.ts",
  "ws_handshake_test.ts",
  "ws_peer_test.ts",
];

const host = process.argv[2];
if (host !== "bun" && host !== "deno") {
  console.error("usage: node_io.js bun|deno");
  process.exit(2);
}
const name = `${host}-io`;

// A stale entry (a renamed test, a file no longer run) would skip nothing and say nothing.
let stale = 0;
for (const skip of HOST_SKIPS) {
  const listed = NODE_IO_FILES.includes(skip.file);
  if (!listed || !readFileSync(join(root, "test", "node", skip.file), "utf8").includes(JSON.stringify(skip.name))) {
    console.log(
      `${name}: test/node/host_skips.ts names "${skip.name}" in ${skip.file}, which ${listed ? "has no such test" : "this runner does not run"}`,
    );
    stale++;
  }
}
if (stale > 0) finish(0, stale);
const skipped = HOST_SKIPS.filter((s) => s[host] !== undefined);
console.log(`${name}: ${NODE_IO_FILES.length} files of test/node; skipped on ${host} (test/node/host_skips.ts):`);
for (const s of skipped) console.log(`  ${s.file}: "${s.name}": ${s[host]}`);

const files = NODE_IO_FILES.map((file) => `./test/node/${file}`);
if (host === "bun") {
  // The same 2-minute limit a test as the bun host (Bun's own default is 5 s).
  const { code, output } = await runCommand(bunBinary, ["test", "--timeout", "120000", ...files], { env: { NO_COLOR: "1" } });
  const passed = lastNumber(output, /^\s*(\d+) pass$/m);
  const failed = lastNumber(output, /^\s*(\d+) fail$/m);
  console.log(`${name}: ${lastNumber(output, /^\s*(\d+) skip$/m) ?? 0} skipped`);
  finishFromSummary(name, code, passed, failed);
} else {
  const denoDir = mkdtempSync(join(tmpdir(), "weft-deno-"));
  const { code, output } = await runCommand(denoBinary, ["test", "--no-check", "-A", ...files], { env: denoEnv(denoDir) });
  rmSync(denoDir, { recursive: true, force: true });
  const passed = lastNumber(output, /\| (\d+) passed/);
  const failed = lastNumber(output, /\| (\d+) failed/);
  console.log(`${name}: ${lastNumber(output, /\| (\d+) ignored/) ?? 0} skipped`);
  finishFromSummary(name, code, passed, failed);
}
