/**
 * `spawnProcess` and `Process`: a child process owned by the task that
 * started it (see docs/semantics.md, «IO»).
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { stat } from "node:fs";
import { constants } from "node:os";
import process from "node:process";
import { action } from "../../core/action.ts";
import { protectFromCancel } from "../../core/cancel.ts";
import { Cancelled, WeftUsageError } from "../../core/errors.ts";
import { describe, requireDuration, type Operation } from "../../core/operation.ts";
import { requireTask } from "../../core/scheduler.ts";
import { Child, type ExitStatus } from "./children.ts";
import { osErrorWithDetail } from "../os_error.ts";
import { closeQuietly, openForChild, planStdio, type StdioOption, type StdioPlan } from "./stdio_option.ts";
import { StreamReader, StreamWriter, type StreamReaderSource, type StreamWriterSource } from "./stream_io.ts";

/** The default time between SIGTERM and SIGKILL when a child is terminated (ms). */
export const DEFAULT_GRACE_PERIOD = 5000;

/**
 * Options for {@link spawnProcess} (and {@link runProcess}).
 *
 * @example
 * ```ts
 * const options: SpawnProcessOptions = {
 *   cwd: "/srv/app",
 *   env: { NODE_ENV: "production", DEBUG: undefined }, // added to (and removed from) this process's environment
 *   stdin: "ignore", stdout: "pipe", stderr: "logs/app.err",
 *   gracePeriod: 2000,
 * };
 * ```
 */
export interface SpawnProcessOptions {
  /** The child's working directory (default: this process's). */
  cwd?: string;
  /**
   * Variables set for the child on top of this process's environment; a value
   * of `undefined` removes that variable. With `inheritEnv: false` they are the
   * child's whole environment.
   */
  env?: Record<string, string | undefined>;
  /** Start from this process's environment (default true). */
  inheritEnv?: boolean;
  /** Default `"inherit"` for spawnProcess. */
  stdin?: StdioOption;
  /** Default `"inherit"` for spawnProcess. */
  stdout?: StdioOption;
  /** Default `"inherit"` for spawnProcess. */
  stderr?: StdioOption;
  /**
   * When the child is terminated (its owner cancelled or ended, its `wait()`
   * cancelled, the handle disposed): how long after SIGTERM to send SIGKILL,
   * in ms (default 5000; 0 sends SIGKILL at once).
   */
  gracePeriod?: number;
  /**
   * Start the child as the leader of a new process group (and session), and
   * send the termination signals to the whole group (default true), so that
   * what the child started (a shell's background jobs, a build tool's
   * workers) ends with it. `false` signals the child only; its descendants
   * are then its own business.
   *
   * In its own group, the child is no longer in the terminal's foreground
   * group, so a Ctrl-C at the terminal reaches this process only, not the
   * child directly: under {@link main} the Ctrl-C cancels the program, and
   * the child is terminated with its owner (SIGTERM, then SIGKILL); without
   * `main`, a SIGINT or SIGTERM that would end this process first terminates
   * the children the same way and waits for them (a second one does not). In its own session the child has no
   * controlling terminal, so a program that opens `/dev/tty` (a password
   * prompt, an editor) fails there: start such children with `false`. With
   * `false`, the child stays in this process's group and receives the
   * terminal's signals itself.
   * Either way, if this process exits (`process.exit()`) while children or
   * their groups are still there, they get SIGKILL as it exits.
   */
  processGroup?: boolean;
}

/** The checked options, in the form both entry points use. */
export interface SpawnPlan {
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
  stdin: StdioPlan;
  stdout: StdioPlan;
  stderr: StdioPlan;
  gracePeriod: number;
  processGroup: boolean;
}

