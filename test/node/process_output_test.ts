/**
 * A child's output pipe: output is never lost when the child exits before
 * it was read in full (Node then resumes a child's output pipes that nobody
 * listens to), and a reader closed half-way lets the child write on to its
 * end (its output then goes nowhere) instead of blocking it on a full pipe.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run } from "../../src/index.ts";
import { spawnProcess } from "../../src/node.ts";
import { concat, pattern } from "../io/support.ts";

const NODE = process.execPath;

/** A node child that writes `bytes` bytes of the test pattern to stdout, then exits 0. */
function writer(bytes: number): string[] {
  return [
    "-e",
    `const out = new Uint8Array(${bytes}); for (let i = 0; i < out.length; i++) out[i] = (i * 31 + 7 * 5 + (i >> 8)) & 0xff; process.stdout.write(out);`,
  ];
}

test("output read in part, then left while the child writes the rest and exits, is all read afterwards, in order", {
  timeout: 60_000,
}, async () => {
  // More than one read takes, less than Node's buffer and the OS pipe hold together: the child can exit with its
  // last bytes unread (Node then resumes the pipe).
  const size = 160 * 1024;
  const { code, got } = await run(function* () {
    using proc = yield* spawnProcess(NODE, writer(size), { stdout: "pipe" });
    const first = (yield* proc.stdout.readSome())!.slice();
    const status = yield* proc.wait();
    const rest = yield* proc.stdout.readAll();
    return { code: status.code, got: concat([first, rest.bytes()]) };
  });
  assert.equal(code, 0);
  assert.equal(got.length, size);
  assert.deepEqual(got, pattern(size, 5));
});

test("a child whose stdout reader was closed after one read writes on to its end", { timeout: 60_000 }, async () => {
  const code = await run(function* () {
    using proc = yield* spawnProcess(NODE, writer(8 * 1024 * 1024), { stdout: "pipe" });
    assert.ok((yield* proc.stdout.readSome())!.length > 0);
    proc.stdout.close();
    return (yield* proc.wait()).code;
  });
  assert.equal(code, 0);
});
