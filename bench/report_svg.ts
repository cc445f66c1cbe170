/**
 * The chart the README embeds: one panel per host, grouped bars per workload
 * (one bar per peer), median ns/op on a shared log scale with a labelled tick
 * per decade. Hand-written SVG on a white background, so it reads the same in
 * light and dark themes.
 */
import { hostLabels, type PeerId } from "./catalog.ts";
import { findCell, type BenchResults } from "./results.ts";

export const peerColors: Record<PeerId, string> = {
  weft: "#1f5fbf",
  "weft-pump": "#7fb2ef",
  "await-microtask": "#e8710a",
  "await-immediate": "#f6b26b",
  effection: "#2e9e44",
  effect: "#c62828",
  trampoline: "#6d6d6d",
};

/** Powers of ten from the one at or below `lo` to the one at or above `hi`. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi >= lo)) throw new RangeError(`logTicks(): expected 0 < lo <= hi, got ${lo}, ${hi}`);
  const first = Math.floor(Math.log10(lo) + 1e-9);
  let last = Math.ceil(Math.log10(hi) - 1e-9);
  if (last === first) last++;
  const ticks: number[] = [];
  for (let e = first; e <= last; e++) ticks.push(Number((10 ** e).toPrecision(1)));
  return ticks;
}

/** A tick label: ns, µs, ms or s. */
export function tickLabel(ns: number): string {
  const units: [number, string][] = [
    [1e9, "s"],
    [1e6, "ms"],
    [1e3, "µs"],
    [1, "ns"],
  ];
  for (const [size, unit] of units) {
    if (ns >= size) return `${Number((ns / size).toPrecision(3))} ${unit}`;
  }
  return `${Number(ns.toPrecision(3))} ns`;
}

/** Maps a value on [lo, hi] (log scale) to [bottom, top] in pixels (bottom > top). */
export function logScale(lo: number, hi: number, bottom: number, top: number): (v: number) => number {
  const a = Math.log10(lo);
  const span = Math.log10(hi) - a;
  return (v) => bottom - ((Math.log10(v) - a) / span) * (bottom - top);
}

/** Short names so the workload labels fit under their group. */
export function shortName(workload: string): string {
  return workload
    .replace("_throughput", "")
    .replace("timer_burst_sleep", "timers sleep(")
    .replace(/sleep\((\d)$/, "sleep($1)");
}

/** Legend entries as wide as their labels (about 6.2 px a character at 12 px), wrapping into rows. */
function layoutLegend(results: BenchResults, maxX: number, left: number): { items: string[]; bottom: number } {
  const items: string[] = [];
  let x = left;
  let y = 34;
  for (const { id, label } of results.peers) {
    const width = 17 + Math.ceil(label.length * 6.2) + 14;
    if (x + width > maxX && x > left) {
      x = left;
      y += 18;
    }
    items.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${peerColors[id]}"/>`);
    items.push(`<text x="${x + 17}" y="${y + 10}" fill="#222">${esc(label)}</text>`);
    x += width;
  }
  return { items, bottom: y + 12 };
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderSvg(results: BenchResults): string {
  const hostsShown = results.hosts.filter((h) => h.unavailable === undefined);
  const peers = results.peers.map((p) => p.id);
  const workloads = results.workloads.map((w) => w.name);
  const values = results.cells.filter((c) => c.status === "ok" && c.median! > 0).map((c) => c.median!);
  const lo = values.length > 0 ? Math.min(...values) : 1;
  const hi = values.length > 0 ? Math.max(...values) : 10;
  const ticks = logTicks(lo, hi);
  const W = 1080;
  const left = 72;
  const right = 16;
  const legend = layoutLegend(results, W - right, left);
  const legendH = legend.bottom + 10;
  const panelH = 210;
  const plotTop = 28;
  const plotH = 140;
  const H = legendH + panelH * Math.max(1, hostsShown.length) + 34;
  const groupW = (W - left - right) / workloads.length;
  const barW = Math.max(2, Math.floor((groupW - 14) / peers.length));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="15" font-weight="600" fill="#111">weft benchmark: median ns/op per workload (log scale, lower is better)</text>`,
  ];
  out.push(...legend.items);
  hostsShown.forEach((host, hi2) => {
    const y0 = legendH + hi2 * panelH;
    const top = y0 + plotTop;
    const bottom = top + plotH;
    const y = logScale(ticks[0]!, ticks[ticks.length - 1]!, bottom, top);
    out.push(
      `<text x="${left}" y="${y0 + 18}" font-size="13" font-weight="600" fill="#111">${esc(hostLabels[host.id])}${host.version !== undefined ? ` <tspan font-weight="400" fill="#555">${esc(host.version)}</tspan>` : ""}</text>`,
    );
    for (const t of ticks) {
      const ty = y(t).toFixed(1);
      out.push(`<line x1="${left}" x2="${W - right}" y1="${ty}" y2="${ty}" stroke="#dddddd" stroke-width="1"/>`);
      out.push(`<text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(tickLabel(t))}</text>`);
    }
    out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#888"/>`);
    workloads.forEach((w, wi) => {
      const gx = left + wi * groupW + 7;
      peers.forEach((p, pi) => {
        const cell = findCell(results, host.id, p, w);
        const x = gx + pi * barW;
        if (cell?.status === "ok" && cell.median! > 0) {
          const by = y(cell.median!);
          out.push(
            `<rect x="${x.toFixed(1)}" y="${by.toFixed(1)}" width="${barW - 1}" height="${(bottom - by).toFixed(1)}" fill="${peerColors[p]}">` +
              `<title>${esc(`${hostLabels[host.id]} · ${p} · ${w}: ${Number(cell.median!.toPrecision(3))} ns/op (N=${cell.n})`)}</title></rect>`,
          );
        } else {
          out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${bottom - 3}" text-anchor="middle" font-size="8" fill="#999">×</text>`);
        }
      });
      out.push(
        `<text x="${(gx + (peers.length * barW) / 2).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" fill="#222">${esc(shortName(w))}</text>`,
      );
    });
  });
  out.push(
    `<text x="${left}" y="${H - 12}" fill="#555" font-size="11">× = no time (n/a on this host, or failed): see bench/results/latest.md. ${esc(results.date)}${results.quick ? ", --quick run" : ""}.</text>`,
    "</svg>",
    "",
  );
  return out.join("\n");
}
