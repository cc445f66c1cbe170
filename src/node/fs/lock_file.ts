/**
 * `lockFile`: an exclusive advisory lock shared by the tasks of this process
 * and by other processes on the same host, built on a lock file created with
 * O_EXCL (Node has no `flock`).
 *
 * The lock file holds three lines: the owner's pid, its host name and a random
 * token. A waiter that finds the file polls (with back-off, and at once when a
 * holder in this process releases) until it can create the file itself. A
 * lock whose owner is gone (its pid no longer exists on this host) is broken,
 * under a second O_EXCL file (`<path>.break`) so that two waiters can never
 * both break it and then delete each other's fresh lock.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import { hostname } from "node:os";
import { resolve as resolvePath } from "node:path";
import { action } from "../../core/action.ts";
import { isBeingCancelled, protectFromCancel } from "../../core/cancel.ts";
import { Cancelled } from "../../core/errors.ts";
import type { Operation } from "../../core/operation.ts";
import { fsChange, fsLook } from "./fs_call.ts";
import { osError, requirePath, type OsError } from "./os_error.ts";

/** First and longest pause between two attempts (ms). */
const FIRST_POLL = 5;
const MAX_POLL = 100;
/** A lock file without a complete owner record this old was left by a holder that died while creating it. */
const INCOMPLETE_GRACE = 5_000;
/** A break guard this old was left by a breaker that died in a step that takes microseconds. */
const GUARD_GRACE = 10_000;

/**
 * A held lock, returned by {@link lockFile}.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   {
 *     using lock = yield* lockFile(join(dir, "app.lock"));
 *     console.log(lock.held); // prints true
 *     // … update the shared state; released when the block is left …
 *   }
 *   using again = yield* lockFile(join(dir, "app.lock")); // free again: taken at once
 *   console.log(again.held); // prints true
 * });
 * ```
 */
export interface FileLock {
  /** The absolute path of the lock file. */
  readonly path: string;
  /** True until {@link FileLock.release} is called. */
  readonly held: boolean;
  /**
   * Releases the lock (idempotent): deletes the lock file if it is still
   * this holder's, and wakes the waiters of this process at once.
   */
  release(): void;
  /** Same as {@link FileLock.release}. */
  [Symbol.dispose](): void;
}

/** The locks this process holds, by token. */
const heldLocks = new Map<string, Lock>();
/**
 * Tokens of this process whose lock file exists or may exist: registered
 * before the file is created, so that a waiter reading a complete record
 * whose creator has not yet heard back never takes it for a dead holder's.
 * Shared through the global object by every copy of this module loaded in
 * the process (a bundled copy and an installed one), which would otherwise
 * break each other's locks.
 */
const ownTokens: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for("weft.lockFile.ownTokens")] ??=
  new Set<string>()) as Set<string>;
/** Tasks of this process waiting for a lock file, by absolute path. */
const waitersByPath = new Map<string, Set<() => void>>();
let exitHookInstalled = false;

class Lock implements FileLock {
  #held = true;

  constructor(
    readonly path: string,
    readonly token: string,
  ) {}

  get held(): boolean {
    return this.#held;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    heldLocks.delete(this.token);
    ownTokens.delete(this.token);
    try {
      // Someone may (wrongly, after a pid was reused) have broken and
      // re-taken the lock: only our own record is deleted.
      if (fs.readFileSync(this.path, "utf8").includes(this.token)) fs.unlinkSync(this.path);
    } catch (error) {
      if ((error as OsError).code !== "ENOENT") throw osError("FileLock.release()", error, this.path);
    } finally {
      for (const wake of waitersByPath.get(this.path) ?? []) wake();
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** Locks still held when the process exits normally are released (a crash leaves them to stale recovery). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const lock of [...heldLocks.values()]) {
      try {
        lock.release();
      } catch {
        // Exiting anyway; the next waiter's stale recovery deals with it.
      }
    }
  });
}

/** Creates `path` with `content` unless it exists; true if this call created it. */
function createExclusive(api: string, path: string, content: string): Operation<boolean> {
  return fsChange<boolean>(api, (done) =>
    fs.writeFile(path, content, { flag: "wx", mode: 0o644 }, (error) =>
      error !== null && error.code === "EEXIST" ? done(null, false) : done(error, true),
    ),
  );
}

/** The content and age of `path`, or undefined if it does not exist. */
function* readRecord(path: string): Operation<{ content: string; ageMs: number } | undefined> {
  try {
    const info = yield* fsLook<fs.Stats>("lockFile()", (done) => fs.lstat(path, done));
    const content = yield* fsLook<string>("lockFile()", (done) => fs.readFile(path, "utf8", done));
    return { content, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as OsError).code === "ENOENT") return undefined;
    throw error;
  }
}

