/**
 * Deadlock reports: what is blocked, and who is told.
 */
import type { Coroutine } from "../core/coroutine.ts";
import type { Scheduler } from "../core/scheduler.ts";
import { Group } from "../group/task_group.ts";

/**
 * What a deadlock handler receives.
 *
 * @example
 * ```ts
 * setDeadlockHandler((report: DeadlockReport) => console.error(`deadlock: ${report.blocked} blocked`, report.locations));
 * // … the program runs …
 * setDeadlockHandler(undefined); // back to the default report
 * ```
 */
export interface DeadlockReport {
  /** How many tasks are blocked. */
  blocked: number;
  /**
   * One line per blocked task: where it was spawned in debug mode
   * (`WEFT_DEBUG=1` or `run(body, { debug: true })`), otherwise its id.
   */
  locations: string[];
}

/**
 * A function that is told about a deadlock.
 *
 * @example
 * ```ts
 * const quiet: DeadlockHandler = () => {}; // the run promises still reject
 * setDeadlockHandler(quiet);
 * try {
 *   await run(function* () { yield* new Queue<number>().get(); }); // nothing will ever put
 * } catch (e) {
 *   console.log(e instanceof DeadlockError); // prints true, and nothing on stderr
 * }
 * setDeadlockHandler(undefined);
 * ```
 */
export type DeadlockHandler = (report: DeadlockReport) => void;

function printReport(report: DeadlockReport): void {
  const lines = [`weft: deadlock detected: ${report.blocked} task(s) are blocked and nothing can wake them:`];
  for (const location of report.locations) lines.push(`  ${location}`);
  const con = (globalThis as { console?: { error(text: string): void } }).console;
  con?.error(lines.join("\n"));
}

let handler: DeadlockHandler = printReport;

/**
 * Replaces what happens when weft finds a deadlock: by default the report is
 * printed to stderr. In every case the promise of each blocked `run` then
 * rejects with a `DeadlockError`, so a deadlocked program never hangs and
 * never ends silently. `setDeadlockHandler(undefined)` restores the default.
 *
 * A deadlock is reported only when nothing can ever wake a task: on Node, Bun
 * and Deno when the event loop is about to exit while tasks are still
 * blocked. Under `weft/host` it is never reported: the embedder sees
 * `blocked` from `pump()` and decides.
 *
 * @example
 * ```ts
 * setDeadlockHandler(({ blocked, locations }) => {
 *   console.error(JSON.stringify({ level: "fatal", msg: "deadlock", blocked, locations }));
 * });
 * // … the program runs; a deadlock is logged as one JSON line …
 * setDeadlockHandler(undefined);
 * ```
 */
export function setDeadlockHandler(next: DeadlockHandler | undefined): void {
  if (next !== undefined && typeof next !== "function") {
    throw new TypeError("setDeadlockHandler(): handler must be a function or undefined");
  }
  handler = next ?? printReport;
}

/** Every live task of `scheduler`, found by walking from its roots through groups. */
export function liveTasks(scheduler: Scheduler): Coroutine[] {
  const found: Coroutine[] = [];
  const visit = (task: Coroutine): void => {
    found.push(task);
    const record = task.waitRecord;
    if (record instanceof Group) record.forEachChild(visit);
  };
  for (const root of scheduler.roots.keys()) visit(root);
  return found;
}

/** Builds the report for the live tasks of `scheduler` and hands it to the handler. */
export function reportDeadlock(scheduler: Scheduler): DeadlockReport {
  const tasks = liveTasks(scheduler);
  const report: DeadlockReport = {
    blocked: scheduler.live,
    locations: tasks.map((t) => t.describe()),
  };
  try {
    handler(report);
  } catch (error) {
    const con = (globalThis as { console?: { error(...args: unknown[]): void } }).console;
    con?.error("weft: the deadlock handler threw:", error);
  }
  return report;
}
