/**
 * The life of an owned child process: who owns it, how it is terminated
 * (SIGTERM, then SIGKILL after a grace period, to its whole process group by
 * default), and the set of children not yet reaped, which `main` waits for
 * before the program ends.
 *
 * Node reaps a child as soon as it exits (libuv waits for it on SIGCHLD) and
 * then emits `exit`, so "reaped" here means "`exit` was seen": its pid is
 * gone. A child that is being terminated keeps the event loop alive (its
 * handle and the SIGKILL timer are referenced), so the program cannot end and
 * leave it running. A process group can outlive its leader (a shell's
 * background jobs); such a group is still signalled when its owner ends, and
 * killed when this process exits.
 */
import type { ChildProcess } from "node:child_process";
import process from "node:process";
import { MAX_HOST_TIMER_MS } from "../../core/clock.ts";
import type { Coroutine } from "../../core/coroutine.ts";
import { addScopeHook, currentHookOwner, type HookOwner } from "../../core/task_hooks.ts";
import { othersListen, setLastResort } from "./signal_hub.ts";

/**
 * How a child process ended: its exit `code`, or the `signal` that killed it
 * (exactly one of the two is not null).
 *
 * @example
 * ```ts
 * using proc = yield* spawnProcess(process.execPath, ["-e", "process.kill(process.pid, 'SIGTERM')"]);
 * const { code, signal } = yield* proc.wait();
 * if (signal !== null) console.log(`killed by ${signal}`); // prints killed by SIGTERM
 * else console.log(`exit code ${code}`);
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
/** Children whose process group may still have members (the leader may have exited). */
const openGroups = new Set<Child>();
const drainedListeners = new Set<() => void>();
/** The children each task owns and has not seen exit. */
const owned = new WeakMap<HookOwner, Set<Child>>();

/** A one-shot timer for any finite delay (Node turns a delay over 2^31 - 1 ms into 1 ms). */
class LongTimer {
  #handle: ReturnType<typeof setTimeout> | null = null;
  #referenced = true;

  constructor(ms: number, callback: () => void) {
    const due = Date.now() + ms;
    const arm = (left: number): void => {
      this.#handle = setTimeout(
        () => {
          const rest = due - Date.now();
          if (rest > 0) arm(rest);
          else {
            this.#handle = null;
            callback();
          }
        },
        Math.min(left, MAX_HOST_TIMER_MS),
      );
      if (!this.#referenced) this.#handle.unref();
    };
    arm(ms);
  }

  /** Lets the program end while the timer is pending. */
  unref(): void {
    this.#referenced = false;
    this.#handle?.unref();
  }

  cancel(): void {
    if (this.#handle !== null) clearTimeout(this.#handle);
    this.#handle = null;
  }
}

/** Every child not yet exited and every process group that may have members, each once. */
function tracked(): Set<Child> {
  return new Set([...live, ...openGroups]);
}

let exitHookInstalled = false;

/**
 * The signals a terminal or a service manager sends to end a program. A
 * child in its own process group no longer gets the terminal's Ctrl-C, so
 * while such children exist, a SIGINT or SIGTERM that would kill this
 * process (nothing else handles it) first terminates them (SIGTERM to their
 * groups, SIGKILL after the grace period) and waits for them; then this
 * process dies by the signal as before. A second such signal does not wait.
 */
const PASSED_ON: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
let passingOn = false;
let dying = false;

function terminateAllAndDie(signal: NodeJS.Signals): void {
  if (othersListen(signal)) return;
  const die = (): void => {
    for (const child of tracked()) child.killAtExit();
    for (const s of PASSED_ON) setLastResort(s, null);
    process.kill(process.pid, signal);
  };
  if (dying) {
    die();
    return;
  }
  dying = true;
  for (const child of tracked()) child.terminate();
  whenNoChildren(die);
}

/** Listens for the fatal signals while a child leads its own group, and only then. */
function syncPassingOn(): void {
  // Once dying, the listeners stay until the end: a second signal must not wait.
  const wanted = openGroups.size > 0 || dying;
  if (wanted === passingOn) return;
  passingOn = wanted;
  for (const signal of PASSED_ON) setLastResort(signal, wanted ? terminateAllAndDie : null);
}

/**
 * `process.exit()` (or the end of the program with a child left to a task
 * that never ended) leaves no chance to wait for anything: every child and
 * every process group still there gets SIGKILL, synchronously.
 */
function killEverythingOnExit(): void {
  for (const child of tracked()) child.killAtExit();
}

/** One spawned child process and its termination state. */
export class Child {
  status: ExitStatus | null = null;
  readonly #exitListeners = new Set<() => void>();
  readonly #ownerEndListeners: (() => void)[] = [];
  #killTimer: LongTimer | null = null;
  #terminating = false;

