/**
 * Signals (docs/semantics.md, «Drivers»; issue 7): waitSignal returns on delivery and
 * leaves no listener behind (after delivery or cancellation), onSignal runs a
 * task per delivery until cancelled, and a body's failure ends it. The
 * signals are sent to this test process itself, always after the listener is
 * known to be installed (SIGUSR2's default action would end the process).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import process from "node:process";
import { Cancelled, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { onSignal, waitSignal } from "../../src/node.ts";

const SIG = "SIGUSR2";

/** Waits (polling, inside a task) until Node has `n` listeners for SIG. */
function* listeners(n: number): Operation<void> {
  for (let i = 0; process.listenerCount(SIG) !== n; i++) {
    if (i > 500) assert.fail(`expected ${n} listener(s) for ${SIG}, have ${process.listenerCount(SIG)}`);
    yield* sleep(2);
  }
}

test("waitSignal returns the signal's name when it arrives, and removes its listener", async () => {
  assert.equal(process.listenerCount(SIG), 0);
  await run(function* () {
    const got = yield* withTaskGroup<string>(function* (group) {
      const waiter = group.spawn(() => waitSignal(SIG));
      yield* listeners(1);
      process.kill(process.pid, SIG);
      return yield* waiter.wait();
    });
    assert.equal(got, SIG);
  });
  assert.equal(process.listenerCount(SIG), 0);
});

test("waitSignal cancelled by a timeout removes its listener", async () => {
  await run(function* () {
    const got = yield* withTimeoutOpt(30, () => waitSignal(SIG));
    assert.equal(got, undefined);
  });
  assert.equal(process.listenerCount(SIG), 0);
});

test("two waiters share one listener and both receive one delivery", async () => {
  await run(function* () {
    const got = yield* withTaskGroup<string[]>(function* (group) {
      const a = group.spawn(() => waitSignal(SIG));
      const b = group.spawn(() => waitSignal(SIG));
      yield* listeners(1);
      yield* sleep(5); // both tasks have started waiting
      process.kill(process.pid, SIG);
      return [yield* a.wait(), yield* b.wait()];
    });
    assert.deepEqual(got, [SIG, SIG]);
  });
  assert.equal(process.listenerCount(SIG), 0);
});

test("onSignal runs a task per delivery while it lives, and stops listening when cancelled", async () => {
  const seen: string[] = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        () =>
          onSignal(SIG, function* (signal) {
            yield* sleep(1);
            seen.push(signal);
          }),
        { daemon: true },
      );
      yield* listeners(1);
      for (let i = 1; i <= 3; i++) {
        process.kill(process.pid, SIG);
        while (seen.length < i) yield* sleep(2);
      }
    });
  });
  assert.deepEqual(seen, [SIG, SIG, SIG]);
  assert.equal(process.listenerCount(SIG), 0);
});

test("a failing onSignal body ends onSignal with its error; the listener goes", async () => {
  const outcome = await run(function* () {
    return yield* withTaskGroup<unknown>(function* (group) {
      const task = group.spawn(
        () =>
          onSignal(SIG, function* () {
            throw new Error("reload failed");
          }),
        { allowFailure: true },
      );
      yield* listeners(1);
      process.kill(process.pid, SIG);
      return yield* waitFor(task);
    });
  });
  assert.equal((outcome as Error).message, "reload failed");
  assert.equal(process.listenerCount(SIG), 0);
});

test("cancelling onSignal cancels the bodies still running and waits for them", async () => {
  let cleaned = false;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() =>
        onSignal(SIG, function* () {
          try {
            yield* sleep(10_000);
          } finally {
            cleaned = true;
          }
        }),
      );
      yield* listeners(1);
      process.kill(process.pid, SIG);
      yield* sleep(30);
      task.cancel();
      const outcome = yield* waitFor(task);
      assert.ok(outcome instanceof Cancelled);
      assert.ok(cleaned, "the running body was cancelled before onSignal ended");
    });
  });
  assert.equal(process.listenerCount(SIG), 0);
});

function* waitFor(task: { wait(): Operation<unknown> }): Operation<unknown> {
  try {
    yield* task.wait();
    return undefined;
  } catch (e) {
    return e;
  }
}

test("bad input: signal names and bodies are checked", async () => {
  await run(function* () {
    for (const [op, pattern, kind] of [
      [() => waitSignal("SIGNOPE" as NodeJS.Signals), /waitSignal\(\): signal must be a signal name of this platform/, RangeError],
      [() => waitSignal(2 as unknown as NodeJS.Signals), /waitSignal\(\): signal must be a signal name/, TypeError],
      [() => waitSignal("SIGKILL"), /waitSignal\(\): signal: SIGKILL cannot be handled/, RangeError],
      [() => onSignal("SIGSTOP", function* () {}), /onSignal\(\): signal: SIGSTOP cannot be handled/, RangeError],
      [() => onSignal(SIG, "x" as unknown as () => Operation<void>), /onSignal\(\): body must be a function/, TypeError],
    ] as const) {
      const error = yield* waitFor({ wait: op as () => Operation<unknown> });
      assert.ok(error instanceof kind, `${pattern}: ${String(error)}`);
      assert.match((error as Error).message, pattern);
    }
  });
  assert.equal(process.listenerCount(SIG), 0);
});
