/**
 * The command line that runs an example of examples/ on the host running the
 * tests, for the tests that start examples as programs.
 */
import { fileURLToPath } from "node:url";

/**
 * The arguments to give `process.execPath` (the host's own binary) to run
 * example `name` with `args`. Node runs the compiled
 * `dist/examples/<name>.js` next to the compiled test; Bun and Deno run the
 * tests from their TypeScript sources, so the example's source too (Deno
 * needs `run` and its permissions).
 */
export function exampleCommand(name: string, args: readonly string[]): string[] {
  const fromSource = import.meta.url.endsWith(".ts");
  const file = fileURLToPath(new URL(`../../examples/${name}.${fromSource ? "ts" : "js"}`, import.meta.url));
  return "Deno" in globalThis ? ["run", "-A", "--no-check", file, ...args] : [file, ...args];
}