  /**
   * `group`: the child leads its own process group (it was spawned detached),
   * and termination signals the whole group.
   */
  constructor(
    readonly proc: ChildProcess,
    readonly pid: number,
    readonly gracePeriod: number,
    readonly group: boolean,
    owner: Coroutine,
  ) {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", killEverythingOnExit);
    }
    live.add(this);
    if (group) {
      openGroups.add(this);
      syncPassingOn();
    }
    // Owned by the task, or by the timeout body it runs in (which ends before the task).
    const key = currentHookOwner(owner);
    let set = owned.get(key);
    if (set === undefined) {
      const created = new Set<Child>();
      set = created;
      owned.set(key, created);
      addScopeHook(owner, {
        cancelled: () => {
          for (const child of created) child.terminate();
        },
        ended: () => {
          owned.delete(key);
          const children = [...created];
          created.clear();
          for (const child of children) child.#ownerEnded();
        },
      });
    }
    set.add(this);
    proc.once("exit", (code, signal) => {
      this.status = { code, signal };
      live.delete(this);
      if (this.group) {
        if (this.#killTimer !== null) {
          // Members that ignored SIGTERM still get SIGKILL, but they do not hold the program up.
          this.#killTimer.unref();
        } else if (!this.#groupHasMembers()) {
          this.#closeGroup();
        }
      } else {
        this.#killTimer?.cancel();
        this.#killTimer = null;
      }
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

  /** Calls `listener` when the task that spawned the child ends (after the child was told to terminate). */
  onOwnerEnd(listener: () => void): void {
    this.#ownerEndListeners.push(listener);
  }

  #ownerEnded(): void {
    this.terminate();
    const listeners = this.#ownerEndListeners.splice(0);
    for (const listener of listeners) listener();
  }

  /**
   * Sends SIGTERM, and SIGKILL if the child (or a member of its group) may
   * still be there after the grace period. Idempotent.
   */
  terminate(): void {
    if (this.#terminating) return;
    if (this.status !== null && !openGroups.has(this)) return;
    this.#terminating = true;
    if (this.gracePeriod === 0) {
      this.killNow();
      return;
    }
    this.#send("SIGTERM");
    if (this.status !== null && !openGroups.has(this)) return;
    this.#killTimer = new LongTimer(this.gracePeriod, () => {
      this.#killTimer = null;
      this.killNow();
    });
    if (this.status !== null) this.#killTimer.unref();
  }

  /** SIGKILL at once (a second Ctrl-C, or the end of the grace period). */
  killNow(): void {
    this.#terminating = true;
    this.#killTimer?.cancel();
    this.#killTimer = null;
    if (this.status === null || openGroups.has(this)) this.#send("SIGKILL");
    // Nothing in the group survives SIGKILL; forget it before its id can be reused.
    this.#closeGroup();
  }

  /** @internal For the exit hook: SIGKILL without touching the event loop. */
  killAtExit(): void {
    if (this.status === null || openGroups.has(this)) this.#send("SIGKILL");
  }

  /**
   * Sends `signal` to the child alone (not its group) if it has not exited;
   * errors (ESRCH after a race with its exit) are ignored.
   */
  signal(signal: NodeJS.Signals | number): void {
    if (this.status !== null) return;
    try {
      this.proc.kill(signal);
    } catch {
      // The child is gone already; its `exit` is on the way.
    }
  }

  /** A termination signal: to the whole group, or to the child alone. */
  #send(signal: NodeJS.Signals): void {
    if (!this.group) {
      this.signal(signal);
      return;
    }
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: no member is left.
      if (this.status !== null) this.#closeGroup();
    }
  }

  #groupHasMembers(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      // ESRCH: none. EPERM: the only members left changed their user; they are not ours to kill.
      return false;
    }
  }

  #closeGroup(): void {
    if (openGroups.delete(this)) syncPassingOn();
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

/** SIGKILL to every child and every process group still there (a second Ctrl-C). */
export function killEveryChildNow(): void {
  for (const child of tracked()) child.killNow();
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
