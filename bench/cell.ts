/**
 * One benchmark cell in a fresh process: `node cell.js <workload> <driver> <runs>`.
 * Does one warm-up run, then <runs> timed runs, and prints one JSON line.
 */
import { runOnce, workloads, type Driver } from "./workloads.ts";

const [name, driver, runsArg] = process.argv.slice(2);
const workload = workloads.find((w) => w.name === name);
if (workload === undefined) throw new Error(`unknown workload ${name}`);
const runs = Number(runsArg ?? 5);
await runOnce(workload, driver as Driver);
const samples: number[] = [];
for (let i = 0; i < runs; i++) samples.push((await runOnce(workload, driver as Driver)) * 1e6 / workload.ops);
console.log(JSON.stringify({ workload: name, driver, samples }));
