/**
 * The portable test files on Deno (from the npm package `deno`, pinned):
 * `deno test` runs node:test files from their TypeScript sources. Deno's
 * cache lives in a temporary folder; nothing is fetched from the network.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishFromSummary, lastNumber, portableTestFiles, runCommand } from "./common.ts";
import { denoBinary, denoEnv } from "./launch.ts";

const denoDir = mkdtempSync(join(tmpdir(), "weft-deno-"));
const files = portableTestFiles().map((name) => `test/${name}`);
const { code, output } = await runCommand(denoBinary, ["test", "--no-check", "-A", ...files], { env: denoEnv(denoDir) });
rmSync(denoDir, { recursive: true, force: true });
const passed = lastNumber(output, /\| (\d+) passed/);
const failed = lastNumber(output, /\| (\d+) failed/);
finishFromSummary("deno", code, passed, failed);
