/**
 * Shared helpers for the test files: run a scenario on every driver (the real
 * event loop, virtual time, and the host pump), and record what happened in order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { run, type Operation } from "../src/index.ts";
import { createHost } from "../src/host.ts";
import { runVirtual } from "../src/testing.ts";

export type DriverName = "event loop" | "virtual time" | "host pump";

/** Something that runs a body to completion and returns a promise of its value. */
export interface Runner {
  <T>(body: () => Operation<T>): Promise<T>;
  readonly driver: DriverName;
  /**
   * The clock is deterministic (virtual time, host pump): an exact interleaving
   * of timer events holds. On the real clock (false) a stalled host can fire
   * deadlines that were far apart in the same turn, so a scenario asserts only
   * results, sets of events and bounds there.
   */
  readonly exact: boolean;
}

function runner(driver: DriverName, exact: boolean, go: <T>(body: () => Operation<T>) => Promise<T>): Runner {
  return Object.assign(<T>(body: () => Operation<T>) => go(body), { driver, exact });
}

/** How long the pump embedder waits for host work (a promise, a real timer) to wake a blocked task. */
const HOST_WORK_LIMIT_MS = 30_000;

type Callback = () => void;

/** A new macrotask, so that promise jobs and host callbacks queued so far run first. */
function hostTurn(): Promise<void> {
  const g = globalThis as unknown as { setImmediate?: (cb: Callback) => unknown };
  return new Promise<void>((resolve) => {
    if (typeof g.setImmediate === "function") g.setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * A small embedder of `weft/host`, as a host with no event loop would write
 * one: it pumps, lets the host run its own callbacks (so promises settled by
 * interop code reach the tasks), and moves its fake clock to `nextDeadline`
 * only when nothing is ready and no host callback woke a task. The clock
 * never reads real time, so timer orderings are as exact as under virtual time.
 */
export function runOnHostPump<T>(body: () => Operation<T>): Promise<T> {
  let time = 0;
  let woken = false;
  let onWoken: Callback | null = null;
  const host = createHost({
    now: () => time,
    onWake: () => {
      woken = true;
      onWoken?.();
    },
  });
  const task = host.spawn(body);
  const drive = async (): Promise<T> => {
    for (;;) {
      woken = false;
      const { nextDeadline, ready } = host.pump({ maxRounds: 10_000 });
      if (task.done) return task.tryWait() as T;
      // Host callbacks (promise jobs, real timers of interop code) come before the clock moves.
      await hostTurn();
      if (woken || ready > 0) continue;
      if (nextDeadline !== undefined) {
        if (nextDeadline > time) time = nextDeadline;
        continue;
      }
      // Blocked with no timer: only host work can wake a task now.
      await new Promise<void>((resolve, reject) => {
        const limit = setTimeout(() => {
          onWoken = null;
          reject(
            new Error(`host pump: ${host.live} tasks blocked with no timer, and no host callback woke one in ${HOST_WORK_LIMIT_MS} ms`),
          );
        }, HOST_WORK_LIMIT_MS);
        onWoken = () => {
          onWoken = null;
          clearTimeout(limit);
          resolve();
        };
      });
    }
  };
  return drive();
}

export const drivers: ReadonlyArray<Runner> = [
  runner("event loop", false, (body) => run(body)),
  runner("virtual time", true, (body) => runVirtual(body)),
  runner("host pump", true, runOnHostPump),
];

/**
 * Registers `name` once per driver. A scenario asserts an exact order of timer
 * events only when `run.exact`; on the real clock it asserts what a stall
 * cannot break.
 */
export function testOnEveryDriver(name: string, fn: (run: Runner) => Promise<void>, options?: { except?: DriverName }): void {
  for (const driver of drivers) {
    if (driver.driver !== options?.except) test(`${name} [${driver.driver}]`, () => fn(driver));
  }
}

/** An ordered record of events. */
export class Log {
  readonly entries: string[] = [];
  add(entry: string): void {
    this.entries.push(entry);
  }
}

/**
 * Checks a scenario's log. On a deterministic driver the order is exact. On the
 * real clock a stalled host fires deadlines that were far apart in one turn, and
 * a chain of sleeps started late stays late, so the order of independent timer
 * chains is not a promise: there the log must hold the same events, and the
 * entries `causal` keeps (those ordered by the scenario's own logic, not by the
 * clock) must still come in the expected order.
 */
export function assertEvents(
  run: Runner,
  actual: readonly string[],
  expected: readonly string[],
  causal?: (entry: string) => boolean,
): void {
  if (run.exact) {
    sameList(actual, expected, "the events in order");
    return;
  }
  sameList([...actual].sort(), [...expected].sort(), "the same events, in any order");
  if (causal !== undefined) sameList(actual.filter(causal), expected.filter(causal), "the causally ordered events in order");
}

// Kept free of node:assert so that this file bundles for hosts without Node's modules.
function sameList(actual: readonly string[], expected: readonly string[], what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}:\n  actual   ${a}\n  expected ${e}`);
}

/** A distinct error class for scenarios that fail on purpose. */
export class Boom extends Error {
  constructor(message = "boom") {
    super(message);
    this.name = "Boom";
  }
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the run to fail, but it succeeded");
}

/** An error's name, or the thrown value as a string. */
export function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

/**
 * For the cooperative budget's property tests: `log` records, in order, the
 * id of each task that completed an operation, and `monitor` each turn of a
 * sibling that pauses in a loop. Fails if a task completed more than `limit`
 * operations between two of the sibling's turns.
 */
export function assertTurnsAtMost(log: readonly number[], monitor: number, limit: number, context = ""): void {
  const counts = new Map<number, number>();
  for (const who of log) {
    if (who === monitor) {
      counts.clear();
      continue;
    }
    const n = (counts.get(who) ?? 0) + 1;
    counts.set(who, n);
    assert.ok(n <= limit, `task ${who} completed ${n} operations between two turns of the monitor${context}`);
  }
}
