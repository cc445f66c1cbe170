/**
 * The Markdown report: a table per host (median ns/op with min–max per peer,
 * then each peer's ratio to weft from the same run), footnotes for N, n/a and
 * failures, the API each peer used, and the Node targets.
 */
import { hostLabels, peerLabels, type HostId } from "./catalog.ts";
import { findCell, referencePeer, type BenchResults, type CellResult } from "./results.ts";
import { nodeTargets, otherHostTargets, type TargetRow } from "./targets.ts";
import { formatLoadSection } from "./load_sections.ts";
import { MODE_GAP, processModes } from "./stats.ts";

/** ns/op: one decimal below 100, whole numbers with thousands separators above. */
export function formatNs(ns: number): string {
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toLocaleString("en-US");
}

/** A ratio: two decimals below 10, one below 100, none above; with a × sign. */
export function formatRatio(r: number): string {
  return `${r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : Math.round(r).toLocaleString("en-US")}×`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

function cellText(cell: CellResult | undefined): string {
  if (cell === undefined) return "–";
  if (cell.status === "ok") return `${formatNs(cell.median!)} (${formatNs(cell.min!)}–${formatNs(cell.max!)})`;
  if (cell.status === "failed") return "**failed**";
  return "n/a";
}

/** Groups `key → items` preserving first-seen order. */
function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

/** " (Effection 4.1.1, Effect 4.1.0: 1 process)" for the peers whose cells ran in fewer than `processes` processes, else "". */
function fewerProcesses(cells: readonly CellResult[], processes: number): string {
  const fewer = new Map<string, number>();
  for (const c of cells) {
    const count = c.status === "ok" && c.samples !== undefined ? c.samples.length : processes;
    if (count < processes) fewer.set(peerLabels[c.peer], Math.max(count, fewer.get(peerLabels[c.peer]) ?? 0));
  }
  if (fewer.size === 0) return "";
  return ` (${[...fewer].map(([label, count]) => `${label}: ${count} process${count === 1 ? "" : "es"}`).join(", ")})`;
}

function hostSection(results: BenchResults, host: HostId): string[] {
  const info = results.hosts.find((h) => h.id === host)!;
  const lines = [`## ${hostLabels[host]}${info.version !== undefined ? ` (${info.version})` : ""}`, ""];
  if (info.unavailable !== undefined) {
    lines.push(`host not available: ${info.unavailable}`, "");
    return lines;
  }
  const peers = results.peers.map((p) => p.id);
  const ref = referencePeer(results, host);
  const others = peers.filter((p) => p !== ref);
  const header = [
    "workload",
    ...peers.map((p) => `${peerLabels[p]} ns/op`),
    ...(ref === undefined ? [] : others.map((p) => `${p} ÷ ${ref}`)),
  ];
  lines.push(`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`);
  for (const w of results.workloads) {
    const row = [w.name, ...peers.map((p) => cellText(findCell(results, host, p, w.name)))];
    if (ref !== undefined) {
      const base = findCell(results, host, ref, w.name);
      for (const p of others) {
        const c = findCell(results, host, p, w.name);
        row.push(base?.status === "ok" && c?.status === "ok" ? formatRatio(c.median! / base.median!) : "–");
      }
    }
    lines.push(`| ${row.join(" | ")} |`);
  }
  lines.push("");
  const cells = results.cells.filter((c) => c.host === host);
  const samples =
    info.processes > 1
      ? `${info.processes} fresh processes × ${info.runs} timed runs${fewerProcesses(cells, info.processes)}`
      : `1 fresh ${host === "chromium" ? (results.quick ? "page" : "browser context") : host === "quickjs" ? "process and QuickJS runtime" : "process"} × ${info.runs} timed runs`;
  lines.push(`Per cell: ${samples}, after a warm-up run. Ratios above 1 mean weft${ref === "weft-pump" ? " (pump)" : ""} is faster.`);
  const full = new Map(results.workloads.map((w) => [w.name, w.ops]));
  const cut = cells.filter((c) => c.status === "ok" && c.n !== full.get(c.workload));
  if (cut.length > 0) {
    lines.push("", "N (ops per run) where it differs from the workload's full N:");
    for (const [peer, list] of group(cut, (c) => c.peer)) {
      lines.push(`- ${peer}: ${list.map((c) => `${c.workload} ${formatCount(c.n!)}`).join(", ")}`);
    }
  }
  const split = cells.flatMap((c) => {
    const modes = c.status === "ok" && c.samples !== undefined ? processModes(c.samples) : undefined;
    return modes === undefined ? [] : [{ cell: c, modes }];
  });
  if (split.length > 0) {
    lines.push(
      "",
      `Cells whose processes ran at clearly different speeds (process medians more than ${MODE_GAP}× apart: V8 settling on slower code, or other work on the machine); the cell's median is over all of them:`,
    );
    for (const { cell, modes } of split) {
      const text = modes.map((m) => `${m.processes} at ${formatNs(m.median)} ns/op`).join(", ");
      lines.push(`- ${cell.peer} ${cell.workload}: ${text}`);
    }
  }
  const missing = cells.filter((c) => c.status === "n/a" || c.status === "failed");
  if (missing.length > 0) {
    lines.push("", "Cells without a time:");
    for (const [reason, list] of group(missing, (c) => `${c.status === "failed" ? "failed" : "n/a"}: ${c.reason ?? ""}`)) {
      lines.push(`- ${reason} (${list.map((c) => `${c.peer} ${c.workload}`).join(", ")})`);
    }
  }
  lines.push("");
  return lines;
}

function apiSection(results: BenchResults): string[] {
  const lines = ["## API used by each peer", ""];
  for (const peer of results.peers) {
    lines.push(`### ${peer.label}`, "", "| workload | API |", "|---|---|");
    for (const w of results.workloads) {
      const cells = results.cells.filter((c) => c.peer === peer.id && c.workload === w.name && c.api !== undefined);
      const byApi = group(cells, (c) => c.api!);
      const text =
        byApi.size === 0
          ? "n/a"
          : byApi.size === 1
            ? [...byApi.keys()][0]!
            : [...byApi].map(([api, list]) => `${api} (${list.map((c) => hostLabels[c.host]).join(", ")})`).join("; ");
      lines.push(`| ${w.name} | ${text.replace(/\|/g, "\\|")} |`);
    }
    lines.push("");
  }
  return lines;
}

function targetLine(r: TargetRow): string {
  const status = r.met === undefined ? "not measured" : r.met ? "met" : "**missed**";
  const measured = r.ratio === undefined ? "–" : r.unit === "ns" ? `${Number(r.ratio.toPrecision(3))} ns` : formatRatio(r.ratio);
  return `| ${r.workload} | ${r.compared} | ${r.goal} | ${measured} | ${status} |`;
}

function tally(rows: readonly TargetRow[]): string {
  const met = rows.filter((r) => r.met === true).length;
  const missed = rows.filter((r) => r.met === false).length;
  const unmeasured = rows.length - met - missed;
  return `${met} met, ${missed} missed${unmeasured > 0 ? `, ${unmeasured} not measured` : ""}`;
}

function targetSection(results: BenchResults): string[] {
  const lines: string[] = [];
  const rows = nodeTargets(results);
  if (rows.length > 0) {
    lines.push(
      "## Targets on Node",
      "",
      `Goals, not asserts, computed from the medians above: ${tally(rows)}.`,
      "",
      "| workload | compared | goal | measured | |",
      "|---|---|--:|--:|---|",
      ...rows.map(targetLine),
      "",
    );
  }
  const others = otherHostTargets(results);
  for (const host of ["bun", "deno", "chromium"] as const) {
    const hostRows = others.filter((r) => r.host === host);
    if (hostRows.length === 0) continue;
    lines.push(
      `## Targets on ${hostLabels[host]}`,
      "",
      `No workload slower than plain async/await on the same host: ${tally(hostRows)}.`,
      "",
      "| workload | compared | goal | measured | |",
      "|---|---|--:|--:|---|",
      ...hostRows.map(targetLine),
      "",
    );
  }
  return lines;
}

/** Heap per sleeping task (goal ≤ 300 B) and the time to cancel them all (goal: 1M in under 2 s). */
function memorySection(results: BenchResults): string[] {
  const memory = results.memory;
  if (memory === undefined) return [];
  const lines = ["## Memory on Node (weft)", ""];
  if (!Array.isArray(memory)) return [...lines, `Not measured: ${memory.unavailable}.`, ""];
  lines.push(
    "Tasks of one group parked in `sleep`, measured in a fresh process after a warm-up run of the same size: heap held per task " +
      "after full collections (goal ≤ 300 B), the time to spawn them until all were parked, and the time to cancel them all " +
      "until every `finally` had run (goal for 1M: under 2 s). Bytes are the same on any machine for a given V8; times depend on the load.",
    "",
    "| sleeping tasks | heap per task | goal | spawn all | cancel all | goal |",
    "|--:|--:|---|--:|--:|---|",
  );
  for (const m of memory) {
    const bytesMet = m.bytesPerTask <= 300 ? "met" : "**missed**";
    const cancelGoal = m.tasks === 1_000_000 ? (m.cancelMs < 2000 ? "< 2 s: met" : "< 2 s: **missed**") : "";
    lines.push(
      `| ${formatCount(m.tasks)} | ${m.bytesPerTask.toFixed(0)} B | ≤ 300 B: ${bytesMet} | ${m.spawnMs.toFixed(0)} ms | ${m.cancelMs.toFixed(0)} ms | ${cancelGoal} |`,
    );
  }
  lines.push("");
  return lines;
}

export function formatMarkdown(results: BenchResults): string {
  const m = results.machine;
  const lines = [
    "# weft benchmark results",
    "",
    `${results.date}, ${results.quick ? "`--quick` run (small N, not comparable with a full run)" : results.complete ? "full run" : "partial run"}, ` +
      `${(results.durationMs / 60_000).toFixed(1)} min; ${m.cores} cores (${m.cpu}), ${m.platform}, ${m.memoryGiB} GiB; ` +
      `load average ${results.load.start} at the start, ${results.load.end} at the end${Math.max(results.load.start, results.load.end) > m.cores ? " (other work shared the CPUs: expect noise)" : ""}.`,
    "",
    "Each cell is median ns/op (min–max over every timed run of the cell). Each workload checks its own result, " +
      "so a broken run reports no time. Compare ratios within one run: the machine is shared and noisy.",
    "",
  ];
  if (results.workloads.length > 0) {
    lines.push(
      "| workload | one op is | full N |",
      "|---|---|--:|",
      ...results.workloads.map((w) => `| ${w.name} | ${w.op} | ${formatCount(w.ops)} |`),
      "",
    );
  }
  for (const h of results.hosts) lines.push(...hostSection(results, h.id));
  lines.push(...targetSection(results));
  lines.push(...memorySection(results));
  for (const section of results.loads ?? []) lines.push(...formatLoadSection(section));
  if (results.workloads.length > 0) lines.push(...apiSection(results));
  return lines.join("\n");
}
