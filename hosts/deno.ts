/**
 * The portable test files on Deno (from the npm package `deno`, pinned):
 * `deno test` runs node:test files from their TypeScript sources. Deno's
 * cache lives in a temporary folder; nothing is fetched from the network.
 * The weft/web tests get a weft server (hosts/web_server.ts, in this Node
 * process, on 127.0.0.1) to talk to.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishFromSummary, lastNumber, portableTestFiles, runCommand } from "./common.ts";
import { denoBinary, denoEnv } from "./launch.ts";
import { startWebTestServer, WEB_SERVER_ENV } from "./web_server.ts";

const denoDir = mkdtempSync(join(tmpdir(), "weft-deno-"));
const files = portableTestFiles().map((name) => `test/${name}`);
const server = await startWebTestServer(); // for test/web/real_server_test.ts
const { code, output } = await runCommand(denoBinary, ["test", "--no-check", "-A", ...files], {
  env: { ...denoEnv(denoDir), [WEB_SERVER_ENV]: server.url },
});
await server.stop();
rmSync(denoDir, { recursive: true, force: true });
const passed = lastNumber(output, /\| (\d+) passed/);
const failed = lastNumber(output, /\| (\d+) failed/);
finishFromSummary("deno", code, passed, failed);
