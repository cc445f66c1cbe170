/**
 * The benchmark's pure helpers: statistics, N rounding, option parsing, the
 * Markdown report, the Node targets and the SVG chart's log scale. (The
 * benchmark itself is `npm run bench`; CI does not run it.)
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { median, processModes, summarize } from "../../bench/stats.ts";
import { niceFloor } from "../../bench/measure.ts";
import { parseOptions } from "../../bench/options.ts";
import { formatMarkdown, formatNs, formatRatio } from "../../bench/report_md.ts";
import type { LoadSectionResult } from "../../bench/load_sections.ts";
import { logScale, logTicks, renderSvg, shortName, tickLabel } from "../../bench/report_svg.ts";
import { nodeTargets } from "../../bench/targets.ts";
import { planCell } from "../../bench/plan.ts";
import { peerLabels, workloads, type PeerId } from "../../bench/catalog.ts";
import type { BenchResults, CellResult } from "../../bench/results.ts";

test("median of odd and even counts, unsorted input left as it was", () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(summarize([3, 9, 1, 4]), { median: 3.5, min: 1, max: 9 });
  assert.throws(() => median([]), RangeError);
});

test("niceFloor rounds down to 1, 2, 5 × 10^k and never below 10", () => {
  assert.equal(niceFloor(3333), 2000);
  assert.equal(niceFloor(999), 500);
  assert.equal(niceFloor(1000), 1000);
  assert.equal(niceFloor(19.9), 10);
  assert.equal(niceFloor(7), 10);
  assert.equal(niceFloor(Number.NaN), 10);
});

test("options: the defaults are the complete run", () => {
  const o = parseOptions([]);
  assert.equal(o.complete, true);
  assert.equal(o.quick, false);
  assert.deepEqual(o.hosts, ["node", "bun", "deno", "chromium", "quickjs"]);
  assert.equal(o.peers.length, 7);
  assert.equal(o.workloads.length, workloads.length);
  assert.deepEqual(o.loads, ["http_server", "ws_echo", "fairness"]);
  assert.equal(o.runs, 5);
});

test("options: --workloads names load sections beside the cells' workloads, and may name only them", () => {
  const both = parseOptions(["--workloads", "http_server,pause_loop"]);
  assert.deepEqual(both.workloads, ["pause_loop"]);
  assert.deepEqual(both.loads, ["http_server"]);
  assert.equal(both.complete, false);
  const onlyLoad = parseOptions(["--workloads=http_server"]);
  assert.deepEqual(onlyLoad.workloads, []);
  assert.deepEqual(onlyLoad.loads, ["http_server"]);
  assert.deepEqual(parseOptions(["--workloads", "pause_loop"]).loads, []);
  const ws = parseOptions(["--workloads", "ws_echo"]);
  assert.deepEqual(ws.workloads, []);
  assert.deepEqual(ws.loads, ["ws_echo"]);
});

test("options: lists, families, both spellings, catalogue order", () => {
  const o = parseOptions(["--quick", "--hosts", "deno,node", "--peers=effect,weft", "--workloads", "timer_burst,pause_loop", "--runs=7"]);
  assert.equal(o.quick, true);
  assert.equal(o.complete, false);
  assert.deepEqual(o.hosts, ["node", "deno"]);
  assert.deepEqual(o.peers, ["weft", "effect"]);
  assert.deepEqual(o.workloads, ["pause_loop", "timer_burst_sleep0", "timer_burst_sleep1"]);
  assert.equal(o.runs, 7);
  assert.equal(parseOptions(["--quick"]).runs, 3);
  assert.deepEqual(parseOptions(["--workloads", "aqueue_throughput"]).workloads, ["aqueue_cap1", "aqueue_cap64"]);
  assert.equal(parseOptions(["--render", "r.json"]).render, "r.json");
});

test("options: bad input names the option", () => {
  assert.throws(() => parseOptions(["--hosts", "node,safari"]), /--hosts: unknown name "safari"/);
  assert.throws(() => parseOptions(["--runs", "0"]), /--runs: expected an integer >= 1/);
  assert.throws(() => parseOptions(["--peers"]), /--peers needs a value/);
  assert.throws(() => parseOptions(["--fast"]), /unknown option "--fast"/);
  assert.throws(() => parseOptions(["--quick=1"]), /--quick takes no value/);
  assert.throws(() => parseOptions(["--workloads", ","]), /--workloads: empty list/);
});

test("number formats", () => {
  assert.equal(formatNs(12.345), "12.3");
  assert.equal(formatNs(1234.5), "1,235");
  assert.equal(formatRatio(2.345), "2.35×");
  assert.equal(formatRatio(23.45), "23.4×");
  assert.equal(formatRatio(1234), "1,234×");
});

test("log ticks cover the range with one tick per decade, labelled in time units", () => {
  assert.deepEqual(logTicks(12, 950_000), [10, 100, 1000, 10_000, 100_000, 1_000_000]);
  assert.deepEqual(logTicks(100, 100), [100, 1000]);
  assert.deepEqual(logTicks(0.5, 3), [0.1, 1, 10]);
  assert.throws(() => logTicks(0, 10), RangeError);
  assert.deepEqual([1, 100, 1000, 25_000, 1e6, 3e9].map(tickLabel), ["1 ns", "100 ns", "1 µs", "25 µs", "1 ms", "3 s"]);
});

test("log scale maps the ends to the pixel ends and the geometric middle to the middle", () => {
  const y = logScale(10, 1000, 200, 100);
  assert.equal(y(10), 200);
  assert.equal(y(1000), 100);
  assert.ok(Math.abs(y(100) - 150) < 1e-9);
  assert.equal(shortName("timer_burst_sleep1"), "timers sleep(1)");
  assert.equal(shortName("semaphore_throughput"), "semaphore");
});

/** A small results object: Node with every peer on pause_loop, Bun not available. */
function sample(medians: Partial<Record<PeerId, number>>, workload = "pause_loop"): BenchResults {
  const cells: CellResult[] = [];
  for (const [peer, m] of Object.entries(medians) as [PeerId, number][]) {
    cells.push({
      host: "node",
      peer,
      workload,
      status: "ok",
      api: `${peer} api`,
      n: peer === "effection" ? 5000 : 1_000_000,
      samples: [[m * 0.9, m, m * 1.2]],
      median: m,
      min: m * 0.9,
      max: m * 1.2,
    });
  }
  cells.push({ host: "node", peer: "trampoline", workload: "pause_loop", status: "n/a", reason: "no reason at all" });
  for (const peer of Object.keys(medians) as PeerId[])
    cells.push({ host: "bun", peer, workload: "pause_loop", status: "host n/a", reason: "bun is missing" });
  return {
    date: "2026-01-01T00:00:00Z",
    quick: false,
    complete: true,
    machine: { cores: 2, cpu: "test cpu", platform: "test", memoryGiB: 1 },
    load: { start: 0.5, end: 3.5 },
    durationMs: 60_000,
    hosts: [
      { id: "node", label: "Node", version: "Node v20", processes: 3, runs: 5 },
      { id: "bun", label: "Bun", unavailable: "bun is missing", processes: 1, runs: 5 },
    ],
    peers: (["weft", "weft-pump", "await-microtask", "await-immediate", "effection", "effect", "trampoline"] as PeerId[]).map((id) => ({
      id,
      label: id,
    })),
    workloads: workloads.filter((w) => w.name === workload),
    cells,
  };
}

