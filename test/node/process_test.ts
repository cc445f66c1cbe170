/**
 * Child processes (docs/semantics.md, «IO»; issue 7): spawnProcess with each stdio
 * mode and with files, wait/kill/exitStatus, environment and cwd, spawn
 * errors that keep their code and name the command, and structured
 * termination: a cancelled owner, a cancelled wait(), a disposed handle or an
 * ended owner terminates the child (SIGTERM, then SIGKILL after the grace
 * period) and no pid is left behind. runProcess collects both pipes at once.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Cancelled,
  WeftUsageError,
  protectFromCancel,
  run,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
} from "../../src/index.ts";
import { runProcess, spawnProcess, type Process } from "../../src/node.ts";
import { countSettled, isGone, tempDir } from "./child.ts";

const NODE = process.execPath;
let dir: { path: string; remove(): void };
before(() => {
  dir = tempDir("weft-process-");
});
after(() => dir.remove());

/** A node child that prints "ready" once it ignores SIGTERM, then idles. */
const STUBBORN = ["-e", "process.on('SIGTERM', () => console.log('ignored SIGTERM')); console.log('ready'); setInterval(() => {}, 1000)"];

function* readyLine(proc: Process): Operation<void> {
  assert.equal(yield* proc.stdout.readLine(), "ready");
}

