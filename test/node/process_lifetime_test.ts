/**
 * What a child process holds is let go with the task that owns it: its pipes
 * (even when nobody read them), and its whole process group, so that the
 * background jobs of a shell script die with it. Node-only (real children).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Queue, WeftUsageError, run, sleep, withTaskGroup, type Operation } from "../../src/index.ts";
import { spawnProcess, type Process } from "../../src/node.ts";
import { countResources, countSettled, eventually, isGone, tempDir } from "./child.ts";

/** Open file descriptors of this process (Linux). */
function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Kills what a failing test left running, so one failure does not leak processes into the others. */
function killQuietly(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

/** A shell with two background sleepers; it prints their pids, one per line, then waits. */
const TWO_SLEEPERS = ["-c", "sleep 300 & echo $!; sleep 300 & echo $!; wait"];

function* sleeperPids(proc: Process): Operation<number[]> {
  const pids = [Number(yield* proc.stdout.readLine()), Number(yield* proc.stdout.readLine())];
  for (const pid of pids) assert.ok(pid > 0, `not a pid: ${pid}`);
  return pids;
}

test("pipes of children whose output nobody read are released when their tasks end: fds and PipeWrap handles back to baseline", {
  timeout: 60_000,
}, async () => {
  const fdsBefore = fdCount();
  const pipesBefore = await countSettled("PipeWrap");
  const N = 12;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < N; i++) {
        group.spawn(function* () {
          const proc = yield* spawnProcess("sh", ["-c", "echo out; echo err >&2"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
          // The child runs to its end; its output is never read and the handle never closed.
          yield* proc.wait();
        });
      }
    });
  });
  const released = await eventually(() => countResources("PipeWrap") <= pipesBefore && fdCount() <= fdsBefore);
  assert.ok(
    released,
    `after ${N} children: ${countResources("PipeWrap") - pipesBefore} PipeWrap handle(s) and ${fdCount() - fdsBefore} fd(s) more than before`,
  );
});

test("a child whose task ended while it ran gives back its pipes once it has exited", { timeout: 60_000 }, async () => {
  const dir = tempDir("weft-lifetime-");
  try {
    const marker = join(dir.path, "wrote");
    const fdsBefore = fdCount();
    const pipesBefore = await countSettled("PipeWrap");
    const proc = await run(function* () {
      const proc = yield* spawnProcess("sh", ["-c", `echo out; echo err >&2; touch '${marker}'; exec sleep 300`], {
        stdout: "pipe",
        stderr: "pipe",
      });
      // The owner ends with output waiting in both pipes, unread.
      while (!existsSync(marker)) yield* sleep(10);
      return proc;
    });
    // Its owner has ended: the child is terminated, and its exit is still observable.
    assert.deepEqual(await run(() => proc.wait()), { code: null, signal: "SIGTERM" });
    const released = await eventually(() => countResources("PipeWrap") <= pipesBefore && fdCount() <= fdsBefore);
    assert.ok(released, `${countResources("PipeWrap") - pipesBefore} PipeWrap handle(s), ${fdCount() - fdsBefore} fd(s) left`);
  } finally {
    dir.remove();
  }
});

test("after its owner ended, a child's pipes are closed: reading throws WeftUsageError, wait() still answers", {
  timeout: 60_000,
}, async () => {
  const proc = await run(() => spawnProcess("sh", ["-c", "echo never read"], { stdout: "pipe" }));
  await run(function* () {
    assert.throws(() => proc.stdout.readLine().next(), WeftUsageError);
    const status = yield* proc.wait();
    // It may have finished before the termination reached it.
    assert.ok(status.code === 0 || status.signal === "SIGTERM", JSON.stringify(status));
  });
});

/** Spawns TWO_SLEEPERS in a task, cancels that task once the pids are known, and returns [sleeper, sleeper, sh]. */
function cancelTwoSleepers(options: { processGroup?: boolean }): Promise<number[]> {
  return run(function* () {
    const known = new Queue<number[]>();
    let pids: number[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const owner = group.spawn(function* () {
        const proc = yield* spawnProcess("sh", TWO_SLEEPERS, { stdout: "pipe", ...options });
        known.tryPut([...(yield* sleeperPids(proc)), proc.pid]);
        yield* proc.wait();
      });
      pids = yield* known.get();
      owner.cancel();
    });
    return pids;
  });
}

test('cancelling the owner of `sh -c "sleep 300 & sleep 300 & wait"` terminates the background sleepers too', {
  timeout: 60_000,
}, async () => {
  let pids: number[] = [];
  try {
    pids = await cancelTwoSleepers({});
    assert.equal(pids.length, 3);
    assert.ok(isGone(pids[2]!), "the shell itself was waited for");
    const gone = await eventually(() => pids.every(isGone));
    assert.ok(gone, `still running: ${pids.filter((pid) => !isGone(pid)).join(", ")}`);
  } finally {
    killQuietly(pids);
  }
});

test("processGroup: false terminates the child only; its background jobs are its own business", { timeout: 60_000 }, async () => {
  let pids: number[] = [];
  try {
    pids = await cancelTwoSleepers({ processGroup: false });
    assert.ok(isGone(pids[2]!), "the shell itself was terminated");
    assert.ok(!isGone(pids[0]!) && !isGone(pids[1]!), "the sleepers were not signalled");
  } finally {
    killQuietly(pids);
  }
});
