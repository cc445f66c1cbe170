/**
 * Timers and the life of the process (docs/semantics.md, «Drivers», «Timer and sleep»): a Timer
 * nobody waits for never keeps a Node process alive. These tests start child
 * Node processes, so they run on Node only.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

/** Runs `body` (the text of an async function body) in a fresh Node process with weft imported. */
function runChild(body: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const weftUrl = new URL("../../src/index.js", import.meta.url).href;
  const script = `const weft = await import(${JSON.stringify(weftUrl)});\n${body}`;
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}

test("an unobserved Timer does not keep the process alive", async () => {
  const child = await runChild(`
    const { run, Timer } = weft;
    const value = await run(function* () {
      new Timer(60_000);
      return "body done";
    });
    console.log(value);
  `);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stdout.trim(), "body done");
  assert.ok(child.ms < 10_000, `the process took ${child.ms} ms to exit`);
});

test("a Timer whose only waiter gave up does not keep the process alive", async () => {
  const child = await runChild(`
    const { run, Timer, withTimeoutOpt } = weft;
    const value = await run(function* () {
      const timer = new Timer(60_000);
      const r = yield* withTimeoutOpt(10, () => timer.wait());
      return r === undefined ? "gave up" : "expired?";
    });
    console.log(value);
  `);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stdout.trim(), "gave up");
  assert.ok(child.ms < 10_000, `the process took ${child.ms} ms to exit`);
});