/** True when the record's owner can no longer release it. */
function isStale(record: { content: string; ageMs: number }): boolean {
  const [pidText, host, token] = record.content.split("\n");
  const pid = Number(pidText);
  if (token === undefined || token === "" || !Number.isSafeInteger(pid) || pid <= 0) {
    return record.ageMs > INCOMPLETE_GRACE;
  }
  // A pid says nothing about a process on another host (a shared file system).
  if (host !== hostname()) return false;
  if (pid === process.pid) return !ownTokens.has(token);
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as OsError).code === "ESRCH";
  }
}

function* unlinkIfPresent(path: string): Operation<void> {
  try {
    yield* fsLook<void>("lockFile()", (done) => fs.unlink(path, (error) => done(error, undefined)));
  } catch (error) {
    if ((error as OsError).code !== "ENOENT") throw error;
  }
}

/** Deletes the lock file if it still holds `stale`; false if another waiter is breaking it. */
function breakStale(path: string, stale: string, ours: string): Operation<boolean> {
  return protectFromCancel(function* () {
    const guard = `${path}.break`;
    if (!(yield* createExclusive("lockFile()", guard, ours))) {
      const record = yield* readRecord(guard);
      if (record !== undefined && record.ageMs > GUARD_GRACE) yield* unlinkIfPresent(guard);
      return false;
    }
    try {
      const record = yield* readRecord(path);
      if (record !== undefined && record.content === stale) yield* unlinkIfPresent(path);
      return true;
    } finally {
      yield* unlinkIfPresent(guard);
    }
  });
}

/** Waits `ms`, or less if a holder in this process releases `path`. */
function waitForRelease(path: string, ms: number): Operation<void> {
  return action<void>((resolve) => {
    let waiters = waitersByPath.get(path);
    if (waiters === undefined) waitersByPath.set(path, (waiters = new Set()));
    const wake = (): void => resolve();
    waiters.add(wake);
    const timer = setTimeout(wake, ms);
    return () => {
      clearTimeout(timer);
      waiters.delete(wake);
      if (waiters.size === 0) waitersByPath.delete(path);
    };
  });
}

/**
 * Takes the exclusive lock named by the lock file `path`, waiting while
 * another holder (a task of this process or another process) has it.
 * Returns a {@link FileLock}; release it with `release()` or a `using`
 * declaration. The directory of `path` must exist.
 *
 * What it guarantees: at most one holder at a time among the tasks and
 * processes on this host that take the lock through `lockFile` with the same
 * path. It is advisory (the file is not locked against other access) and it
 * is not a kernel lock: a holder that dies leaves the lock file behind, and
 * the next waiter breaks it once the holder's pid no longer exists. A lock
 * file written on another host (a shared file system) is never broken, and a
 * dead holder whose pid was reused by an unrelated process is recognised
 * only when that process ends. Locks still held at a normal exit are
 * released.
 *
 * Cancellation: a waiting `lockFile` stops at once; a cancelled `lockFile`
 * never leaves a lock behind (if the lock was taken in the same moment, it is
 * released before `Cancelled` is thrown).
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * const update = (state: { runs: number }) => ({ runs: state.runs + 1 });
 * yield* withTmpdir(function* (dataDir) {
 *   yield* writeFile(join(dataDir, "state.json"), JSON.stringify({ runs: 0 }));
 *   {
 *     using lock = yield* lockFile(join(dataDir, ".lock"));
 *     const state = JSON.parse(yield* readTextFile(join(dataDir, "state.json")));
 *     yield* writeFile(join(dataDir, "state.json"), JSON.stringify(update(state)));
 *   }
 *   console.log(yield* readTextFile(join(dataDir, "state.json"))); // prints {"runs":1}
 * });
 * ```
 */
export function* lockFile(path: string): Operation<FileLock> {
  requirePath("lockFile()", "path", path);
  const absolute = resolvePath(path);
  const token = randomUUID();
  const record = `${process.pid}\n${hostname()}\n${token}\n`;
  let delay = FIRST_POLL;
  for (;;) {
    ownTokens.add(token);
    let created = false;
    try {
      created = yield* createExclusive("lockFile()", absolute, record);
    } finally {
      if (!created) ownTokens.delete(token);
    }
    if (created) {
      const lock = new Lock(absolute, token);
      heldLocks.set(token, lock);
      installExitHook();
      if (isBeingCancelled()) {
        lock.release();
        throw new Cancelled();
      }
      return lock;
    }
    const holder = yield* readRecord(absolute);
    if (holder === undefined) continue; // released in the meantime
    if (isStale(holder) && (yield* breakStale(absolute, holder.content, record))) continue;
    yield* waitForRelease(absolute, delay);
    delay = Math.min(delay * 2, MAX_POLL);
  }
}
