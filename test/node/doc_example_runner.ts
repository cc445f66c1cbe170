/**
 * Runs one compiled doc example (`node doc_example_runner.js <module.js>`):
 * its default export is the body of a generator run with `run()`, as the rule
 * for TSDoc examples says (a program example, with a top-level `await`, ran
 * when it was imported). Prints a marker on stderr once `run()` settled, so
 * the test can tell "never finished" from "finished but left something
 * running". Not a test file (no `_test` suffix).
 */
import { pathToFileURL } from "node:url";
import { run } from "../../src/index.ts";
import type { Operation } from "../../src/index.ts";

export const FINISHED_MARKER = "[doc example finished]";

const path = process.argv[2];
if (path !== undefined) {
  // Importing runs a program example (top-level `await run(…)`); the others are a generator body.
  const module = (await import(pathToFileURL(path).href)) as { default: (() => Operation<unknown>) | undefined };
  if (module.default !== undefined) await run(module.default);
  process.stderr.write(`${FINISHED_MARKER}\n`);
}
