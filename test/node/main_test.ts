/**
 * `main(body)` (docs/semantics.md, «Drivers»; issue 7), each case in a
 * real child `node` process running a small script that imports the built
 * weft/node: SIGINT and SIGTERM cancel the program, its `finally` blocks run,
 * and it then dies by that signal (130/143 in a shell); a second signal does
 * not wait for the cleanup; an uncaught error prints its stack and exits 1; a
 * deadlock is reported and exits 1; child processes are gone before main
 * ends; a signal a task waits for is that task's.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { main } from "../../src/node.ts";
import { eventually, isGone, startNode, tempDir, writeScript } from "./child.ts";

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Gone already.
  }
}

let dir: { path: string; remove(): void };
before(() => {
  dir = tempDir("weft-main-");
});
after(() => dir.remove());

/** A program that prints "ready", sleeps, and reports its `finally`. */
const SLEEPER = `
import { protectFromCancel, sleep } from "@WEFT@";
import { main, stdout } from "@NODE@";
main(function* () {
  try {
    yield* stdout.write("ready\\n");
    yield* sleep(10_000);
    yield* stdout.write("woke up (wrong)\\n");
  } finally {
    // Cleanup that suspends (even a write) is shielded: in a cancelled task an
    // unshielded operation throws Cancelled before it starts.
    yield* protectFromCancel(function* () {
      yield* sleep(20);
      yield* stdout.write("finally ran\\n");
    });
  }
});
`;

test("SIGINT cancels main: finally blocks run, then the process ends by SIGINT", async () => {
  const child = startNode(writeScript(dir.path, "sigint", SLEEPER));
  await child.line("ready");
  child.child.kill("SIGINT");
  const done = await child.done;
  assert.equal(done.signal, "SIGINT", `code ${done.code}\n${done.stderr}`);
  assert.deepEqual(done.stdout.split("\n"), ["ready", "finally ran", ""]);
  assert.equal(done.stderr, "", "a cancellation by signal is not an error to print");
});

test("in a shell, the status after SIGINT is 130 and after SIGTERM 143", () => {
  const file = writeScript(dir.path, "shell", SLEEPER);
  for (const [signal, status] of [
    ["INT", "130"],
    ["TERM", "143"],
  ] as const) {
    // The shell starts node, waits for "ready", signals node only, and prints node's status.
    // One file per signal: the background job truncates its file only once it runs, so a shared
    // file could still show the previous run's "ready" and the signal would come too early.
    const script = `'${process.execPath}' '${file}' > out-${signal}.txt & pid=$!
      i=0; until grep -q ready out-${signal}.txt 2>/dev/null; do sleep 0.05; i=$((i+1)); [ $i -gt 300 ] && break; done
      kill -${signal} $pid; wait $pid; echo "status $?"; cat out-${signal}.txt`;
    const result = spawnSync("/bin/sh", ["-c", script], { cwd: dir.path, encoding: "utf8", timeout: 20_000 });
    const report = `SIG${signal}: stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr)}`;
    assert.equal(result.stdout.split("\n")[0], `status ${status}`, report);
    assert.match(result.stdout, /finally ran/, report);
  }
});

test("SIGTERM cancels main the same way and ends it by SIGTERM", async () => {
  const child = startNode(writeScript(dir.path, "sigterm", SLEEPER));
  await child.line("ready");
  child.child.kill("SIGTERM");
  const done = await child.done;
  assert.equal(done.signal, "SIGTERM", done.stderr);
  assert.match(done.stdout, /finally ran/);
});

test("a second SIGINT during a slow cleanup ends the process at once", async () => {
  const file = writeScript(
    dir.path,
    "second",
    `
import { sleep, protectFromCancel } from "@WEFT@";
import { main, stdout } from "@NODE@";
main(function* () {
  try {
    yield* stdout.write("ready\\n");
    yield* sleep(10_000);
  } finally {
    yield* protectFromCancel(function* () {
      yield* stdout.write("cleaning\\n");
      yield* sleep(10_000);
      yield* stdout.write("cleanup finished (wrong)\\n");
    });
  }
});
`,
  );
  const child = startNode(file);
  await child.line("ready");
  child.child.kill("SIGINT");
  await child.line("cleaning");
  child.child.kill("SIGINT");
  const done = await child.done;
  assert.equal(done.signal, "SIGINT", done.stderr);
  assert.ok(!done.stdout.includes("wrong"), done.stdout);
});

test("an uncaught error prints its stack to stderr and exits 1", async () => {
  const file = writeScript(
    dir.path,
    "throws",
    `
import { sleep } from "@WEFT@";
import { main } from "@NODE@";
main(function* failing() {
  yield* sleep(1);
  throw new Error("kaboom");
});
`,
  );
  const done = await startNode(file).done;
  assert.equal(done.code, 1);
  assert.match(done.stderr, /Error: kaboom/);
  assert.match(done.stderr, /at failing .*throws\.mjs/, "the stack names the throwing function");
});