test("targets: ratios from the medians, met or missed against each goal", () => {
  const rows = nodeTargets(
    sample({ weft: 10, "weft-pump": 5, "await-microtask": 30, "await-immediate": 900, effection: 40, effect: 1000 }),
  );
  const byCompared = new Map(rows.map((r) => [r.compared, r]));
  assert.equal(byCompared.get("Effection 4 ÷ weft")!.ratio, 4);
  assert.equal(byCompared.get("Effection 4 ÷ weft")!.met, false);
  assert.equal(byCompared.get("Effect 4 ÷ weft")!.met, true);
  assert.equal(byCompared.get("async/await (microtask) ÷ weft")!.ratio, 3);
  assert.equal(byCompared.get("async/await (microtask) ÷ weft")!.met, true);
  assert.equal(byCompared.get("weft event loop ÷ weft pump")!.ratio, 2);
  assert.equal(byCompared.get("weft event loop ÷ weft pump")!.met, false);
  assert.equal(byCompared.get("trampoline ÷ weft")!.met, undefined);
});

test("targets: tcp_echo compares throughputs with raw net (the await-microtask cell), and only that", () => {
  const met = nodeTargets(sample({ weft: 20_000, "await-microtask": 19_200, "await-immediate": 19_000 }, "tcp_echo"));
  assert.equal(met.length, 1);
  assert.equal(met[0]!.compared, "weft throughput ÷ raw net");
  assert.equal(met[0]!.goal, "≥ 0.95×");
  assert.equal(met[0]!.ratio, 0.96);
  assert.equal(met[0]!.met, true);
  const missed = nodeTargets(sample({ weft: 20_000, "await-microtask": 18_000 }, "tcp_echo"));
  assert.equal(missed[0]!.ratio, 0.9);
  assert.equal(missed[0]!.met, false);
  assert.equal(nodeTargets(sample({ weft: 30_000 }, "tcp_echo"))[0]!.met, undefined);
});

