/**
 * This process's stdio as weft streams (docs/semantics.md, «IO»; issue 7), each case
 * in a child `node` process whose stdin the test writes and whose output it
 * reads: lines in and out, a program that never reads (or stops reading)
 * stdin still exits while its stdin is open, a read cancelled by a timeout
 * keeps the partial input for the next read, and large output arrives whole.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { startNode, tempDir, writeScript } from "./child.ts";

let dir: { path: string; remove(): void };
before(() => {
  dir = tempDir("weft-stdio-");
});
after(() => dir.remove());

test("stdin lines in, stdout and stderr out", async () => {
  const file = writeScript(
    dir.path,
    "upper",
    `
import { main, stdin, stdout, stderr } from "@NODE@";
main(function* () {
  let n = 0;
  for (let line; (line = yield* stdin.readLine()) !== undefined; n++) yield* stdout.write(line.toUpperCase() + "\\n");
  yield* stderr.write(n + " lines\\n");
});
`,
  );
  const child = startNode(file);
  child.child.stdin!.end("alpha\nbeta\r\ngamma");
  const done = await child.done;
  assert.deepEqual([done.code, done.stdout, done.stderr], [0, "ALPHA\nBETA\nGAMMA\n", "3 lines\n"]);
});

test("a program that never reads stdin exits although its stdin stays open", async () => {
  const file = writeScript(
    dir.path,
    "noread",
    `import { main, stdout } from "@NODE@"; main(function* () { yield* stdout.write("done\\n"); });`,
  );
  const child = startNode(file);
  // stdin is left open on purpose: it must not keep the child alive.
  const done = await child.done;
  assert.deepEqual([done.code, done.signal, done.stdout], [0, null, "done\n"]);
});

test("a program that read some stdin and stopped exits although its stdin stays open (also without main)", async () => {
  const file = writeScript(
    dir.path,
    "oneline",
    `
import { run } from "@WEFT@";
import { stdin, stdout } from "@NODE@";
await run(function* () {
  const line = yield* stdin.readLine();
  yield* stdout.write("first: " + line + "\\n");
});
`,
  );
  const child = startNode(file);
  child.child.stdin!.write("one\ntwo\n");
  const done = await child.done;
  assert.deepEqual([done.code, done.stdout], [0, "first: one\n"]);
});

test("a stdin read cancelled by a timeout keeps what it had read for the next read", async () => {
  const file = writeScript(
    dir.path,
    "partial",
    `
import { withTimeoutOpt } from "@WEFT@";
import { main, stdin, stdout } from "@NODE@";
main(function* () {
  yield* stdout.write("ready\\n");
  // Until the parent's 5 bytes are in (a busy host may deliver them after a first timeout).
  let got;
  do got = yield* withTimeoutOpt(300, () => stdin.readExactly(10));
  while (got === undefined && stdin.buffered === 0);
  yield* stdout.write((got === undefined ? "timed out, buffered " + stdin.buffered : "read (wrong)") + "\\n");
  yield* stdout.write("line: " + (yield* stdin.readLine()) + "\\n");
});
`,
  );
  const child = startNode(file);
  await child.line("ready");
  child.child.stdin!.write("hello");
  await child.line("timed out, buffered 5");
  child.child.stdin!.end("world\n");
  const done = await child.done;
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(done.stdout.split("\n"), ["ready", "timed out, buffered 5", "line: helloworld", ""]);
});

test("8 MiB written to stdout arrive whole and in order", async () => {
  const file = writeScript(
    dir.path,
    "bulk",
    `
import { main, stdout } from "@NODE@";
main(function* () {
  const block = new Uint8Array(64 * 1024);
  for (let i = 0; i < 128; i++) {
    block.fill(97 + (i % 26));
    yield* stdout.write(block); // the caller may reuse its buffer at once
  }
});
`,
  );
  const child = startNode(file);
  const done = await child.done;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout.length, 128 * 64 * 1024);
  for (let i = 0; i < 128; i++) {
    assert.equal(done.stdout[i * 64 * 1024], String.fromCharCode(97 + (i % 26)), `block ${i}`);
  }
});
