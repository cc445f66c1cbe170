/**
 * Imported by every test file (`import "./unhandled_guard.ts";`): makes the
 * test process fail loudly on an unhandled promise rejection, and on a
 * rejection that was handled only after being reported as unhandled
 * (`PromiseRejectionHandledWarning`). weft promises never to leave a
 * rejection unhandled (docs/semantics.md, «Interop»), so either is a bug somewhere.
 *
 * Not a test file itself (no `_test` suffix); importing it twice installs the
 * listeners once.
 */
import process from "node:process";
import { inspect } from "node:util";

const INSTALLED = Symbol.for("weft.test.unhandledGuard");
const registry = globalThis as { [INSTALLED]?: boolean };

function describeValue(value: unknown): string {
  return inspect(value, { depth: 4 });
}

if (registry[INSTALLED] !== true) {
  registry[INSTALLED] = true;

  process.on("unhandledRejection", (reason: unknown) => {
    process.stderr.write(`unhandled_guard: unhandled promise rejection: ${describeValue(reason)}\n`);
    process.exitCode = 1;
    throw reason instanceof Error ? reason : new Error(`unhandled promise rejection with a non-Error reason: ${describeValue(reason)}`);
  });

  process.on("warning", (warning: Error) => {
    if (warning.name !== "PromiseRejectionHandledWarning") return;
    process.stderr.write(`unhandled_guard: ${warning.name}: ${warning.message}\n`);
    process.exitCode = 1;
  });
}

export {};
