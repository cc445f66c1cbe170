/**
 * The benchmark's HTTP workloads (Node only) in a tiny configuration, so they
 * cannot rot: each side produces numbers (wrk's summary parsed, the server's
 * CPU read from /proc, every client answer checked). The numbers themselves
 * depend on the host and are not asserted.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { httpClientLoad } from "../../bench/http/client_load.ts";
import { formatHttpBench, httpBench } from "../../bench/http/run.ts";
import { httpServerLoad, parseWrk, wrkMissing } from "../../bench/http/server_load.ts";

test("parseWrk reads the request count, the duration and the errors of wrk's summary", () => {
  const output = [
    "Running 2s test @ http://127.0.0.1:1234/",
    "  2 threads and 4 connections",
    "  41234 requests in 2.00s, 4.05MB read",
    "  Socket errors: connect 0, read 2, write 0, timeout 1",
    "  Non-2xx or 3xx responses: 4",
    "Requests/sec:  20617.00",
  ].join("\n");
  assert.deepEqual(parseWrk(output), { requests: 41234, seconds: 2, errors: 7 });
  assert.deepEqual(parseWrk("  10 requests in 500.00ms, 1KB read"), { requests: 10, seconds: 0.5, errors: 0 });
  assert.throws(() => parseWrk("unable to connect"), /no "requests in" line/);
});

test("http_server: wrk drives the weft and node:http hello servers and both give requests/s and CPU per request", {
  timeout: 60_000,
  skip: wrkMissing(),
}, async () => {
  for (const kind of ["weft", "node"] as const) {
    const result = await httpServerLoad(kind, { threads: 1, connections: 4, duration: 1, warmup: 0 });
    assert.ok(!("skipped" in result), kind);
    assert.ok(result.requests > 0, kind);
    assert.equal(result.errors, 0, kind);
    assert.ok(Number.isFinite(result.requestsPerSecond) && result.requestsPerSecond > 0, kind);
    assert.ok(Number.isFinite(result.cpuNsPerRequest) && result.cpuNsPerRequest >= 0, kind);
  }
});

test("http_client: weft's HttpClient and undici each get N intact answers over keep-alive connections", { timeout: 60_000 }, async () => {
  for (const kind of ["weft", "undici"] as const) {
    const load = httpClientLoad(kind, 4);
    try {
      assert.equal(await load(4 * 3 + 2), 14, kind);
      assert.equal(await load(1), 1, kind);
    } finally {
      load.stop();
    }
  }
});

test("the HTTP benchmark's report lists both workloads (skipped server rows when wrk is missing)", { timeout: 60_000 }, async () => {
  const report = await httpBench({ duration: 1, requests: 20, runs: 1, connections: [4] });
  assert.equal(report.server.length, 2);
  assert.deepEqual(
    report.client.map((c) => [c.kind, c.nsPerRequest.length, Number.isFinite(c.nsPerRequest[0])]),
    [
      ["weft", 1, true],
      ["undici", 1, true],
    ],
  );
  const markdown = formatHttpBench(report);
  assert.match(markdown, /## http_server/);
  assert.match(markdown, /undici request \+ Pool \| 20 \|/);
});
