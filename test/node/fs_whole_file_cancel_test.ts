/**
 * writeFile/appendFile under cancellation: once started they complete, so a
 * cancelled call never leaves part of its data behind while reporting
 * Cancelled (and a retried append never duplicates). The target is a FIFO
 * whose reader the test drains by hand, so the write is held mid-way for as
 * long as the test wants, without timing.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, pause, run, sleep, withTaskGroup } from "../../src/index.ts";
import { appendFile, writeFile } from "../../src/node.ts";
import { inCancelledTask, scratch } from "./fs_support.ts";

/** Reads what is in the FIFO now (non-blocking); undefined once every writer has closed it and it is empty. */
function drain(fd: number): number | undefined {
  const buffer = Buffer.alloc(1 << 16);
  let total = 0;
  for (;;) {
    try {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return total === 0 ? undefined : total;
      total += n;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return total;
      throw error;
    }
  }
}

for (const [name, op] of [
  ["writeFile", writeFile],
  ["appendFile", appendFile],
] as const) {
  test(`${name} cancelled in the middle of its data completes and returns: never Cancelled with part of the data written`, {
    timeout: 60_000,
    skip: process.platform === "win32",
  }, async () => {
    const { dir, cleanup } = scratch();
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const SIZE = 4 << 20; // far more than a pipe holds: the write blocks until drained
      let received = 0;
      const outcome = await run(() =>
        withTaskGroup<{ returned: boolean; error?: unknown; endedWhileBlocked: boolean }>(function* (group) {
          const writer = group.spawn(() => op(fifo, new Uint8Array(SIZE).fill(0x61)), { allowFailure: true });
          // Wait until the write is under way (the pipe has data), then take a little, not all.
          while (received === 0) {
            received += drain(reader) ?? 0;
            yield* sleep(1);
          }
          writer.cancel();
          for (let i = 0; i < 5; i++) yield* pause();
          const endedWhileBlocked = writer.done;
          // Drain to the end: the writer closes the FIFO when it is done, whatever its outcome.
          for (;;) {
            const n = drain(reader);
            if (n === undefined && writer.done) break;
            received += n ?? 0;
            yield* sleep(1);
          }
          try {
            yield* writer.wait();
            return { returned: true, endedWhileBlocked };
          } catch (error) {
            return { returned: false, error, endedWhileBlocked };
          }
        }),
      );
      assert.equal(outcome.endedWhileBlocked, false, "the cancelled writer waited for its write");
      assert.equal(outcome.returned, true, `the write reports success, not ${String(outcome.error)}`);
      assert.equal(received, SIZE, "all of the data was written");
    } finally {
      fs.closeSync(reader);
      cleanup();
    }
  });
}

test("writeFile in an already-cancelled task throws Cancelled and creates nothing", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = scratch();
  try {
    const path = join(dir, "never.txt");
    const outcome = await run(() => inCancelledTask(() => writeFile(path, "x")));
    assert.ok(outcome.error instanceof Cancelled);
    assert.equal(fs.existsSync(path), false);
  } finally {
    cleanup();
  }
});
