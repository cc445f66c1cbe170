/**
 * examples/cat.ts run as a child process: files concatenated, stdin copied,
 * a missing file reported with exit status 1.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratch } from "./fs_support.ts";

const cat = fileURLToPath(new URL("../../examples/cat.js", import.meta.url));

test("cat prints its files one after the other", () => {
  const { dir, cleanup } = scratch();
  try {
    const a = join(dir, "a.txt");
    const b = join(dir, "b.bin");
    const big = Buffer.alloc(300_000, "x");
    fs.writeFileSync(a, "first file\n");
    fs.writeFileSync(b, big);
    const result = spawnSync(process.execPath, [cat, a, b, a], { encoding: "buffer" });
    assert.equal(result.status, 0, result.stderr.toString());
    assert.deepEqual(result.stdout, Buffer.concat([Buffer.from("first file\n"), big, Buffer.from("first file\n")]));
  } finally {
    cleanup();
  }
});

test("cat with no arguments copies stdin", () => {
  const input = "line one\nline two\n".repeat(5000);
  const result = spawnSync(process.execPath, [cat], { input, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, input);
});

test("cat reports a missing file and exits with status 1", () => {
  const { dir, cleanup } = scratch();
  try {
    const missing = join(dir, "nope.txt");
    const result = spawnSync(process.execPath, [cat, missing], { encoding: "utf8" });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^cat: openFile\(\): ENOENT: no such file or directory, open '.*nope\.txt'/);
  } finally {
    cleanup();
  }
});