test("a normal end exits 0, or with process.exitCode if the program set it", async () => {
  const ok = await startNode(writeScript(dir.path, "ok", `import { main } from "@NODE@"; main(function* () {});`)).done;
  assert.deepEqual([ok.code, ok.signal, ok.stderr], [0, null, ""]);
  const three = await startNode(
    writeScript(dir.path, "three", `import { main } from "@NODE@"; main(function* () { process.exitCode = 3; });`),
  ).done;
  assert.equal(three.code, 3);
});

test("a deadlock under main prints the report and exits 1", async () => {
  const file = writeScript(
    dir.path,
    "deadlock",
    `
import { Semaphore } from "@WEFT@";
import { main } from "@NODE@";
main(function* () {
  yield* new Semaphore(1, 0).acquire();
});
`,
  );
  const done = await startNode(file).done;
  assert.equal(done.code, 1);
  assert.match(done.stderr, /deadlock detected: 1 task\(s\) are blocked/);
});

test("main ends only once the child processes it owned have been terminated and reaped", async () => {
  const file = writeScript(
    dir.path,
    "children",
    `
import { sleep } from "@WEFT@";
import { main, spawnProcess, stdout } from "@NODE@";
main(function* () {
  // The child ignores SIGTERM, so it lives on until SIGKILL after the grace period.
  const child = yield* spawnProcess(process.execPath, ["-e", "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"], { stdout: "pipe", gracePeriod: 300 });
  yield* child.stdout.readLine();
  yield* stdout.write("child " + child.pid + "\\nready\\n");
  yield* sleep(10_000);
});
`,
  );
  const child = startNode(file);
  await child.line("ready");
  const pid = Number(/child (\d+)/.exec(child.stdout)![1]);
  assert.ok(!isGone(pid));
  child.child.kill("SIGINT");
  const done = await child.done;
  assert.equal(done.signal, "SIGINT", done.stderr);
  assert.ok(isGone(pid), "the grandchild outlived main");
});

/** A program whose task starts `sh` with a background sleeper, prints both pids, and calls process.exit(). */
function exitingProgram(entry: "main" | "run"): string {
  return `
import { run } from "@WEFT@";
import { main, spawnProcess, stdout } from "@NODE@";
${entry}(function* () {
  // stderr ignored: a leftover sleeper must not hold the test's pipe open.
  const shell = yield* spawnProcess("sh", ["-c", "sleep 300 & echo $!; wait"], { stdout: "pipe", stderr: "ignore" });
  const sleeper = yield* shell.stdout.readLine();
  yield* stdout.write("pids " + shell.pid + " " + sleeper + "\\n");
  process.exit(0);
});
`;
}

for (const entry of ["main", "run"] as const) {
  test(`process.exit() inside a task under ${entry}() kills the child and its process group on the way out`, {
    timeout: 60_000,
  }, async () => {
    const done = await startNode(writeScript(dir.path, `exit-${entry}`, exitingProgram(entry))).done;
    const pids = (/pids (\d+) (\d+)/.exec(done.stdout) ?? []).slice(1).map(Number);
    try {
      assert.equal(pids.length, 2, `stdout ${JSON.stringify(done.stdout)}, stderr ${JSON.stringify(done.stderr)}`);
      assert.equal(done.code, 0, done.stderr);
      const gone = await eventually(() => pids.every(isGone));
      assert.ok(gone, `still running: ${pids.filter((pid) => !isGone(pid)).join(", ")}`);
    } finally {
      for (const pid of pids) killQuietly(pid);
    }
  });
}

test("without main, a SIGINT that kills the program first terminates the children's process groups", { timeout: 60_000 }, async () => {
  const file = writeScript(
    dir.path,
    "plain-sigint",
    `
import { run } from "@WEFT@";
import { spawnProcess, stdout } from "@NODE@";
await run(function* () {
  const shell = yield* spawnProcess("sh", ["-c", "sleep 300 & echo $!; wait"], { stdout: "pipe", stderr: "ignore" });
  const sleeper = yield* shell.stdout.readLine();
  yield* stdout.write("pids " + shell.pid + " " + sleeper + "\\nready\\n");
  yield* shell.wait();
});
`,
  );
  const child = startNode(file);
  await child.line("ready");
  const pids = (/pids (\d+) (\d+)/.exec(child.stdout) ?? []).slice(1).map(Number);
  try {
    assert.equal(pids.length, 2, child.stdout);
    // As a terminal's Ctrl-C would, but to this process only.
    child.child.kill("SIGINT");
    const done = await child.done;
    assert.equal(done.signal, "SIGINT", `code ${done.code}, stderr ${done.stderr}`);
    const gone = await eventually(() => pids.every(isGone));
    assert.ok(gone, `still running: ${pids.filter((pid) => !isGone(pid)).join(", ")}`);
  } finally {
    for (const pid of pids) killQuietly(pid);
  }
});

