/**
 * The browser version of `test/unhandled_guard.ts` (the Chromium host aliases
 * `./unhandled_guard.ts` to this file). It records, as problems that fail
 * the run:
 * - an `unhandledrejection` event (weft must never leave a rejection
 *   unhandled: docs/semantics.md, «Interop»),
 * - a `rejectionhandled` event (a rejection handled only after it was
 *   reported as unhandled: Node's `PromiseRejectionHandledWarning`),
 * - an uncaught exception (`error` event), which would end a Node test
 *   process.
 * The page harness takes the problems after each test and fails that test.
 * Importing it twice installs the listeners once.
 */
import { formatValue } from "./assert_shim.ts";

const INSTALLED = Symbol.for("weft.test.unhandledGuard");
const registry = globalThis as { [INSTALLED]?: string[] };

function describe(value: unknown): string {
  const text = formatValue(value, 4);
  const stack = value instanceof Error && typeof value.stack === "string" ? value.stack.split("\n").slice(1, 4).join("\n") : "";
  return stack === "" ? text : `${text}\n${stack}`;
}

function install(): string[] {
  const problems: string[] = [];
  const record = (text: string): void => {
    problems.push(text);
    console.error(`unhandled_guard: ${text}`);
  };
  globalThis.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
    record(`unhandled promise rejection: ${describe(event.reason)}`);
  });
  globalThis.addEventListener("rejectionhandled", (event: PromiseRejectionEvent) => {
    record(`a promise rejection was handled only after it had been reported as unhandled: ${describe(event.reason)}`);
  });
  globalThis.addEventListener("error", (event: ErrorEvent) => {
    record(`uncaught exception: ${event.error === undefined ? event.message : describe(event.error)}`);
  });
  return problems;
}

const problems: string[] = (registry[INSTALLED] ??= install());

/** The problems recorded since the last call (and forgets them). */
export function takeProblems(): string[] {
  return problems.splice(0);
}

export {};
