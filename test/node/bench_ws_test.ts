/**
 * The ws_echo benchmark (Node only) in a tiny configuration, so it cannot
 * rot: both echo servers start, every echo is checked, and the report has a
 * row per server and connection count with numbers in it. The numbers
 * depend on the host and are not asserted.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { echoLoad } from "../../bench/ws/echo_load.ts";
import { formatWsBench, wsBench, wsBenchRows, type EchoRun } from "../../bench/ws/run.ts";
import { loadSectionNames, loadSections } from "../../bench/load_sections.ts";

test("ws_echo: the weft and ws echo servers each answer every round trip over 1 and 3 connections", { timeout: 60_000 }, async () => {
  for (const kind of ["weft", "ws"] as const) {
    for (const connections of [1, 3]) {
      const result = await echoLoad(kind, { connections, perClient: 20, warmup: 2 });
      assert.equal(result.messages, connections * 20, kind);
      assert.ok(Number.isFinite(result.messagesPerSecond) && result.messagesPerSecond > 0, kind);
    }
  }
});

test("the ws_echo report lists both servers for each connection count, with weft's ratio", { timeout: 60_000 }, async () => {
  const report = await wsBench({ messages: 40, runs: 1, connections: [1, 4] });
  assert.deepEqual(
    report.rows.map((r) => [r.kind, r.connections, r.runs.length]),
    [
      ["weft", 1, 1],
      ["ws", 1, 1],
      ["weft", 4, 1],
      ["ws", 4, 1],
    ],
  );
  const markdown = formatWsBench(report);
  assert.match(markdown, /## ws_echo/);
  assert.match(
    markdown,
    /\| weft \(listenHttp \+ acceptWebSocket\) \| 4 \| [\d,]+ \| \d+\.\d\d× \| \d+\.\d\d× \(\d+\.\d\d–\d+\.\d\d\) \| (\d+\.\d µs|n\/a) \|/,
  );
  assert.match(markdown, /\| ws WebSocketServer \| 4 \| [\d,]+ \|  \|  \| (\d+\.\d µs|n\/a) \|/);
});

test("ws_echo is a load section of npm run bench, and runs as one", { timeout: 60_000 }, async () => {
  const section = loadSections.find((s) => s.name === "ws_echo");
  assert.ok(section !== undefined && loadSectionNames.includes("ws_echo"));
  const rows = wsBenchRows(await wsBench({ messages: 40, runs: 1 }));
  assert.deepEqual(
    rows.map((r) => [r[0], r[1]]),
    [
      ["weft (listenHttp + acceptWebSocket)", "1"],
      ["ws WebSocketServer", "1"],
      ["weft (listenHttp + acceptWebSocket)", "64"],
      ["ws WebSocketServer", "64"],
    ],
  );
  for (const row of rows) assert.equal(row.length, 6);
});

test("the two ws_echo servers take turns going first, run after run, and each row keeps its own runs", { timeout: 10_000 }, async () => {
  const order: string[] = [];
  const fake: EchoRun = async (kind, options) => {
    order.push(`${kind}/${options.connections}`);
    // weft's runs at 1 connection are numbered 100, 101, ...: the row must keep them, in order.
    const rate = (kind === "weft" ? 100 : 200) + order.filter((o) => o === `${kind}/${options.connections}`).length - 1;
    return { connections: options.connections, messages: 10, seconds: 1, messagesPerSecond: rate, cpuNsPerMessage: undefined };
  };
  const report = await wsBench({ messages: 40, runs: 4, connections: [1, 2] }, fake);
  assert.deepEqual(order, [
    ...["weft/1", "ws/1", "ws/1", "weft/1", "weft/1", "ws/1", "ws/1", "weft/1"],
    ...["weft/2", "ws/2", "ws/2", "weft/2", "weft/2", "ws/2", "ws/2", "weft/2"],
  ]);
  assert.deepEqual(
    report.rows[0]!.runs.map((r) => r.messagesPerSecond),
    [100, 101, 102, 103],
  );
  // The median of 100..103 over that of 200..203.
  assert.equal(wsBenchRows(report)[0]![3], `${(101.5 / 201.5).toFixed(2)}×`);
});

test("ws_echo's per-pair ratios divide each weft run by the ws run made next to it", { timeout: 10_000 }, async () => {
  // ws's rate falls run after run while weft's rises: ratios of medians and of pairs differ.
  const weftRates = [100, 110, 120, 130, 140];
  const wsRates = [200, 150, 100, 70, 50];
  const made = { weft: 0, ws: 0 };
  const fake: EchoRun = async (kind, options) => {
    const rate = (kind === "weft" ? weftRates : wsRates)[made[kind]++]!;
    return { connections: options.connections, messages: 10, seconds: 1, messagesPerSecond: rate, cpuNsPerMessage: 5000 };
  };
  const rows = wsBenchRows(await wsBench({ messages: 10, runs: 5, connections: [1] }, fake));
  const ratios = weftRates.map((r, i) => r / wsRates[i]!).sort((a, b) => a - b);
  assert.deepEqual(rows[0], [
    "weft (listenHttp + acceptWebSocket)",
    "1",
    "120",
    `${(120 / 100).toFixed(2)}×`,
    `${ratios[2]!.toFixed(2)}× (${ratios[0]!.toFixed(2)}–${ratios[4]!.toFixed(2)})`,
    "5.0 µs",
  ]);
  assert.deepEqual(rows[1], ["ws WebSocketServer", "1", "100", "", "", "5.0 µs"]);
});
