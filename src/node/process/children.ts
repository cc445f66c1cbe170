/**
 * The life of an owned child process: who owns it, how it is terminated
 * (SIGTERM, then SIGKILL after a grace period), and the set of children not
 * yet reaped, which `main` waits for before the program ends.
 *
 * Node reaps a child as soon as it exits (libuv waits for it on SIGCHLD) and
 * then emits `exit`, so "reaped" here means "`exit` was seen": its pid is
 * gone. A child that is being terminated keeps the event loop alive (its
 * handle and the SIGKILL timer are referenced), so the program cannot end and
 * leave it running.
 */
import type { ChildProcess } from "node:child_process";
import type { Coroutine } from "../../core/coroutine.ts";
import { addTaskHook } from "../../core/task_hooks.ts";

/**
 * How a child process ended: its exit `code`, or the `signal` that killed it
 * (exactly one of the two is not null).
 *
 * @example
 * ```ts
 * const { code, signal } = yield* proc.wait();
 * if (signal !== null) console.error(`killed by ${signal}`);
 * ```
 */
export interface ExitStatus {
  /** The exit code, or null if the process was killed by a signal. */
  code: number | null;
  /** The signal that killed the process, or null if it exited by itself. */
  signal: NodeJS.Signals | null;
}

/** Children that have not exited yet, in every task. */
const live = new Set<Child>();
const drainedListeners = new Set<() => void>();
/** The children each task owns and has not seen exit. */
const owned = new WeakMap<Coroutine, Set<Child>>();

/** One spawned child process and its termination state. */
export class Child {
  status: ExitStatus | null = null;
  readonly #exitListeners = new Set<() => void>();
  #killTimer: ReturnType<typeof setTimeout> | null = null;
  #terminating = false;

  constructor(
    readonly proc: ChildProcess,
    readonly pid: number,
    readonly gracePeriod: number,
    owner: Coroutine,
  ) {
    live.add(this);
    let set = owned.get(owner);
    if (set === undefined) {
      const created = new Set<Child>();
      set = created;
      owned.set(owner, created);
      addTaskHook(owner, {
        cancelled: () => {
          for (const child of created) child.terminate();
        },
        ended: () => {
          owned.delete(owner);
          for (const child of created) child.terminate();
          created.clear();
        },
      });
    }
    const mine = set;
    mine.add(this);
    proc.once("exit", (code, signal) => {
      this.status = { code, signal };
      if (this.#killTimer !== null) clearTimeout(this.#killTimer);
      this.#killTimer = null;
      mine.delete(this);
      live.delete(this);
      for (const listener of [...this.#exitListeners]) listener();
      this.#exitListeners.clear();
      if (live.size === 0 && drainedListeners.size > 0) {
        const listeners = [...drainedListeners];
        drainedListeners.clear();
        for (const listener of listeners) listener();
      }
    });
  }

  /** Calls `listener` once the child has exited; returns the unsubscribe function. */
  onExit(listener: () => void): () => void {
    if (this.status !== null) {
      listener();
      return () => {};
    }
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  /** Sends SIGTERM, and SIGKILL if the child is still there after the grace period. Idempotent. */
  terminate(): void {
    if (this.status !== null || this.#terminating) return;
    this.#terminating = true;
    if (this.gracePeriod === 0) {
      this.killNow();
      return;
    }
    this.signal("SIGTERM");
    this.#killTimer = setTimeout(() => {
      this.#killTimer = null;
      this.killNow();
    }, this.gracePeriod);
  }

  /** SIGKILL at once (a second Ctrl-C, or the end of the grace period). */
  killNow(): void {
    if (this.status !== null) return;
    this.#terminating = true;
    this.signal("SIGKILL");
  }

  /** Sends `signal` if the child has not exited; errors (ESRCH after a race with its exit) are ignored. */
  signal(signal: NodeJS.Signals | number): void {
    if (this.status !== null) return;
    try {
      this.proc.kill(signal);
    } catch {
      // The child is gone already; its `exit` is on the way.
    }
  }
}

/** How many children have not exited yet. */
export function liveChildCount(): number {
  return live.size;
}

/** Every child that has not exited yet. */
export function liveChildren(): Child[] {
  return [...live];
}

/** Calls `listener` once, when no child is left (at once if none is); returns the unsubscribe function. */
export function whenNoChildren(listener: () => void): () => void {
  if (live.size === 0) {
    listener();
    return () => {};
  }
  drainedListeners.add(listener);
  return () => drainedListeners.delete(listener);
}
