/**
 * One QuickJS cell in a fresh Node process: `quickjs_cell.js <bundle.js>
 * '<CellSpec as JSON>'`. A fresh QuickJS runtime evaluates the bundle, starts
 * the cell, and this embedder runs the engine's pending promise jobs until
 * the cell reports; the guest's clock is this process's `performance.now()`.
 * A guest that is still waiting when no job is left needs an event loop the
 * engine does not have. Prints `CELL <CellOutcome as JSON>`.
 */
import { readFileSync } from "node:fs";
import { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import { quickjsVariant } from "../../hosts/launch.ts";
import type { CellOutcome } from "../measure.ts";

const [bundlePath, specJson] = process.argv.slice(2);
const LIMIT_MS = Number(process.env.WEFT_BENCH_CELL_MS ?? 120_000);

function print(outcome: CellOutcome): void {
  console.log(`CELL ${JSON.stringify(outcome)}`);
}

const QuickJS = await newQuickJSWASMModuleFromVariant(quickjsVariant());
const rt = QuickJS.newRuntime();
rt.setMemoryLimit(1024 * 1024 * 1024);
rt.setMaxStackSize(4 * 1024 * 1024);
const deadline = performance.now() + LIMIT_MS;
rt.setInterruptHandler(() => performance.now() > deadline);
const vm = rt.newContext();
const guestLog: string[] = [];

let outcome: CellOutcome;
try {
  const api = vm.newObject();
  const now = vm.newFunction("now", () => vm.newNumber(performance.now()));
  const log = vm.newFunction("log", (text) => {
    guestLog.push(vm.getString(text));
  });
  vm.setProp(api, "now", now);
  vm.setProp(api, "log", log);
  vm.setProp(vm.global, "__benchHost", api);
  for (const h of [now, log, api]) h.dispose();

  vm.unwrapResult(vm.evalCode(readFileSync(bundlePath!, "utf8"), "weft-bench.js")).dispose();
  const bench = vm.getProp(vm.global, "weftBench");
  const start = vm.getProp(bench, "start");
  const result = vm.getProp(bench, "result");
  const spec = vm.newString(specJson!);
  vm.unwrapResult(vm.callFunction(start, vm.undefined, spec)).dispose();
  spec.dispose();
  let text = "";
  for (;;) {
    const jobs = rt.executePendingJobs(-1);
    if (jobs.error !== undefined) {
      const dumped: unknown = vm.dump(jobs.error);
      jobs.error.dispose();
      throw new Error(`a promise job failed: ${JSON.stringify(dumped)}`);
    }
    const out = vm.unwrapResult(vm.callFunction(result, vm.undefined));
    text = vm.getString(out);
    out.dispose();
    if (text !== "" || jobs.value === 0) break;
  }
  for (const h of [start, result, bench]) h.dispose();
  outcome =
    text !== ""
      ? (JSON.parse(text) as CellOutcome)
      : { status: "n/a", reason: "waits for a host event (timer or macrotask) that an engine with no event loop never delivers" };
} catch (error) {
  outcome = { status: "failed", error: `${(error as Error).message}`.slice(0, 500) };
}
if (outcome.status === "failed" && guestLog.length > 0) outcome.error += ` (guest log: ${guestLog.slice(0, 3).join("; ")})`;
print(outcome);
try {
  vm.dispose();
  rt.dispose();
} catch {
  // A runtime stopped mid-cell may still hold objects; the process ends here anyway.
}
process.exit(0);
