/**
 * `npm run test:hosts`: the portable test suite on every host, one after the
 * other: Node, Bun, Deno, headless Chromium, and QuickJS compiled to
 * WebAssembly (an engine with no event loop, driven through `weft/host`);
 * then the weft/http tests of test/node on Bun and Deno through their
 * `node:` modules (bun-io, deno-io: hosts/node_io.ts).
 * Each host prints its own results; the run ends with a line per host and a
 * final `N passed, N failed`. A host that cannot start counts as a failure.
 *
 * Options: --hosts node,bun,deno,chromium,quickjs,bun-io,deno-io (default: all).
 */
import { join } from "node:path";
import { root, runCommand } from "./common.ts";

const allHosts = ["node", "bun", "deno", "chromium", "quickjs", "bun-io", "deno-io"] as const;
type HostName = (typeof allHosts)[number];

/** The runner of a host and its arguments: dist/hosts/<host>.js, or node_io.js for the test/node subsets. */
function runnerOf(host: HostName): string[] {
  if (host === "bun-io") return [join(root, "dist", "hosts", "node_io.js"), "bun"];
  if (host === "deno-io") return [join(root, "dist", "hosts", "node_io.js"), "deno"];
  return [join(root, "dist", "hosts", `${host}.js`)];
}

const args = process.argv.slice(2);
const i = args.indexOf("--hosts");
const chosen = (i >= 0 ? (args[i + 1] ?? "").split(",") : [...allHosts]) as HostName[];
for (const host of chosen) {
  if (!allHosts.includes(host)) {
    console.error(`test:hosts: unknown host "${host}" (known: ${allHosts.join(", ")})`);
    process.exit(2);
  }
}

const results: { host: HostName; passed: number; failed: number; note: string }[] = [];
for (const host of chosen) {
  console.log(`\n━━ ${host} ━━`);
  const started = Date.now();
  const { code, output } = await runCommand(process.execPath, runnerOf(host), { timeoutMs: 10 * 60_000 });
  const line = output
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("RESULT "));
  let passed = 0;
  let failed = 1;
  let note = "";
  if (line === undefined) note = `(no result: the runner exited with ${code})`;
  else {
    ({ passed, failed } = JSON.parse(line.slice("RESULT ".length)) as { passed: number; failed: number });
    if (code !== 0 && failed === 0) {
      failed = 1;
      note = `(the runner exited with ${code})`;
    }
  }
  results.push({ host, passed, failed, note: `${note} ${((Date.now() - started) / 1000).toFixed(1)} s`.trim() });
}

console.log("\n━━ hosts ━━");
for (const r of results) console.log(`${r.host}: ${r.passed} passed, ${r.failed} failed ${r.note}`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
