/**
 * A child process belongs to the task, or to the timeout body it was spawned
 * in (docs/semantics.md, «Timeouts»): a deadline terminates the children of
 * its body, never those the task spawned before it.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, sleep, withTimeoutOpt } from "../../src/index.ts";
import { spawnProcess, type Process } from "../../src/node.ts";

test("a timeout terminates the child spawned in its body and leaves the task's earlier child running", { timeout: 60_000 }, async () => {
  const out = await run(function* () {
    const before = yield* spawnProcess("sleep", ["60"]);
    try {
      let inside: Process | undefined;
      yield* withTimeoutOpt(200, function* () {
        inside = yield* spawnProcess("sleep", ["60"]);
        yield* sleep(60_000);
      });
      // The body's child is terminated by the deadline; its exit takes a moment to be seen.
      const insideStatus = yield* inside!.wait();
      yield* sleep(50);
      return { inside: insideStatus.signal, before: before.exitStatus === undefined };
    } finally {
      before.kill("SIGKILL");
    }
  });
  assert.deepEqual(out, { inside: "SIGTERM", before: true });
});