test("targets: the piped-stream workloads compare with the faster raw Node reading, and only with it", () => {
  const pipe = nodeTargets(sample({ weft: 2000, "await-microtask": 1800, "await-immediate": 2100, effection: 10 }, "buffered_io_pipe"));
  assert.deepEqual(
    pipe.map((r) => [r.compared, r.goal, r.ratio, r.met]),
    [["weft throughput ÷ raw Node streams", "≥ 1×", 0.9, false]],
  );
  const gzip = nodeTargets(sample({ weft: 2000, "await-microtask": 1900 }, "gzip_pipe"));
  assert.deepEqual(
    gzip.map((r) => [r.compared, r.goal, r.ratio, r.met]),
    [["weft throughput ÷ raw node:zlib streams", "≥ 0.9×", 0.95, true]],
  );
});

test("targets: plain async/await goals are per workload (1.7× spawn_wait, 1.6× cond_var_signal, 1.3× pause_pingpong, else 2×)", () => {
  const goal = (workload: string): string | undefined =>
    nodeTargets(sample({ weft: 100, "await-microtask": 175 }, workload)).find((r) => r.compared.startsWith("async/await"))?.goal;
  assert.equal(goal("spawn_wait"), "≥ 1.7×");
  assert.equal(goal("cond_var_signal"), "≥ 1.6×");
  assert.equal(goal("pause_pingpong"), "≥ 1.3×");
  assert.equal(goal("pause_loop"), "≥ 2×");
  const spawn = nodeTargets(sample({ weft: 100, "await-microtask": 175 }, "spawn_wait")).find((r) => r.compared.startsWith("async/await"))!;
  assert.equal(spawn.met, true);
});

