/**
 * The portable test files on Bun (from the npm package `bun`): `bun test`
 * runs node:test files from their TypeScript sources. The weft/web tests
 * get a weft server (hosts/web_server.ts, in this Node process) to talk to.
 */
import { finishFromSummary, lastNumber, portableTestFiles, runCommand } from "./common.ts";
import { bunBinary } from "./launch.ts";
import { startWebTestServer, WEB_SERVER_ENV } from "./web_server.ts";

const files = portableTestFiles().map((name) => `./test/${name}`);
// Bun's own limit is 5 s a test, which a loaded machine exceeds (brotli at quality 11 took over 5 s
// with four busy loops); the same 2 minutes as npm test gives every test on Node.
const server = await startWebTestServer(); // for test/web/real_server_test.ts
const { code, output } = await runCommand(bunBinary, ["test", "--timeout", "120000", ...files], {
  env: { NO_COLOR: "1", [WEB_SERVER_ENV]: server.url },
});
await server.stop();
const passed = lastNumber(output, /^\s*(\d+) pass$/m);
const failed = lastNumber(output, /^\s*(\d+) fail$/m);
finishFromSummary("bun", code, passed, failed);
