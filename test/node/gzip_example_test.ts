/**
 * examples/gzip.ts run as a child process, checked against the `gzip`
 * command: what it compresses `gzip -d` decodes, what `gzip` compresses it
 * decodes, and a truncated input is reported with exit status 1.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const example = fileURLToPath(new URL("../../examples/gzip.js", import.meta.url));

function input(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) lines.push(`line ${i}: ${(i * 7919) % 10007} ${"abc".repeat(i % 5)}`);
  return Buffer.from(lines.join("\n") + "\n");
}

test("gzip compresses stdin into what gzip -d decodes", { timeout: 60_000 }, () => {
  const data = input();
  const ours = spawnSync(process.execPath, [example], { input: data, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(ours.status, 0, ours.stderr.toString());
  assert.ok(ours.stdout.length < data.length / 3, `compressed ${data.length} bytes to ${ours.stdout.length}`);
  const back = spawnSync("gzip", ["-dc"], { input: ours.stdout, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(back.status, 0, back.stderr.toString());
  assert.deepEqual(back.stdout, data);
});

test("gzip -d decompresses what gzip wrote", { timeout: 60_000 }, () => {
  const data = input();
  const theirs = spawnSync("gzip", ["-c"], { input: data, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(theirs.status, 0);
  const ours = spawnSync(process.execPath, [example, "-d"], { input: theirs.stdout, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(ours.status, 0, ours.stderr.toString());
  assert.deepEqual(ours.stdout, data);
});

test("gzip -d reports a truncated input with exit status 1", { timeout: 60_000 }, () => {
  const theirs = spawnSync("gzip", ["-c"], { input: input(), maxBuffer: 64 * 1024 * 1024 });
  const cut = theirs.stdout.subarray(0, theirs.stdout.length - 10);
  const ours = spawnSync(process.execPath, [example, "-d"], { input: cut, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(ours.status, 1);
  assert.match(ours.stderr.toString(), /^gzip: unexpected end of file\n$/);
});
