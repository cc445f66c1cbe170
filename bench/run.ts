/**
 * `npm run bench`: every workload on the event-loop driver, the pump driver
 * and plain async/await. Each cell runs in several fresh processes (V8 does
 * not always settle on the same machine code, so one process can be an
 * outlier); each process does one warm-up run then several timed runs. Prints
 * the median ns/op over all samples of a cell, the min–max spread and the
 * ratios computed within this run.
 *
 * Options: --runs N (timed runs per process, default 7), --processes N
 * (processes per cell, default 3), --workloads a,b.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workloads, type Driver } from "./workloads.ts";

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const runs = Number(option("--runs") ?? 7);
const processes = Number(option("--processes") ?? 3);
const only = option("--workloads")?.split(",");
const drivers: Driver[] = ["event-loop", "pump", "plain-await"];
const cellScript = fileURLToPath(new URL("./cell.js", import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (ns: number): string => (ns >= 100 ? ns.toFixed(0) : ns.toFixed(1));

console.log(
  `weft benchmark: Node ${process.version}; per cell ${processes} fresh processes × ${runs} timed runs after a warm-up; median and min–max over all samples`,
);
const rows: string[] = [
  "| workload | event loop ns/op (min–max) | pump ns/op (min–max) | plain await ns/op (min–max) | await ÷ event loop | event loop ÷ pump |",
  "|---|---|---|---|---|---|",
];
for (const workload of workloads) {
  if (only !== undefined && !only.includes(workload.name)) continue;
  const medians: Partial<Record<Driver, number>> = {};
  const cells: string[] = [];
  for (const driver of drivers) {
    process.stderr.write(`  ${workload.name} on ${driver}…\n`);
    const samples: number[] = [];
    for (let p = 0; p < processes; p++) {
      const out = execFileSync(process.execPath, [cellScript, workload.name, driver, String(runs)], { encoding: "utf8" });
      samples.push(...(JSON.parse(out.trim().split("\n").pop()!) as { samples: number[] }).samples);
    }
    const med = median(samples);
    medians[driver] = med;
    cells.push(`${fmt(med)} (${fmt(Math.min(...samples))}–${fmt(Math.max(...samples))})`);
  }
  const speedup = medians["plain-await"]! / medians["event-loop"]!;
  const driverRatio = medians["event-loop"]! / medians["pump"]!;
  rows.push(`| ${workload.name} | ${cells.join(" | ")} | ${speedup.toFixed(2)}× | ${driverRatio.toFixed(2)} |`);
}
console.log(rows.join("\n"));
console.log("\nplain await versions: " + workloads.map((w) => `${w.name}: ${w.plainApi}`).join("; "));