test("when main's body returns, root tasks (a nested run, a Lazy worker) are cancelled and their finally blocks run before the exit", {
  timeout: 60_000,
}, async () => {
  const file = writeScript(
    dir.path,
    "roots",
    `
import { Lazy, protectFromCancel, run, sleep, withTimeoutOpt } from "@WEFT@";
import { main, stdout } from "@NODE@";
function* slowCleanup(name) {
  try {
    yield* sleep(600_000);
  } finally {
    yield* protectFromCancel(function* () {
      yield* sleep(100);
      yield* stdout.write(name + " finally ran\\n");
    });
  }
}
main(function* () {
  // A run started from inside the program: a root task, outside main's group.
  run(() => slowCleanup("nested run")).catch(() => {});
  // A Lazy worker is a root task too; its only waiter gives up, which cancels it.
  const lazy = new Lazy(() => slowCleanup("lazy worker"));
  yield* withTimeoutOpt(50, () => lazy.wait());
  yield* stdout.write("body done\\n");
});
`,
  );
  const done = await startNode(file).done;
  assert.equal(done.code, 0, done.stderr);
  const lines = done.stdout.split("\n").filter((line) => line !== "");
  assert.equal(lines[0], "body done", done.stdout);
  assert.deepEqual([...lines.slice(1)].sort(), ["lazy worker finally ran", "nested run finally ran"], done.stdout);
});

test("main waits for root tasks only within reason: one that never ends is reported and the program exits", {
  timeout: 60_000,
}, async () => {
  const file = writeScript(
    dir.path,
    "stuck-root",
    `
import { protectFromCancel, run, sleep } from "@WEFT@";
import { main, stdout } from "@NODE@";
main(function* () {
  run(function* () {
    try {
      yield* sleep(600_000);
    } finally {
      yield* protectFromCancel(() => sleep(600_000));
    }
  }).catch(() => {});
  yield* stdout.write("body done\\n");
}, { cleanupLimit: 200 });
`,
  );
  const done = await startNode(file).done;
  assert.equal(done.stdout, "body done\n");
  assert.match(done.stderr, /1 task\(s\) still running/);
  assert.equal(done.code, 0, "the body succeeded");
});

test("a SIGINT that a task waits for is that task's; the next one cancels main", async () => {
  const file = writeScript(
    dir.path,
    "claimed",
    `
import { protectFromCancel, sleep } from "@WEFT@";
import { main, stdout, waitSignal } from "@NODE@";
main(function* () {
  try {
    yield* stdout.write("ready\\n");
    yield* waitSignal("SIGINT");
    yield* stdout.write("handled\\n");
    yield* sleep(10_000);
  } finally {
    yield* protectFromCancel(() => stdout.write("finally ran\\n"));
  }
});
`,
  );
  const child = startNode(file);
  await child.line("ready");
  child.child.kill("SIGINT");
  await child.line("handled");
  child.child.kill("SIGINT");
  const done = await child.done;
  assert.equal(done.signal, "SIGINT", done.stderr);
  assert.deepEqual(done.stdout.split("\n"), ["ready", "handled", "finally ran", ""]);
});

test("a program waiting for a signal stays alive until it comes", async () => {
  const file = writeScript(
    dir.path,
    "waits",
    `
import { main, stdout, waitSignal } from "@NODE@";
main(function* () {
  yield* stdout.write("ready\\n");
  yield* waitSignal("SIGUSR2");
  yield* stdout.write("got it\\n");
});
`,
  );
  const child = startNode(file);
  await child.line("ready");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(child.child.exitCode, null, "it must still be running");
  child.child.kill("SIGUSR2");
  const done = await child.done;
  assert.deepEqual([done.code, done.stdout], [0, "ready\ngot it\n"]);
});

test("main() called twice throws WeftUsageError", async () => {
  const file = writeScript(
    dir.path,
    "twice",
    `
import { main } from "@NODE@";
main(function* () {});
try { main(function* () {}); } catch (e) { console.log(e.name + ": " + e.message); }
`,
  );
  const done = await startNode(file).done;
  assert.equal(done.code, 0);
  assert.match(done.stdout, /^WeftUsageError: main\(\): a program has one main/);
});

test("bad input to main throws before anything starts", () => {
  assert.throws(() => main(42 as unknown as () => never), /main\(\): body must be a function/);
  assert.throws(() => main(function* () {}, { signals: ["SIGNOPE" as NodeJS.Signals] }), RangeError);
  assert.throws(() => main(function* () {}, { signals: "SIGINT" as unknown as NodeJS.Signals[] }), /options\.signals must be an array/);
  assert.throws(() => main(function* () {}, { debug: "yes" as unknown as boolean }), /options\.debug must be a boolean/);
  assert.throws(() => main(function* () {}, null as unknown as {}), TypeError);
  for (const bad of [-1, Number.NaN, Infinity, "5"]) {
    assert.throws(() => main(function* () {}, { cleanupLimit: bad as number }), /main\(\): options\.cleanupLimit must be/);
  }
});
