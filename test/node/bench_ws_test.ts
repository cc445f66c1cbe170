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
import { formatWsBench, wsBench, wsBenchRows } from "../../bench/ws/run.ts";
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
  assert.match(markdown, /\| weft \(listenHttp \+ acceptWebSocket\) \| 4 \| [\d,]+ \| \d+\.\d\d× \| (\d+\.\d µs|n\/a) \|/);
  assert.match(markdown, /\| ws WebSocketServer \| 4 \| [\d,]+ \|  \| (\d+\.\d µs|n\/a) \|/);
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
  for (const row of rows) assert.equal(row.length, 5);
});
