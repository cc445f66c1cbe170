/**
 * The portable test files on Node: the compiled files under dist/test, run
 * by Node's own test runner.
 */
import { join } from "node:path";
import { finishFromSummary, lastNumber, portableTestFiles, root, runCommand } from "./common.ts";

const files = portableTestFiles().map((name) => join(root, "dist", "test", name.replace(/\.ts$/, ".js")));
const { code, output } = await runCommand(process.execPath, ["--test", "--test-concurrency=2", ...files]);
const passed = lastNumber(output, /^# pass (\d+)$/m);
const failed = lastNumber(output, /^# fail (\d+)$/m);
finishFromSummary("node", code, passed, failed);
