/**
 * The benchmark's IO workloads (Node only): the stream pattern catches lost,
 * reordered and truncated data wherever reads split it, and each workload
 * moves a small N through a real pipe or socket and returns its count.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { CHUNK, PatternCheck, fillChunk, newChunk } from "../../bench/io/pattern.ts";
import { consumeForAwait, consumeReadable, streamsBufferedPipe, weftBufferedPipe } from "../../bench/io/buffered_pipe.ts";
import { CONNECTIONS, echoLoad } from "../../bench/io/echo_load.ts";
import { streamsGzipPipe, weftGzipPipe } from "../../bench/io/gzip_pipe.ts";
import { hasCommand } from "./tls_support.ts";

/** `count` chunks of the pattern as one byte array. */
function stream(count: number, order = Array.from({ length: count }, (_, i) => i)): Uint8Array {
  const out = new Uint8Array(count * CHUNK);
  const chunk = newChunk();
  order.forEach((index, at) => {
    fillChunk(chunk, index);
    out.set(chunk, at * CHUNK);
  });
  return out;
}

test("pattern: a stream split at odd places checks out and counts its chunks", () => {
  const bytes = stream(300);
  const received = new PatternCheck();
  for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 3) % 5000 || 1) {
    received.add(bytes, at, Math.min(bytes.length, at + step));
  }
  assert.equal(received.chunks(), 300);
});

test("pattern: swapped chunks, a changed byte and a stream ending inside a chunk all fail", () => {
  assert.throws(() => new PatternCheck().add(stream(4, [0, 2, 1, 3])), /IO pattern: byte 1024 is 2, expected 1/);
  const broken = stream(3);
  broken[2 * CHUNK - 1]! ^= 1;
  assert.throws(() => new PatternCheck().add(broken), /byte 2047/);
  const short = new PatternCheck();
  short.add(stream(2).subarray(0, CHUNK + 10));
  assert.throws(() => short.chunks(), /ended after 1034 bytes, inside a chunk/);
});

test("buffered_io_pipe: weft and both stream readers move N KiB through cat", async () => {
  // 200 KiB: more than the 64 KiB buffer and an OS pipe's capacity, so back-pressure is exercised.
  assert.equal(await weftBufferedPipe(200), 200);
  assert.equal(await streamsBufferedPipe(200, consumeForAwait), 200);
  assert.equal(await streamsBufferedPipe(200, consumeReadable), 200);
  assert.equal(await weftBufferedPipe(0), 0);
});

test("tcp_echo: every server kind echoes N round trips spread over the connections", async () => {
  for (const kind of ["weft", "raw", "await"] as const) {
    const load = echoLoad(kind);
    assert.equal(await load(3 * CONNECTIONS + 7), 3 * CONNECTIONS + 7, kind);
    assert.equal(await load(5), 5, kind);
  }
});

test("gzip_pipe: weft and both node:zlib stream readers move N KiB through gzip and back", { timeout: 60_000 }, async () => {
  // 300 KiB: several 64 KiB blocks and a last partial one.
  for (const n of [300, 64, 1, 0]) {
    assert.equal(await weftGzipPipe(n), n);
    assert.equal(await streamsGzipPipe(n, consumeForAwait), n);
    assert.equal(await streamsGzipPipe(n, consumeReadable), n);
  }
});

test("tls_echo: the weft and raw node:tls servers echo N round trips spread over TLS connections", {
  timeout: 120_000,
  skip: !hasCommand("openssl") && "openssl is not installed (the TLS echo servers make their certificate with it)",
}, async () => {
  for (const kind of ["weft-tls", "raw-tls"] as const) {
    const load = echoLoad(kind);
    assert.equal(await load(3 * CONNECTIONS + 7), 3 * CONNECTIONS + 7, kind);
    assert.equal(await load(5), 5, kind);
  }
});