test("targets: on Bun, Deno and Chromium weft is no slower than plain async/await, each host in its own table", () => {
  const results = sample({ weft: 100, "await-microtask": 300 });
  const addCell = (host: "bun" | "deno", peer: PeerId, m: number): void => {
    results.cells = results.cells.filter((c) => !(c.host === host && c.peer === peer));
    results.cells.push({
      host,
      peer,
      workload: "pause_loop",
      status: "ok",
      api: "api",
      n: 1000,
      samples: [[m]],
      median: m,
      min: m,
      max: m,
    });
  };
  addCell("bun", "weft", 120);
  addCell("bun", "await-microtask", 100);
  addCell("deno", "weft", 80);
  addCell("deno", "await-immediate", 90);
  const md = formatMarkdown(results);
  assert.match(md, /## Targets on Bun\n\nNo workload slower than plain async\/await on the same host: 0 met, 1 missed\./);
  assert.match(md, /\| pause_loop \| async\/await \(microtask\) ÷ weft \| ≥ 1× \| 0\.83× \| \*\*missed\*\* \|/);
  assert.match(md, /## Targets on Deno\n\nNo workload slower than plain async\/await on the same host: 1 met, 0 missed\./);
  assert.doesNotMatch(md, /## Targets on Chromium/);
});

test("targets: group and timeout overheads have absolute ns goals, the timeout also a ratio to the plain race; cancel_1m 2 µs a task", () => {
  const group = nodeTargets(sample({ weft: 450, "await-microtask": 2000 }, "group_overhead"));
  assert.deepEqual(
    group.map((r) => [r.compared, r.goal, r.ratio, r.unit, r.met]),
    [["weft ns per group", "≤ 500 ns", 450, "ns", true]],
  );
  const timeout = nodeTargets(sample({ weft: 800, "await-microtask": 1200 }, "timeout_overhead"));
  assert.deepEqual(
    timeout.map((r) => [r.goal, r.ratio, r.met]),
    [
      ["≤ 500 ns", 800, false],
      ["≥ 2×", 1.5, false],
    ],
  );
  const cancel = nodeTargets(sample({ weft: 1500 }, "cancel_1m"));
  assert.deepEqual(
    cancel.map((r) => [r.goal, r.met]),
    [["≤ 2000 ns", true]],
  );
  const md = formatMarkdown(sample({ weft: 450 }, "group_overhead"));
  assert.match(md, /\| group_overhead \| weft ns per group \| ≤ 500 ns \| 450 ns \| met \|/);
});

test("markdown: the memory section gives bytes per sleeping task and the cancel time against their goals, or why it is missing", () => {
  const results = sample({ weft: 10 });
  results.memory = [
    { tasks: 100_000, bytesPerTask: 284.2, spawnMs: 150, cancelMs: 90 },
    { tasks: 1_000_000, bytesPerTask: 301, spawnMs: 1600, cancelMs: 2500 },
  ];
  const md = formatMarkdown(results);
  assert.match(md, /## Memory on Node \(weft\)/);
  assert.match(md, /\| 100,000 \| 284 B \| ≤ 300 B: met \| 150 ms \| 90 ms \|  \|/);
  assert.match(md, /\| 1,000,000 \| 301 B \| ≤ 300 B: \*\*missed\*\* \| 1600 ms \| 2500 ms \| < 2 s: \*\*missed\*\* \|/);
  results.memory = { unavailable: "the probe of 100,000 tasks failed: out of memory" };
  assert.match(formatMarkdown(results), /Not measured: the probe of 100,000 tasks failed: out of memory\./);
  delete results.memory;
  assert.doesNotMatch(formatMarkdown(results), /Memory on Node/);
});

test("markdown: a load section is a table after the cells' sections, or says why it was not measured; a run of only load sections has no workload table", () => {
  const results = sample({ weft: 10 });
  const section: LoadSectionResult = {
    name: "http_server",
    title: "http_server on Node",
    method: "wrk against both servers.",
    header: ["server", "requests/s"],
    rows: [
      ["weft", "40,000"],
      ["node:http", "37,000"],
    ],
  };
  results.loads = [section];
  const md = formatMarkdown(results);
  assert.match(
    md,
    /## http_server on Node\n\nwrk against both servers\.\n\n\| server \| requests\/s \|\n\|---\|--:\|\n\| weft \| 40,000 \|\n\| node:http \| 37,000 \|/,
  );
  assert.ok(md.indexOf("## http_server") > md.indexOf("## Memory") || !md.includes("## Memory"));
  results.loads = [{ ...section, rows: [], unavailable: "wrk is not installed" }];
  assert.match(formatMarkdown(results), /## http_server on Node\n\nNot measured: wrk is not installed\./);
  const onlyLoads: BenchResults = { ...results, workloads: [], cells: [], loads: [section] };
  const small = formatMarkdown(onlyLoads);
  assert.doesNotMatch(small, /\| workload \| one op is/);
  assert.doesNotMatch(small, /## API used by each peer/);
  assert.match(small, /\| weft \| 40,000 \|/);
});

test("process modes: processes far apart in speed are counted per mode; one mode is no split", () => {
  assert.equal(
    processModes([
      [90, 91, 92],
      [95, 94, 96],
      [88, 99, 90],
    ]),
    undefined,
  );
  assert.deepEqual(
    processModes([
      [90, 91, 92],
      [165, 170, 160],
      [88, 89, 90],
    ]),
    [
      { median: 90, processes: 2 },
      { median: 165, processes: 1 },
    ],
  );
  assert.equal(processModes([[90, 91]]), undefined);
  const results = sample({ weft: 100 }, "cond_var_signal");
  results.cells[0]!.samples = [
    [90, 91, 92],
    [165, 170, 160],
    [88, 89, 90],
  ];
  assert.match(formatMarkdown(results), /- weft cond_var_signal: 2 at 90\.0 ns\/op, 1 at 165 ns\/op/);
});

test("plan: the IO workloads run the full N for every peer; other slow peers may cut it", () => {
  const options = { quick: false, runs: 5, processes: undefined };
  for (const workload of ["buffered_io_pipe", "tcp_echo"]) {
    const plan = planCell("node", "await-immediate", workload, options);
    assert.equal(plan.fixedN, true, workload);
    assert.equal(plan.maxN, workloads.find((w) => w.name === workload)!.ops);
  }
  assert.equal(planCell("node", "await-immediate", "pause_loop", options).fixedN, false);
  assert.equal(planCell("node", "await-immediate", "tcp_echo", { ...options, quick: true }).maxN, 1000);
});

test("plan: fresh processes per cell on Node for every peer, on Bun and Deno for the peers a goal compares", () => {
  const options = { quick: false, runs: 5, processes: undefined };
  for (const peer of ["weft", "effection", "effect"] as PeerId[])
    assert.equal(planCell("node", peer, "pause_loop", options).processes, 3, peer);
  for (const host of ["bun", "deno"] as const) {
    for (const peer of ["weft", "weft-pump", "await-microtask", "await-immediate", "trampoline"] as PeerId[]) {
      assert.equal(planCell(host, peer, "pause_loop", options).processes, 3, `${host} ${peer}`);
    }
    for (const peer of ["effection", "effect"] as PeerId[])
      assert.equal(planCell(host, peer, "pause_loop", options).processes, 1, `${host} ${peer}`);
  }
  assert.equal(planCell("chromium", "weft", "pause_loop", options).processes, 1);
  assert.equal(planCell("quickjs", "weft", "pause_loop", options).processes, 1);
  assert.equal(planCell("bun", "weft", "pause_loop", { ...options, quick: true }).processes, 1);
  assert.equal(planCell("deno", "weft", "pause_loop", { ...options, processes: 5 }).processes, 5);
});

test("markdown: a host whose peers ran in different numbers of processes says which ran in fewer", () => {
  const results = sample({ weft: 10, "await-microtask": 30, effection: 40 });
  for (const cell of results.cells) {
    if (cell.status === "ok")
      cell.samples =
        cell.peer === "effection"
          ? [[40, 40, 40]]
          : [
              [10, 10],
              [10, 10],
              [10, 10],
            ];
  }
  assert.ok(
    formatMarkdown(results).includes(
      `Per cell: 3 fresh processes × 5 timed runs (${peerLabels.effection}: 1 process), after a warm-up run`,
    ),
  );
  for (const cell of results.cells) if (cell.status === "ok") cell.samples = [[10], [10], [10]];
  assert.match(formatMarkdown(results), /Per cell: 3 fresh processes × 5 timed runs, after a warm-up run/);
});

test("markdown: a table per host with ratios, footnotes for N and n/a, the targets", () => {
  const md = formatMarkdown(
    sample({ weft: 10, "weft-pump": 5, "await-microtask": 30, "await-immediate": 900, effection: 40, effect: 1000 }),
  );
  const row = md.split("\n").find((l) => l.startsWith("| pause_loop | 10.0 (9.0–12.0)"));
  assert.ok(row !== undefined, md);
  assert.match(row, /\| 0\.50× \| 3\.00× \| 90\.0× \| 4\.00× \| 100× \| – \|$/);
  assert.match(md, /host not available: bun is missing/);
  assert.match(md, /load average 0\.5 at the start, 3\.5 at the end \(other work shared the CPUs/);
  assert.match(md, /- effection: pause_loop 5,000/);
  assert.match(md, /- n\/a: no reason at all \(trampoline pause_loop\)/);
  assert.match(md, /\| pause_loop \| Effection 4 ÷ weft \| ≥ 5× \| 4\.00× \| \*\*missed\*\* \|/);
  assert.match(md, /\| pause_loop \| weft-pump api \|/);
});

test("svg: white background, a bar per timed cell, tick labels", () => {
  const svg = renderSvg(sample({ weft: 10, effection: 40, effect: 1000 }));
  assert.ok(svg.startsWith("<svg "));
  assert.match(svg, /<rect width="\d+" height="\d+" fill="#ffffff"\/>/);
  assert.equal((svg.match(/<title>/g) ?? []).length, 3);
  for (const label of ["10 ns", "100 ns", "1 µs"]) assert.ok(svg.includes(`>${label}</text>`), label);
  assert.ok(!svg.includes(">Bun<"), "a host that did not run has no panel");
});
