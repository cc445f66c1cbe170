/**
 * The process and stdio examples, run as the README says
 * (`node dist/examples/<name>.js`) with real input, their output checked.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startNode, tempDir, writeScript } from "./child.ts";

const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));

let dir: { path: string; remove(): void };
before(() => {
  dir = tempDir("weft-examples-");
});
after(() => dir.remove());

test("xargs runs the command once per line and prints each output whole", async () => {
  const child = startNode(example("xargs"), ["-P", "2", process.execPath, "-e", "console.log('<' + process.argv[1].toUpperCase() + '>')"]);
  child.child.stdin!.end("alpha\nbeta\n\ngamma\ndelta\n");
  const done = await child.done;
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(
    done.stdout
      .split("\n")
      .filter((l) => l !== "")
      .sort(),
    ["<ALPHA>", "<BETA>", "<DELTA>", "<GAMMA>"],
  );
});

test("xargs never runs more commands at once than -P allows", async () => {
  // Each probe marks itself running with a file, reports how many are running, waits, and unmarks.
  const probe = writeScript(
    dir.path,
    "probe",
    `
import { readdirSync, rmSync, writeFileSync } from "node:fs";
const running = ${JSON.stringify(dir.path)} + "/running";
const mark = running + "/" + process.argv[2];
writeFileSync(mark, "");
console.log(readdirSync(running).length);
setTimeout(() => rmSync(mark), 150);
`,
  );
  const fs = await import("node:fs");
  fs.mkdirSync(`${dir.path}/running`);
  for (const limit of [1, 2]) {
    const child = startNode(example("xargs"), ["-P", String(limit), process.execPath, probe]);
    child.child.stdin!.end("1\n2\n3\n4\n5\n6\n");
    const done = await child.done;
    assert.equal(done.code, 0, done.stderr);
    const counts = done.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map(Number);
    assert.equal(counts.length, 6);
    assert.ok(Math.max(...counts) <= limit, `-P ${limit} but ${Math.max(...counts)} ran at once`);
  }
});

test("xargs exits 123 when a command fails", async () => {
  const child = startNode(example("xargs"), ["/bin/sh", "-c", 'test "$0" != bad']);
  child.child.stdin!.end("good\nbad\ngood\n");
  const done = await child.done;
  assert.equal(done.code, 123, done.stderr);
});

test("idle-timeout echoes lines and quits after the idle time while its input is still open", async () => {
  const child = startNode(example("idle-timeout"), ["300"]);
  child.child.stdin!.write("one\n");
  await child.line("got: one");
  child.child.stdin!.write("two\n");
  const done = await child.done; // stdin is never closed
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(done.stdout.split("\n"), ["got: one", "got: two", "bye (no input for 300 ms)", ""]);
});

test("idle-timeout ends at the end of its input", async () => {
  const child = startNode(example("idle-timeout"), ["10000"]);
  child.child.stdin!.end("only\n");
  const done = await child.done;
  assert.deepEqual([done.code, done.stdout], [0, "got: only\nbye (end of input)\n"]);
});

test("line-processing prints the matching lines with their numbers; no match exits 1", async () => {
  const hit = startNode(example("line-processing"), ["err"]);
  hit.child.stdin!.end("ok\nerror: disk\nfine\nanother error\n");
  const done = await hit.done;
  assert.deepEqual([done.code, done.stdout], [0, "2: error: disk\n4: another error\n"]);
  const miss = startNode(example("line-processing"), ["zebra"]);
  miss.child.stdin!.end("ok\nfine\n");
  const none = await miss.done;
  assert.deepEqual([none.code, none.stdout], [1, ""]);
});

test("dead-lock prints the deadlock report and exits 1", async () => {
  const done = await startNode(example("dead-lock"), [], { WEFT_DEBUG: "1" }).done;
  assert.equal(done.code, 1);
  assert.match(done.stderr, /deadlock detected: 3 task\(s\) are blocked/);
  // In debug mode the report says where the two lock-taking tasks were spawned.
  assert.equal(done.stderr.match(/spawned at .*dead-lock\.js/g)?.length, 3, done.stderr);
  assert.doesNotMatch(done.stdout, /never printed/);
});
