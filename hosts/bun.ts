/**
 * The portable test files on Bun (from the npm package `bun`): `bun test`
 * runs node:test files from their TypeScript sources.
 */
import { bin, finish, lastNumber, portableTestFiles, runCommand } from "./common.ts";

const files = portableTestFiles().map((name) => `./test/${name}`);
const { code, output } = await runCommand(bin("bun"), ["test", ...files], { env: { NO_COLOR: "1" } });
const passed = lastNumber(output, /^\s*(\d+) pass$/m);
const failed = lastNumber(output, /^\s*(\d+) fail$/m);
if (passed === undefined || failed === undefined) {
  console.log(`bun: no test summary found (exit code ${code})`);
  finish(passed ?? 0, Math.max(1, failed ?? 0));
}
finish(passed, code === 0 ? failed : Math.max(1, failed));
