/**
 * The portable test files on Node: the compiled files under dist/test, run
 * by Node's own test runner. The weft/web tests get a weft server
 * (hosts/web_server.ts) to talk to.
 */
import { join } from "node:path";
import { finishFromSummary, lastNumber, portableTestFiles, root, runCommand } from "./common.ts";
import { startWebTestServer, WEB_SERVER_ENV } from "./web_server.ts";

const files = portableTestFiles().map((name) => join(root, "dist", "test", name.replace(/\.ts$/, ".js")));
const server = await startWebTestServer(); // for test/web/real_server_test.ts
const { code, output } = await runCommand(process.execPath, ["--test", "--test-concurrency=2", ...files], {
  env: { [WEB_SERVER_ENV]: server.url },
});
await server.stop();
const passed = lastNumber(output, /^# pass (\d+)$/m);
const failed = lastNumber(output, /^# fail (\d+)$/m);
finishFromSummary("node", code, passed, failed);
