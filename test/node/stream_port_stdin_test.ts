/**
 * `ReadPort` on `process.stdin` (a pipe): reading starts in the same tick as
 * the port is made, and the process must not exit while the read waits.
 * Regression: pausing a fresh stdin made Node stop its handle one tick later.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const distSrc = fileURLToPath(new URL("../../src/", import.meta.url));

test("a ReadPort made on process.stdin reads a pipe to its end", () => {
  const code = `
    import { run } from ${JSON.stringify(join(distSrc, "index.js"))};
    import { ReadPort } from ${JSON.stringify(join(distSrc, "node", "stream_port.js"))};
    const total = await run(function* () {
      const port = new ReadPort(process.stdin);
      let n = 0;
      for (let chunk; (chunk = yield* port.read()) !== undefined; ) n += chunk.length;
      return n;
    });
    process.stdout.write(String(total));
  `;
  const input = "x".repeat(200_000);
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", code], { input, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, String(input.length));
});
