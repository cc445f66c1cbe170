/**
 * The README's fetch recipe (issue 15): cancelling a task that is reading a
 * response body must stop the download. The recipe used to fetch with the
 * call's signal and then read the body with a second, signal-less call, so
 * after a cancellation the socket stayed open and the body kept coming.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { call, run, withTaskGroup, type Operation } from "../../src/index.ts";

/** The recipe as the README gives it: one `call` around the request and the body read. */
function* fetchText(url: string): Operation<string> {
  return yield* call(async (signal) => {
    const response = await fetch(url, { signal });
    return response.text();
  });
}

/** A hang detector: the close comes within milliseconds; the old recipe never closed. */
const CLOSE_LIMIT_MS = 15_000;

test("the README's fetch recipe is the one this test runs", { timeout: 10_000 }, () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  for (const line of ["call(async (signal) => {", "const response = await fetch(url, { signal });", "return response.text();"]) {
    assert.ok(readme.includes(line), `README has no ${JSON.stringify(line)}`);
  }
});

test("cancelling the fetch recipe while the body is downloading closes the socket", { timeout: 30_000 }, async () => {
  // Cancel only once the body is being read (the part the old recipe left running).
  let bodyRead!: () => void;
  const bodyReading = new Promise<void>((resolve) => (bodyRead = resolve));
  const text = Response.prototype.text;
  Response.prototype.text = function (this: Response) {
    bodyRead();
    return text.call(this);
  };
  // The server sends the headers and a first chunk, then a chunk every 20 ms for as long as the socket is open.
  let firstChunk!: () => void;
  const bodyStarted = new Promise<void>((resolve) => (firstChunk = resolve));
  let socketClosed!: (chunksAfterCancel: number) => void;
  const closed = new Promise<number>((resolve) => (socketClosed = resolve));
  let cancelledAt: number | undefined;
  let chunks = 0;
  const responses = new Set<ServerResponse>();
  const server = createServer((_req, res) => {
    responses.add(res);
    res.writeHead(200, { "content-type": "text/plain" });
    const trickle = setInterval(() => {
      chunks++;
      res.write("x".repeat(1024));
    }, 20);
    res.write("first chunk\n", () => firstChunk());
    res.socket!.on("close", () => {
      clearInterval(trickle);
      socketClosed(cancelledAt === undefined ? -1 : chunks - cancelledAt);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    let outcome = "none";
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const download = group.spawn(() => fetchText(url), { allowFailure: true });
        yield* call(() => Promise.all([bodyStarted, bodyReading]));
        cancelledAt = chunks;
        download.cancel();
        try {
          yield* download.wait();
          outcome = "finished";
        } catch (error) {
          outcome = String(error);
        }
      });
    });
    assert.match(outcome, /Cancelled/);
    let limit: NodeJS.Timeout | undefined;
    const afterCancel = await Promise.race([
      closed,
      new Promise<"open">((resolve) => (limit = setTimeout(() => resolve("open"), CLOSE_LIMIT_MS))),
    ]);
    clearTimeout(limit);
    assert.notEqual(
      afterCancel,
      "open",
      `the socket was still open and downloading (${chunks - (cancelledAt ?? 0)} chunks sent) ${CLOSE_LIMIT_MS} ms after the cancellation`,
    );
    assert.notEqual(afterCancel, -1, "the socket closed before the cancellation");
  } finally {
    Response.prototype.text = text;
    for (const res of responses) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
