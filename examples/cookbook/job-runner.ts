/**
 * Recipe: a job runner with a global timeout that leaves no process behind.
 *
 *   node dist/examples/cookbook/job-runner.js [--parallel N] [--timeout MS] [--grace MS] -- 'command' ...
 *
 * Runs each command with `/bin/sh -c`, at most N at a time (default 2). When
 * the timeout (default 10 s) expires, every job still running or waiting is
 * cancelled: each running command's whole process group gets SIGTERM, then
 * SIGKILL after the grace period (default 1 s), and the runner exits only once
 * they are gone, with status 124 as timeout(1) does. Otherwise the status is
 * 0 when every command succeeded, else 1.
 *
 *   node dist/examples/cookbook/job-runner.js --timeout 2000 -- 'sleep 1; echo one' 'sleep 5; echo two'
 */
import process from "node:process";
import { all, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { main, spawnProcess } from "../../src/node.ts";

type Outcome = { state: "waiting" } | { state: "running"; pid: number } | { state: "exited"; code: number | null; signal: string | null };

function usage(): never {
  console.error("usage: job-runner [--parallel N] [--timeout MS] [--grace MS] -- command ...");
  process.exit(2);
}

const args = process.argv.slice(2);
const options = { parallel: 2, timeout: 10_000, grace: 1000 };
while (args.length > 0 && args[0] !== "--") {
  const [flag, value] = args.splice(0, 2);
  const key = flag?.replace(/^--/, "");
  if (key !== "parallel" && key !== "timeout" && key !== "grace") usage();
  options[key] = Number(value);
  if (!Number.isInteger(options[key]) || options[key] < 0) usage();
}
const commands = args.slice(1);
if (commands.length === 0 || options.parallel < 1) usage();

function* runJob(index: number, command: string, outcomes: Outcome[]): Operation<void> {
  // The child belongs to this task: if the task is cancelled (the timeout),
  // its process group is terminated and the task ends only once it exited.
  const child = yield* spawnProcess("/bin/sh", ["-c", command], {
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit",
    gracePeriod: options.grace,
  });
  outcomes[index] = { state: "running", pid: child.pid };
  console.log(`[job ${index + 1}] started, pid ${child.pid}: ${command}`);
  const status = yield* child.wait();
  outcomes[index] = { state: "exited", ...status };
  console.log(`[job ${index + 1}] exited with ${status.code ?? status.signal}`);
}

main(function* () {
  // Filled in as the jobs go, so the report is complete even when the
  // timeout cuts `all` short (an allSettled would hand these back itself).
  const outcomes: Outcome[] = commands.map(() => ({ state: "waiting" }));
  const jobs = commands.map((command, index) => () => runJob(index, command, outcomes));
  const finished = yield* withTimeoutOpt(options.timeout, () => all(jobs, { maxConcurrent: options.parallel }));
  // Here every job's task has ended, so every child has exited: nothing runs on.
  const failed = outcomes.filter((o) => o.state === "exited" && o.code !== 0).length;
  if (finished === undefined) {
    const cut = outcomes.filter((o) => o.state === "running").length;
    const never = outcomes.filter((o) => o.state === "waiting").length;
    console.log(`timed out after ${options.timeout} ms: ${cut} jobs stopped, ${never} never started, ${failed} failed`);
    process.exitCode = 124;
  } else {
    console.log(`all ${commands.length} jobs finished, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  }
});
