/**
 * The ws_echo benchmark (Node only) in a tiny configuration, so it cannot
 * rot: the three echo servers start, every echo is checked, and the report
 * has a row per server and connection count with numbers in it. The numbers
 * depend on the host and are not asserted.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { echoLoad } from "../../bench/ws/echo_load.ts";
import { ECHO_SERVER_KINDS, formatWsBench, runOrder, wsBench, wsBenchRows, type EchoRun } from "../../bench/ws/run.ts";
import { loadSectionNames, loadSections } from "../../bench/load_sections.ts";

test("ws_echo: the weft, ws and raw echo servers each answer every round trip over 1 and 3 connections", { timeout: 60_000 }, async () => {
  for (const kind of ["weft", "ws", "raw"] as const) {
    for (const connections of [1, 3]) {
      const result = await echoLoad(kind, { connections, perClient: 20, warmup: 2 });
      assert.equal(result.messages, connections * 20, kind);
      assert.ok(Number.isFinite(result.messagesPerSecond) && result.messagesPerSecond > 0, kind);
    }
  }
});

test("the ws_echo report lists the three servers for each connection count, with their ratios to ws", { timeout: 60_000 }, async () => {
  const report = await wsBench({ messages: 40, runs: 1, connections: [1, 4] });
  assert.deepEqual(
    report.rows.map((r) => [r.kind, r.connections, r.runs.length]),
    [
      ["weft", 1, 1],
      ["ws", 1, 1],
      ["raw", 1, 1],
      ["weft", 4, 1],
      ["ws", 4, 1],
      ["raw", 4, 1],
    ],
  );
  const markdown = formatWsBench(report);
  assert.match(markdown, /## ws_echo/);
  assert.match(
    markdown,
    /\| weft \(listenHttp \+ acceptWebSocket\) \| 4 \| [\d,]+ \| \d+\.\d\d× \| \d+\.\d\d× \(\d+\.\d\d–\d+\.\d\d\) \| (\d+\.\d µs|n\/a) \|/,
  );
  assert.match(markdown, /\| ws WebSocketServer \| 4 \| [\d,]+ \|  \|  \| (\d+\.\d µs|n\/a) \|/);
  assert.match(
    markdown,
    /\| raw node:net callbacks \(no library\) \| 4 \| [\d,]+ \| \d+\.\d\d× \| \d+\.\d\d× \(\d+\.\d\d–\d+\.\d\d\) \| (\d+\.\d µs|n\/a) \|/,
  );
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
      ["raw node:net callbacks (no library)", "1"],
      ["weft (listenHttp + acceptWebSocket)", "64"],
      ["ws WebSocketServer", "64"],
      ["raw node:net callbacks (no library)", "64"],
    ],
  );
  for (const row of rows) assert.equal(row.length, 6);
});

test("ws_echo's servers run one of each per round, each round the last one backwards or rotated, and each row keeps its own runs", {
  timeout: 10_000,
}, async () => {
  const order: string[] = [];
  const fake: EchoRun = async (kind, options) => {
    order.push(`${kind}/${options.connections}`);
    // weft's runs at 1 connection are numbered 100, 101, ...: the row must keep them, in order.
    const rate = (kind === "weft" ? 100 : 200) + order.filter((o) => o === `${kind}/${options.connections}`).length - 1;
    return { connections: options.connections, messages: 10, seconds: 1, messagesPerSecond: rate, cpuNsPerMessage: undefined };
  };
  const report = await wsBench({ messages: 40, runs: 4, connections: [1, 2] }, fake);
  const rounds = (n: number): string[] =>
    ["weft ws raw", "raw ws weft", "ws raw weft", "weft raw ws"].flatMap((round) => round.split(" ").map((kind) => `${kind}/${n}`));
  assert.deepEqual(order, [...rounds(1), ...rounds(2)]);
  assert.deepEqual(
    report.rows[0]!.runs.map((r) => r.messagesPerSecond),
    [100, 101, 102, 103],
  );
  // The median of 100..103 over that of 200..203.
  assert.equal(wsBenchRows(report)[0]![3], `${(101.5 / 201.5).toFixed(2)}×`);
});

test("over six rounds every ws_echo server runs twice in each place, and each odd round mirrors the one before", {
  timeout: 10_000,
}, () => {
  const places = new Map<string, number[]>(ECHO_SERVER_KINDS.map((kind) => [kind, [0, 0, 0]]));
  for (let run = 0; run < 6; run++) {
    const order = runOrder(ECHO_SERVER_KINDS, run);
    assert.deepEqual([...order].sort(), [...ECHO_SERVER_KINDS].sort(), `round ${run} runs each server once`);
    order.forEach((kind, place) => places.get(kind)![place]!++);
    if (run % 2 === 1) assert.deepEqual(order, runOrder(ECHO_SERVER_KINDS, run - 1).reverse());
  }
  for (const [kind, counts] of places) assert.deepEqual(counts, [2, 2, 2], kind);
  // Two servers: they take turns going first.
  assert.deepEqual(
    [0, 1, 2, 3].map((run) => runOrder(["weft", "ws"], run).join(" ")),
    ["weft ws", "ws weft", "ws weft", "weft ws"],
  );
});

test("ws_echo's per-pair ratios divide each weft run by the ws run made next to it", { timeout: 10_000 }, async () => {
  // ws's rate falls run after run while weft's rises: ratios of medians and of pairs differ.
  const weftRates = [100, 110, 120, 130, 140];
  const wsRates = [200, 150, 100, 70, 50];
  const made = { weft: 0, ws: 0, raw: 0 };
  const fake: EchoRun = async (kind, options) => {
    const rate = (kind === "weft" ? weftRates : wsRates)[made[kind]++]!;
    return { connections: options.connections, messages: 10, seconds: 1, messagesPerSecond: rate, cpuNsPerMessage: 5000 };
  };
  const rows = wsBenchRows(await wsBench({ messages: 10, runs: 5, connections: [1], kinds: ["weft", "ws"] }, fake));
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
