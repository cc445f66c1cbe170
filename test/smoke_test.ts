import { test } from "node:test";
import assert from "node:assert/strict";
import { run, sleep } from "../src/index.ts";

test("run returns the body's value", async () => {
  assert.equal(await run(function* () { yield* sleep(1); return 5; }), 5);
});