test("stdout and stderr as pipes; exit code; exitStatus is undefined while running", async () => {
  await run(function* () {
    const proc = yield* spawnProcess("sh", ["-c", "read x; echo out:$x; echo err >&2; exit 7"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    assert.equal(typeof proc.pid, "number");
    assert.equal(proc.exitStatus, undefined);
    yield* proc.stdin.write("hello\n");
    proc.stdin.close();
    assert.equal(yield* proc.stdout.readLine(), "out:hello");
    assert.equal(yield* proc.stdout.readLine(), undefined);
    assert.equal((yield* proc.stderr.readAll()).text(), "err\n");
    assert.deepEqual(yield* proc.wait(), { code: 7, signal: null });
    assert.deepEqual(proc.exitStatus, { code: 7, signal: null });
    // A second wait answers at once with the same status.
    assert.deepEqual(yield* proc.wait(), { code: 7, signal: null });
    proc.close();
  });
});

test("closing a child's stdin without writing gives it end of stream", async () => {
  await run(function* () {
    using proc = yield* spawnProcess("wc", ["-c"], { stdin: "pipe", stdout: "pipe" });
    proc.stdin.close();
    assert.equal((yield* proc.stdout.readAll()).text().trim(), "0");
    assert.equal((yield* proc.wait()).code, 0);
  });
});

test("stdio not piped: the handle's stream throws WeftUsageError naming the option", async () => {
  await run(function* () {
    using proc = yield* spawnProcess("true", [], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    assert.throws(
      () => proc.stdin,
      (e: unknown) => e instanceof WeftUsageError && /stdin: "pipe"/.test(e.message),
    );
    assert.throws(() => proc.stdout, WeftUsageError);
    assert.throws(() => proc.stderr, WeftUsageError);
    assert.equal((yield* proc.wait()).code, 0);
  });
});

test('"ignore" gives the child an empty stdin and discards its output', async () => {
  await run(function* () {
    const result = yield* runProcess("sh", ["-c", "cat; echo done"], { stdin: "ignore" });
    assert.equal(result.stdout.text(), "done\n");
    const quiet = yield* runProcess("sh", ["-c", "echo lost; echo lost >&2"], { stdout: "ignore", stderr: "ignore" });
    assert.equal(quiet.stdout.length + quiet.stderr.length, 0);
    assert.equal(quiet.code, 0);
  });
});

test('"inherit" passes this process\'s streams through (checked in a child that inherits from a piped parent)', async () => {
  // The grandchild writes to stdout and stderr it inherited from the `sh` we read.
  await run(function* () {
    const script = `
      import { run } from "${new URL("../../src/index.js", import.meta.url).href}";
      import { spawnProcess } from "${new URL("../../src/node.js", import.meta.url).href}";
      await run(function* () {
        const p = yield* spawnProcess("sh", ["-c", "read line; echo got:$line; echo to-err >&2"]);
        yield* p.wait();
      });`;
    const file = join(dir.path, "inherit.mjs");
    writeFileSync(file, script);
    const result = yield* runProcess(NODE, [file], { input: "typed\n" });
    assert.equal(result.code, 0, result.stderr.text());
    assert.equal(result.stdout.text(), "got:typed\n");
    assert.equal(result.stderr.text(), "to-err\n");
  });
});

test("files: stdin from a path, stdout truncates, append appends, stdout and stderr to one file keep their order", async () => {
  const input = join(dir.path, "in.txt");
  const out = join(dir.path, "out.txt");
  const both = join(dir.path, "both.txt");
  writeFileSync(input, "from a file\n");
  writeFileSync(out, "old content that must go away\n");
  await run(function* () {
    let status = yield* (yield* spawnProcess("cat", [], { stdin: input, stdout: out })).wait();
    assert.equal(status.code, 0);
    assert.equal(readFileSync(out, "utf8"), "from a file\n");
    status = yield* (yield* spawnProcess("echo", ["more"], { stdout: { path: out, append: true } })).wait();
    assert.equal(status.code, 0);
    assert.equal(readFileSync(out, "utf8"), "from a file\nmore\n");
    const proc = yield* spawnProcess("sh", ["-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2"], { stdout: both, stderr: both });
    yield* proc.wait();
    assert.equal(readFileSync(both, "utf8"), "1\n2\n3\n4\n");
  });
});

test("a stdin path that does not exist: ENOENT naming spawnProcess and the path, and nothing is started", async () => {
  const missing = join(dir.path, "no-such-input");
  const before = await countSettled("ProcessWrap");
  await run(function* () {
    const error = yield* catching(() => spawnProcess("cat", [], { stdin: missing }));
    assert.equal((error as { code?: string }).code, "ENOENT");
    assert.equal((error as { path?: string }).path, missing);
    assert.match((error as Error).message, /^spawnProcess\(\): ENOENT/);
    assert.ok((error as Error).message.includes(missing));
  });
  assert.equal(await countSettled("ProcessWrap"), before, "no child process handle left");
});

test("a missing command throws ENOENT with the command named; so does a missing cwd", async () => {
  await run(function* () {
    const error = yield* catching(() => spawnProcess("weft-no-such-command", ["x"]));
    assert.equal((error as { code?: string }).code, "ENOENT");
    assert.equal((error as { errno?: number }).errno, -2);
    assert.match((error as Error).message, /^spawnProcess\(\): ENOENT: .*"weft-no-such-command"/);
    const viaRun = yield* catching(() => runProcess("weft-no-such-command"));
    assert.match((viaRun as Error).message, /^runProcess\(\): ENOENT/);
    const badCwd = yield* catching(() => spawnProcess("true", [], { cwd: join(dir.path, "nowhere") }));
    assert.equal((badCwd as { code?: string }).code, "ENOENT");
    assert.match((badCwd as Error).message, /cwd .*nowhere/);
  });
});

test("env adds to the inherited environment, undefined removes, inheritEnv: false starts empty; cwd is honoured", async () => {
  process.env["WEFT_TEST_INHERITED"] = "yes";
  try {
    await run(function* () {
      const show = "echo ${WEFT_TEST_INHERITED:-unset} ${WEFT_TEST_ADDED:-unset}; pwd";
      let r = yield* runProcess("/bin/sh", ["-c", show], { env: { WEFT_TEST_ADDED: "added" }, cwd: dir.path });
      assert.equal(r.stdout.text(), `yes added\n${dir.path}\n`);
      r = yield* runProcess("/bin/sh", ["-c", show], { env: { WEFT_TEST_INHERITED: undefined } });
      assert.equal(r.stdout.text().split("\n")[0], "unset unset");
      r = yield* runProcess("/bin/sh", ["-c", "env"], { inheritEnv: false, env: { ONLY: "this" } });
      const names = r.stdout
        .text()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("=")[0]);
      assert.ok(names.includes("ONLY"));
      assert.ok(!names.includes("WEFT_TEST_INHERITED"));
      assert.ok(!names.includes("HOME"));
    });
  } finally {
    delete process.env["WEFT_TEST_INHERITED"];
  }
});

test("kill(signal) sends that signal; wait() reports it", async () => {
  await run(function* () {
    const proc = yield* spawnProcess("sleep", ["10"]);
    proc.kill("SIGUSR1");
    assert.deepEqual(yield* proc.wait(), { code: null, signal: "SIGUSR1" });
    proc.kill(); // after exit: nothing happens
    assert.ok(isGone(proc.pid));
  });
});

test("cancelling the owner terminates the child with SIGTERM and, waited for, its pid is gone", async () => {
  await run(function* () {
    let proc: Process | undefined;
    // The owner is cancelled once its child runs, however long the spawn took on a busy host.
    yield* withTaskGroup<void>(function* (group) {
      const owner = group.spawn(function* () {
        proc = yield* spawnProcess("sleep", ["10"]);
        return yield* proc.wait();
      });
      while (proc === undefined) yield* sleep(5);
      owner.cancel();
    });
    assert.deepEqual(proc!.exitStatus, { code: null, signal: "SIGTERM" });
    assert.ok(isGone(proc!.pid), "the child's pid must be gone once its owner ended");
  });
});

test("withTimeoutOpt around runProcess('sleep', ['10']) kills the child: the pid is gone afterwards", async () => {
  const before = await countSettled("ProcessWrap", "PipeWrap");
  const pidFile = join(dir.path, "sleep.pid");
  await run(function* () {
    // The shell writes its pid, then becomes `sleep` (exec), so the pid is the sleeper's.
    const started = Date.now();
    const result = yield* withTimeoutOpt(300, () => runProcess("sh", ["-c", `echo $$ > '${pidFile}'; exec sleep 10`]));
    assert.equal(result, undefined);
    assert.ok(Date.now() - started < 9000, "the sleeper must not have run to its end");
    // On a stalled host the timeout can fire before the shell wrote its pid
    // (or before it started): then there is no sleeper to look for, only the
    // handle count below.
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8"));
      if (pid > 0) assert.ok(isGone(pid), `pid ${pid} is still there`);
    }
  });
  assert.equal(await countSettled("ProcessWrap", "PipeWrap"), before, "no child or pipe handle left");
});

test("a child that ignores SIGTERM gets SIGKILL after the grace period, and the cancellation waits for it", async () => {
  await run(function* () {
    let proc: Process | undefined;
    let ready = false;
    let cancelledAt = 0;
    let said: string | undefined;
    yield* withTaskGroup<void>(function* (group) {
      const owner = group.spawn(function* () {
        proc = yield* spawnProcess(NODE, STUBBORN, { stdout: "pipe", gracePeriod: 400 });
        yield* readyLine(proc);
        ready = true;
        try {
          yield* proc.wait();
        } finally {
          // The pipes go with the owner, so what the child said is read here.
          said = yield* protectFromCancel(() => proc!.stdout.readLine());
        }
      });
      while (!ready) yield* sleep(10);
      cancelledAt = Date.now();
      owner.cancel();
      assert.ok((yield* catching(() => owner.wait())) instanceof Cancelled);
      // The owner's cancellation ended only once the child was gone.
      assert.deepEqual(proc!.exitStatus, { code: null, signal: "SIGKILL" });
    });
    assert.ok(isGone(proc!.pid));
    assert.ok(Date.now() - cancelledAt >= 350, "SIGKILL must come only after the grace period");
    // SIGTERM was sent first: the child saw it and said so.
    assert.equal(said, "ignored SIGTERM");
  });
});

test("a gracePeriod longer than a host timer holds (2^32 ms) does not turn into SIGKILL after 1 ms", { timeout: 60_000 }, async () => {
  await run(function* () {
    let ready = false;
    let statusAfterTerm: unknown = "not checked";
    yield* withTaskGroup<void>(function* (group) {
      const owner = group.spawn(function* () {
        const proc = yield* spawnProcess(NODE, STUBBORN, { stdout: "pipe", gracePeriod: 2 ** 32 });
        yield* readyLine(proc);
        ready = true;
        try {
          yield* sleep(600_000);
        } finally {
          yield* protectFromCancel(function* () {
            // The cancellation sent SIGTERM; the child ignores it and says so.
            assert.equal(yield* proc.stdout.readLine(), "ignored SIGTERM");
            // A clamped timer would have sent SIGKILL 1 ms after SIGTERM.
            yield* sleep(200);
            statusAfterTerm = proc.exitStatus;
            proc.kill("SIGKILL");
            yield* proc.wait();
          });
        }
      });
      while (!ready) yield* sleep(10);
      owner.cancel();
    });
    assert.equal(statusAfterTerm, undefined, "the child must still run within its grace period");
  });
});

test("gracePeriod: 0 sends SIGKILL at once", async () => {
  await run(function* () {
    let proc: Process | undefined;
    yield* withTaskGroup<void>(function* (group) {
      const owner = group.spawn(function* () {
        proc = yield* spawnProcess(NODE, STUBBORN, { stdout: "pipe", gracePeriod: 0 });
        yield* proc.wait();
      });
      while (proc === undefined) yield* sleep(5);
      owner.cancel();
    });
    assert.deepEqual(proc!.exitStatus, { code: null, signal: "SIGKILL" });
  });
});

test("a task that ends while its child runs terminates the child (it never outlives its owner)", async () => {
  const proc = await run(() => spawnProcess("sleep", ["10"]));
  assert.equal(proc.exitStatus, undefined);
  // Another task may still wait for the exit that the termination causes.
  const status = await run(() => proc.wait());
  assert.deepEqual(status, { code: null, signal: "SIGTERM" });
  assert.ok(isGone(proc.pid));
});

test("leaving a `using` block terminates the child; a child that exits by itself is left alone", async () => {
  const outer = await run(function* () {
    let kept: Process;
    {
      using proc = yield* spawnProcess("sleep", ["10"]);
      kept = proc;
    }
    const ran = yield* spawnProcess("sh", ["-c", "exit 3"]);
    assert.deepEqual(yield* ran.wait(), { code: 3, signal: null });
    return yield* kept.wait();
  });
  assert.deepEqual(outer, { code: null, signal: "SIGTERM" });
});

test("spawnProcess in a task that is already cancelled throws Cancelled and starts nothing", async () => {
  const before = await countSettled("ProcessWrap");
  const outcome = await run(function* () {
    return yield* withTaskGroup<unknown>(function* (group) {
      const task = group.spawn(function* () {
        try {
          yield* sleep(10_000);
        } catch {
          // Cancelled, and still cancelled: the entry check must refuse.
        }
        return yield* catching(() => spawnProcess("sleep", ["10"]));
      });
      yield* sleep(5);
      task.cancel();
      return yield* task.wait();
    });
  });
  assert.ok(outcome instanceof Cancelled, `expected Cancelled, got ${String(outcome)}`);
  assert.equal(await countSettled("ProcessWrap"), before, "no child process handle left");
});

test("a child started in the shielded cleanup of a cancelled task runs to completion", async () => {
  const outcome = await run(function* () {
    return yield* withTaskGroup<unknown>(function* (group) {
      const task = group.spawn(function* () {
        try {
          yield* sleep(10_000);
          return undefined;
        } finally {
          // Cleanup that must finish: shielded, so the cancellation does not reach it.
          const r = yield* protectFromCancel(() => runProcess("sh", ["-c", "sleep 0.2; echo cleaned"]));
          assert.deepEqual([r.code, r.stdout.text()], [0, "cleaned\n"]);
        }
      });
      yield* sleep(5);
      task.cancel();
      return yield* catching(() => task.wait());
    });
  });
  assert.ok(outcome instanceof Cancelled, String(outcome));
});

test("runProcess reads stdout and stderr concurrently: 1 MiB on stderr does not deadlock", async () => {
  await run(function* () {
    const script = "process.stderr.write('e'.repeat(1 << 20)); process.stdout.write('o'.repeat(1 << 20));";
    const r = yield* runProcess(NODE, ["-e", script]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr.length, 1 << 20);
    assert.equal(r.stdout.length, 1 << 20);
    assert.ok(r.stderr.bytes().every((b) => b === 0x65));
  });
});

test("runProcess: input is fed to stdin; a child that does not read it is fine; signal-killed status", async () => {
  await run(function* () {
    const big = "x".repeat(3 << 20);
    const r = yield* runProcess("wc", ["-c"], { input: big });
    assert.equal(r.stdout.text().trim(), String(big.length));
    const ignored = yield* runProcess("true", [], { input: big });
    assert.equal(ignored.code, 0);
    const killed = yield* runProcess("sh", ["-c", "kill -TERM $$"]);
    assert.deepEqual([killed.code, killed.signal], [null, "SIGTERM"]);
    const json = yield* runProcess(NODE, ["-e", "console.log(JSON.stringify({ a: 1 }))"], { stderr: "inherit" });
    assert.deepEqual(json.stdout.json(), { a: 1 });
    assert.equal(json.stderr.length, 0);
  });
});

test("no handles leak over 30 runs", async () => {
  const before = await countSettled("ProcessWrap", "PipeWrap");
  await run(function* () {
    for (let i = 0; i < 30; i++) {
      const r = yield* runProcess("echo", [String(i)]);
      assert.equal(r.stdout.text(), `${i}\n`);
    }
  });
  assert.equal(await countSettled("ProcessWrap", "PipeWrap"), before, "no child or pipe handle left");
});

test("bad input: TypeError/RangeError naming the function and the argument", async () => {
  await run(function* () {
    const cases: [() => Operation<unknown>, RegExp][] = [
      [() => spawnProcess(42 as unknown as string), /spawnProcess\(\): cmd must be a string/],
      [() => spawnProcess(""), /spawnProcess\(\): cmd must not be empty/],
      [() => spawnProcess("echo", "x" as unknown as string[]), /spawnProcess\(\): args must be an array/],
      [() => spawnProcess("echo", ["a\0b"]), /spawnProcess\(\): args\[0\] must not contain a NUL/],
      [() => spawnProcess("echo", [], { stdout: "" }), /options\.stdout must be/],
      [() => spawnProcess("echo", [], { stdin: { path: "x", append: true } }), /options\.stdin cannot append/],
      [() => spawnProcess("echo", [], { env: { A: 1 as unknown as string } }), /options\.env\.A must be a string/],
      [() => spawnProcess("echo", [], { env: { "A=B": "x" } }), /options\.env name "A=B"/],
      [() => spawnProcess("echo", [], { gracePeriod: -1 }), /options\.gracePeriod/],
      [() => spawnProcess("echo", [], { gracePeriod: Number.NaN }), /options\.gracePeriod/],
      [() => spawnProcess("echo", [], { gracePeriod: Infinity }), /options\.gracePeriod/],
      [() => spawnProcess("echo", [], { gracePeriod: "5" as unknown as number }), /options\.gracePeriod/],
      [
        () => spawnProcess("echo", [], { processGroup: "yes" as unknown as boolean }),
        /spawnProcess\(\): options\.processGroup must be a boolean/,
      ],
      [() => spawnProcess("echo", [], null as unknown as {}), /spawnProcess\(\): options must be an object/],
      [() => runProcess("cat", [], { input: 5 as unknown as string }), /runProcess\(\): options\.input must be/],
      [() => runProcess("cat", [], { input: "x", stdin: "pipe" }), /runProcess\(\): options\.input and options\.stdin/],
    ];
    for (const [op, pattern] of cases) {
      const error = yield* catching(op);
      assert.ok(error instanceof TypeError || error instanceof RangeError, `${pattern}: got ${String(error)}`);
      assert.match((error as Error).message, pattern);
    }
    const gp = yield* catching(() => spawnProcess("echo", [], { gracePeriod: -1 }));
    assert.ok(gp instanceof RangeError);
    using proc = yield* spawnProcess("sleep", ["10"]);
    assert.throws(() => proc.kill("SIGNOPE" as NodeJS.Signals), /Process\.kill\(\): signal must be a signal name/);
    for (const bad of [-1, 2.5, Number.NaN, Infinity, 1e9, 2 ** 31, 65]) {
      assert.throws(
        () => proc.kill(bad),
        (e: unknown) => e instanceof RangeError && /Process\.kill\(\): signal must be/.test(e.message),
        `kill(${bad})`,
      );
    }
    // -0 is 0: the probe, which sends nothing.
    proc.kill(-0);
    assert.equal(proc.exitStatus, undefined);
  });
  assert.throws(() => spawnProcess("echo").next(), WeftUsageError);
});

/** Runs `op` and returns what it threw, or undefined if it returned. */
function* catching(op: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* op();
    return undefined;
  } catch (error) {
    return error;
  }
}