function requireText(api: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${api}: ${name} must be a string, got ${describe(value)}`);
  // Node would stop at the NUL; an argument that is silently cut short is an injection risk.
  if (value.includes("\0")) throw new TypeError(`${api}: ${name} must not contain a NUL character`);
}

/** Checks the command, arguments and options; `stdioDefault` is what an absent stdio option means. */
export function planSpawn(
  api: string,
  cmd: unknown,
  args: unknown,
  options: unknown,
  stdioDefault: { stdin: StdioPlan["kind"]; stdout: StdioPlan["kind"]; stderr: StdioPlan["kind"] },
): { cmd: string; args: string[]; plan: SpawnPlan } {
  requireText(api, "cmd", cmd);
  if (cmd === "") throw new TypeError(`${api}: cmd must not be empty`);
  if (args === undefined) args = [];
  if (!Array.isArray(args)) throw new TypeError(`${api}: args must be an array of strings, got ${describe(args)}`);
  (args as unknown[]).forEach((arg, i) => requireText(api, `args[${i}]`, arg));
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  if (o["cwd"] !== undefined) {
    requireText(api, "options.cwd", o["cwd"]);
    if (o["cwd"] === "") throw new TypeError(`${api}: options.cwd must not be empty`);
  }
  if (o["inheritEnv"] !== undefined && typeof o["inheritEnv"] !== "boolean") {
    throw new TypeError(`${api}: options.inheritEnv must be a boolean, got ${describe(o["inheritEnv"])}`);
  }
  const env: NodeJS.ProcessEnv = o["inheritEnv"] === false ? {} : { ...process.env };
  const extra = o["env"];
  if (extra !== undefined) {
    if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
      throw new TypeError(`${api}: options.env must be an object of strings, got ${describe(extra)}`);
    }
    for (const [key, value] of Object.entries(extra)) {
      requireText(api, "an options.env name", key);
      if (key === "" || key.includes("=")) {
        throw new TypeError(`${api}: options.env name ${JSON.stringify(key)} must be non-empty and without "="`);
      }
      if (value === undefined) {
        delete env[key];
        continue;
      }
      requireText(api, `options.env.${key}`, value);
      env[key] = value;
    }
  }
  const gracePeriod = o["gracePeriod"] ?? DEFAULT_GRACE_PERIOD;
  requireDuration(api, "options.gracePeriod", gracePeriod);
  const processGroup = o["processGroup"] ?? true;
  if (typeof processGroup !== "boolean") {
    throw new TypeError(`${api}: options.processGroup must be a boolean, got ${describe(processGroup)}`);
  }
  return {
    cmd,
    args: [...(args as string[])],
    plan: {
      cwd: o["cwd"] as string | undefined,
      env,
      stdin: planStdio(api, "stdin", o["stdin"], stdioDefault.stdin),
      stdout: planStdio(api, "stdout", o["stdout"], stdioDefault.stdout),
      stderr: planStdio(api, "stderr", o["stderr"], stdioDefault.stderr),
      gracePeriod,
      processGroup,
    },
  };
}

/** Node's spelling of a plan that is not a file. */
function nodeStdio(plan: StdioPlan): "inherit" | "pipe" | "ignore" {
  return plan.kind === "file" ? "ignore" : plan.kind;
}

/** Opens the files the plan names (stdout and stderr share one opening of the same path). */
function* openFiles(api: string, plan: SpawnPlan, opened: number[]): Operation<StdioOptions> {
  const fdOf = function* (p: StdioPlan, flags: "r" | "w" | "a"): Operation<number | "inherit" | "pipe" | "ignore"> {
    if (p.kind !== "file") return nodeStdio(p);
    const fd = yield* openForChild(api, p.path, flags);
    opened.push(fd);
    return fd;
  };
  const stdin = yield* fdOf(plan.stdin, "r");
  const out = plan.stdout;
  const err = plan.stderr;
  const stdout = yield* fdOf(out, out.kind === "file" && out.append ? "a" : "w");
  const shared = out.kind === "file" && err.kind === "file" && out.path === err.path;
  const stderr = shared ? stdout : yield* fdOf(err, err.kind === "file" && err.append ? "a" : "w");
  return [stdin, stdout, stderr];
}

/** Why a spawn failed, in words that name the command (and the cwd when it is missing). */
function* spawnFailure(api: string, cmd: string, cwd: string | undefined, error: unknown): Operation<unknown> {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT" && cwd !== undefined) {
    const cwdMissing = yield* action<boolean>((resolve) => {
      stat(cwd, (statError, stats) => resolve(statError !== null || !stats.isDirectory()));
    });
    if (cwdMissing)
      return osErrorWithDetail(
        api,
        error,
        `ENOENT: cannot start ${JSON.stringify(cmd)}: the cwd ${JSON.stringify(cwd)} is not a directory`,
      );
  }
  const reason = code === "ENOENT" ? "no such command" : code === "EACCES" ? "permission denied" : String((error as Error)?.message);
  return osErrorWithDetail(api, error, `${String(code)}: cannot start ${JSON.stringify(cmd)}: ${reason}`);
}

/**
 * A running (or finished) child process started by {@link spawnProcess}.
 * It belongs to the task that spawned it; see there for what that means.
 *
 * @example
 * ```ts
 * using proc = yield* spawnProcess("grep", ["-c", "x"], { stdin: "pipe", stdout: "pipe" });
 * yield* proc.stdin.write("x\ny\nx\n");
 * proc.stdin.close();
 * const count = (yield* proc.stdout.readAll()).text().trim(); // "2"
 * const { code } = yield* proc.wait();                        // 0
 * ```
 */
export class Process {
  /** The child's process id. */
  readonly pid: number;
  readonly #child: Child;
  readonly #stdin: StreamWriter | null;
  readonly #stdout: StreamReader | null;
  readonly #stderr: StreamReader | null;
  #closed = false;

  /** @internal Made by {@link spawnProcess}. */
  constructor(child: Child) {
    this.#child = child;
    this.pid = child.pid;
    const proc = child.proc;
    this.#stdin = proc.stdin === null ? null : new StreamWriter("Process.stdin", writable(proc, proc.stdin));
    this.#stdout = proc.stdout === null ? null : new StreamReader("Process.stdout", readable(child, proc.stdout));
    this.#stderr = proc.stderr === null ? null : new StreamReader("Process.stderr", readable(child, proc.stderr));
    // The pipes belong to the owner too: unread output must not hold them open after it.
    child.onOwnerEnd(() => this.close());
  }

  /** Writes to the child's stdin (spawned with `stdin: "pipe"` only; otherwise a `WeftUsageError`). `close()` it to send end of stream. */
  get stdin(): StreamWriter {
    return this.#stdin ?? notPiped("stdin");
  }

  /** Reads the child's stdout (spawned with `stdout: "pipe"` only; otherwise a `WeftUsageError`). */
  get stdout(): StreamReader {
    return this.#stdout ?? notPiped("stdout");
  }

  /** Reads the child's stderr (spawned with `stderr: "pipe"` only; otherwise a `WeftUsageError`). */
  get stderr(): StreamReader {
    return this.#stderr ?? notPiped("stderr");
  }

  /** How the child ended, or `undefined` while it runs. */
  get exitStatus(): ExitStatus | undefined {
    return this.#child.status ?? undefined;
  }

  /**
   * Waits until the child has exited and returns how (a non-zero code is not
   * an error). Any number of tasks may wait. If the waiting task is cancelled,
   * the child is terminated (SIGTERM, then SIGKILL after the grace period) and
   * the wait goes on, shielded, until it has exited; then `Cancelled` is
   * thrown. So after a cancelled `wait()` the child is gone.
   */
  *wait(): Operation<ExitStatus> {
    const child = this.#child;
    if (child.status !== null) return child.status;
    try {
      return yield* exited(child);
    } catch (error) {
      if (!(error instanceof Cancelled)) throw error;
      child.terminate();
      yield* protectFromCancel(() => exited(child));
      throw error;
    }
  }

  /**
   * Sends `signal` (a name, or a number; default SIGTERM) to the child
   * alone, not to its process group. Does nothing once it has exited. It does
   * not wait: use {@link Process.wait}.
   */
  kill(signal: NodeJS.Signals | number = "SIGTERM"): void {
    if (typeof signal === "number") {
      // Node would throw for an unknown number inside the send, where the error could only be swallowed.
      if (signal !== 0 && !SIGNAL_NUMBERS.has(signal)) {
        throw new RangeError(`Process.kill(): signal must be a signal name or the number of a signal of this platform, got ${signal}`);
      }
    } else if (typeof signal !== "string" || !Object.hasOwn(constants.signals, signal)) {
      throw new TypeError(`Process.kill(): signal must be a signal name such as "SIGTERM" or a number, got ${describe(signal)}`);
    }
    this.#child.signal(signal);
  }

  /**
   * Lets go of the child: closes the pipes, and if it is still running,
   * terminates it (SIGTERM, SIGKILL after the grace period; this does not
   * wait, but the program does not end before the child has). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#child.terminate();
    this.#stdin?.close();
    this.#stdout?.close();
    this.#stderr?.close();
  }

  /** The same as {@link Process.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The signal numbers of this platform (0, the "is it there" probe, is allowed too). */
const SIGNAL_NUMBERS = new Set<number>(Object.values(constants.signals));

function notPiped(name: "stdin" | "stdout" | "stderr"): never {
  throw new WeftUsageError(`Process.${name}: the process was not spawned with ${name}: "pipe"`);
}

function readable(child: Child, stream: NonNullable<ChildProcess["stdout"]>): StreamReaderSource {
  return {
    *open() {
      return stream;
    },
    release: () => {
      if (child.status !== null) {
        stream.destroy();
        return;
      }
      // While the child runs (being terminated, perhaps writing its last
      // words), its output goes nowhere rather than into a broken pipe; the
      // pipe is let go once it has exited, even if a descendant still holds
      // the other end.
      stream.removeListener("readable", keepUnreadOutput);
      stream.resume();
      child.onExit(() => stream.destroy());
    },
  };
}

/** A standing 'readable' listener: see {@link start}. */
function keepUnreadOutput(): void {}

function writable(proc: ChildProcess, stream: NonNullable<ChildProcess["stdin"]>): StreamWriterSource {
  return {
    open: () => stream,
    // End, not destroy: the bytes already queued still reach the child, then it reads end of stream.
    release: () => {
      if (proc.exitCode === null && proc.signalCode === null) stream.end();
      else stream.destroy();
    },
  };
}

function exited(child: Child): Operation<ExitStatus> {
  return action<ExitStatus>((resolve) => child.onExit(() => resolve(child.status!)));
}

/** Starts the child; the caller closes `opened` afterwards either way. */
function* start(api: string, cmd: string, args: string[], plan: SpawnPlan, opened: number[]): Operation<Process> {
  const owner = requireTask(api);
  if (owner.cancelDue) throw new Cancelled();
  const stdio = yield* openFiles(api, plan, opened);
  let proc: ChildProcess;
  try {
    // `detached` makes the child the leader of a new process group, which is what termination signals.
    proc = spawn(cmd, args, { cwd: plan.cwd, env: plan.env, stdio, windowsHide: true, detached: plan.processGroup });
  } catch (error) {
    throw yield* spawnFailure(api, cmd, plan.cwd, error);
  }
  // Kill failures and the like are reported as 'error' events later; the owner sees the exit instead.
  const pid = proc.pid;
  if (pid === undefined) {
    const error = yield* protectFromCancel(() =>
      action<unknown>((resolve) => {
        proc.once("error", resolve);
        return () => proc.off("error", resolve);
      }),
    );
    throw yield* spawnFailure(api, cmd, plan.cwd, error);
  }
  proc.on("error", () => {});
  for (const stream of [proc.stdin, proc.stdout, proc.stderr]) stream?.on("error", () => {});
  // When a child exits, Node resumes (drains into nothing) every output pipe
  // that has no 'readable' listener; output not yet read would be lost. A
  // standing listener keeps the bytes for the task that reads them later.
  proc.stdout?.on("readable", keepUnreadOutput);
  proc.stderr?.on("readable", keepUnreadOutput);
  return new Process(new Child(proc, pid, plan.gracePeriod, plan.processGroup, owner));
}

/**
 * Starts `cmd` with `args` (no shell: arguments are passed as they are) and
 * returns its {@link Process} once it is running. A command that cannot be
 * started throws the OS error, with its `code` (`ENOENT` for a missing
 * command) and a message that names the command.
 *
 * **Ownership.** The child belongs to the task that called `spawnProcess`,
 * and never outlives it: when that task is cancelled, or ends in any way
 * while the child still runs, the child is terminated (SIGTERM, then SIGKILL
 * after `gracePeriod`, default 5 s), and so is everything it started: the
 * child leads its own process group and the signals go to the whole group
 * (see `processGroup` for what that changes about Ctrl-C, and to opt out).
 * Cancelling a task that waits in {@link Process.wait} terminates the child
 * too, and that wait returns only once it has exited; so does leaving the
 * block of `using proc = ...` (without waiting). To let a child finish,
 * `wait()` for it before the task ends. Its pipes belong to the task as well:
 * when the task ends they are closed (output nobody read is dropped), and only
 * `wait()` and `exitStatus` still answer. A child being terminated keeps the
 * program alive until it has exited, and {@link main} waits for it before
 * ending the process: no orphans. If the process exits without waiting
 * (`process.exit()`), the children and their groups get SIGKILL as it exits.
 * Node reaps every child as it exits: no zombies.
 *
 * stdio defaults to `"inherit"` for all three; see {@link StdioOption} for
 * pipes, `"ignore"` and files. A child's piped stdout or stderr that nobody
 * reads fills up and blocks the child: read it (concurrently with other
 * pipes), or use {@link runProcess}.
 *
 * @example
 * ```ts
 * const serverJs = "console.log('listening'); setInterval(() => {}, 1000);"; // a server that runs until stopped
 * {
 *   using server = yield* spawnProcess(process.execPath, ["-e", serverJs], { stdout: "pipe" });
 *   const banner = yield* server.stdout.readLine(); // wait until it is up
 *   console.log(banner); // prints listening
 *   // … run the tests against it …
 * } // leaving the block terminates the server
 * ```
 */
export function* spawnProcess(cmd: string, args?: readonly string[], options?: SpawnProcessOptions): Operation<Process> {
  const api = "spawnProcess()";
  const checked = planSpawn(api, cmd, args, options, { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  return yield* spawnPlanned(api, checked.cmd, checked.args, checked.plan);
}

/** {@link spawnProcess} with checked input (for {@link runProcess}). */
export function* spawnPlanned(api: string, cmd: string, args: string[], plan: SpawnPlan): Operation<Process> {
  const opened: number[] = [];
  try {
    return yield* start(api, cmd, args, plan, opened);
  } finally {
    // The child has its own copies; ours must not leak.
    for (const fd of opened) closeQuietly(fd);
  }
}
