/**
 * `runProcess`: run a command to completion and collect its output.
 */
import { describe, type Operation } from "../../core/operation.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { Data } from "../../io/data.ts";
import type { ExitStatus } from "./children.ts";
import { planSpawn, spawnPlanned, type SpawnProcessOptions } from "./spawn.ts";

/**
 * Options for {@link runProcess}: those of {@link spawnProcess}, plus `input`.
 * The stdio defaults differ: stdin `"ignore"` (or a pipe fed with `input`),
 * stdout and stderr `"pipe"` (collected).
 *
 * @example
 * ```ts
 * const options: RunProcessOptions = { input: "b\na\n", cwd: "/tmp", stderr: "inherit" };
 * ```
 */
export interface RunProcessOptions extends SpawnProcessOptions {
  /** Written to the child's stdin, which is then closed. Not together with `stdin`. */
  input?: string | Uint8Array;
}

/**
 * What {@link runProcess} collected. `stdout` and `stderr` hold everything the
 * child wrote there (empty when that stream was not `"pipe"`); view them with
 * `.text()`, `.bytes()` or `.json()`.
 *
 * @example
 * ```ts
 * const { code, stdout } = yield* runProcess(process.execPath, ["--version"]);
 * if (code === 0) console.log(stdout.text().trim().startsWith("v")); // prints true
 * ```
 */
export interface ProcessOutput extends ExitStatus {
  /** Everything the child wrote to its standard output. */
  stdout: Data;
  /** Everything the child wrote to its standard error. */
  stderr: Data;
}

const EMPTY = new Data(new Uint8Array(0));

/**
 * Runs `cmd` with `args` until it exits and returns its exit status with all
 * it wrote to stdout and stderr, read concurrently so that a child writing a
 * lot to one while this process waits on the other cannot deadlock. A
 * non-zero exit code is returned, not thrown; a command that cannot be
 * started throws as in {@link spawnProcess}.
 *
 * Cancelling the task terminates the child (SIGTERM, then SIGKILL after
 * `gracePeriod`) and `runProcess` throws `Cancelled` only once the child has
 * exited, so a timeout around it leaves no process behind. The output is
 * collected in memory, without a limit.
 *
 * @example
 * ```ts
 * import { runProcess } from "weftjs/node";
 * import { withTimeoutOpt } from "weftjs";
 *
 * const slowTests = ["-e", "setTimeout(() => {}, 60_000)"]; // a test run that hangs
 * const result = yield* withTimeoutOpt(200, () => runProcess(process.execPath, slowTests));
 * if (result === undefined) console.log("tests took too long (and were stopped)"); // prints that
 * else if (result.code !== 0) console.error(result.stderr.text());
 * ```
 */
export function* runProcess(cmd: string, args?: readonly string[], options?: RunProcessOptions): Operation<ProcessOutput> {
  const api = "runProcess()";
  const input = (options as { input?: unknown } | undefined)?.input;
  if (input !== undefined) {
    if (typeof input !== "string" && !(input instanceof Uint8Array)) {
      throw new TypeError(`${api}: options.input must be a string or a Uint8Array, got ${describe(input)}`);
    }
    if (options!.stdin !== undefined) throw new TypeError(`${api}: options.input and options.stdin cannot both be given`);
  }
  const checked = planSpawn(api, cmd, args, options, {
    stdin: input === undefined ? "ignore" : "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  using proc = yield* spawnPlanned(api, checked.cmd, checked.args, checked.plan);
  return yield* withTaskGroup<ProcessOutput>(function* (group) {
    if (input !== undefined) {
      group.startSoon(function* () {
        try {
          yield* proc.stdin.write(input);
        } catch (error) {
          // A child that exits without reading all its input is its own business.
          if ((error as { code?: unknown } | null)?.code !== "EPIPE") throw error;
        } finally {
          proc.stdin.close();
        }
      });
    }
    const stdout = checked.plan.stdout.kind === "pipe" ? group.spawn(() => proc.stdout.readAll()) : null;
    const stderr = checked.plan.stderr.kind === "pipe" ? group.spawn(() => proc.stderr.readAll()) : null;
    const status = yield* proc.wait();
    return {
      code: status.code,
      signal: status.signal,
      stdout: stdout === null ? EMPTY : yield* stdout.wait(),
      stderr: stderr === null ? EMPTY : yield* stderr.wait(),
    };
  });
}
