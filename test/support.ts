/**
 * Shared helpers for the test files: run a scenario on both the real event
 * loop and virtual time, and record what happened in order.
 */
import { test } from "node:test";
import { run, type Operation } from "../src/index.ts";
import { runVirtual } from "../src/testing.ts";

/** Something that runs a body to completion and returns a promise of its value. */
export type Runner = <T>(body: () => Operation<T>) => Promise<T>;

export const drivers: ReadonlyArray<{ name: string; run: Runner }> = [
  { name: "event loop", run: (body) => run(body) },
  { name: "virtual time", run: (body) => runVirtual(body) },
];

/**
 * Registers `name` once per driver. Timing-order scenarios are exact on
 * virtual time and, with generous gaps between deadlines, on the event loop.
 */
export function testOnBoth(name: string, fn: (run: Runner) => Promise<void>): void {
  for (const driver of drivers) test(`${name} [${driver.name}]`, () => fn(driver.run));
}

/** An ordered record of events. */
export class Log {
  readonly entries: string[] = [];
  add(entry: string): void {
    this.entries.push(entry);
  }
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
