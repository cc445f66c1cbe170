/**
 * The portable test files on Bun (from the npm package `bun`): `bun test`
 * runs node:test files from their TypeScript sources.
 */
import { finishFromSummary, lastNumber, portableTestFiles, runCommand } from "./common.ts";
import { bunBinary } from "./launch.ts";

const files = portableTestFiles().map((name) => `./test/${name}`);
const { code, output } = await runCommand(bunBinary, ["test", ...files], { env: { NO_COLOR: "1" } });
const passed = lastNumber(output, /^\s*(\d+) pass$/m);
const failed = lastNumber(output, /^\s*(\d+) fail$/m);
finishFromSummary("bun", code, passed, failed);
