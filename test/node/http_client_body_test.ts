/**
 * The client's response body when the transport hands over more than one
 * read asks for. Node's sockets deliver at most 64 KiB a read, Bun's and
 * Deno's hundreds of KiB at once: the body's tail then arrives in the same
 * chunk as bytes already read, and must still be read (a Content-Length body
 * was cut short on Bun, silently). The transport here is in memory and
 * hands over the whole wire in one chunk, so this runs the same on every host.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import type { Operation } from "../../src/core/operation.ts";
import { run } from "../../src/index.ts";
import { DecodedBody } from "../../src/http/client/decoded_body.ts";
import { OriginPool, PooledConnection } from "../../src/http/client/pool.ts";
import { ResponseBody } from "../../src/http/client/response.ts";
import { bodyReader } from "../../src/http/codec/body_reader.ts";
import { responseFraming } from "../../src/http/codec/framing.ts";
import { resolveLimits } from "../../src/http/limits.ts";
import { gunzipReader } from "../../src/io.ts";
import { DuplexBase } from "../../src/io/duplex.ts";

const T = { timeout: 30_000 };

/** A connection whose peer sent `wire` in one piece: the first read returns all of it. */
class OneChunk extends DuplexBase {
  #wire: Uint8Array | undefined;
  #closed = false;

  constructor(wire: Uint8Array) {
    super();
    this.#wire = wire;
  }

  protected *readChunk(): Operation<Uint8Array | undefined> {
    const wire = this.#wire;
    this.#wire = undefined;
    return wire;
  }

  protected *writeChunk(): Operation<void> {}

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The body of the next response on `conn`, as the client builds it (decoded when `gzip`). */
function* nextBody(conn: PooledConnection, gzip = false): Operation<ResponseBody | DecodedBody> {
  const limits = resolveLimits("test", undefined);
  const head = yield* conn.input.readResponseHead(limits);
  assert.ok(head !== undefined);
  const raw = new ResponseBody(bodyReader(conn.input, responseFraming(head, "GET"), limits, 502), conn, 5_000);
  return gzip ? new DecodedBody(raw, gunzipReader(raw)) : raw;
}

const pattern = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt) & 0xff);

test("a Content-Length body and the next response, all in one transport chunk, are each read whole", T, async () => {
  const first = pattern(300_000, 1);
  const second = pattern(70_000, 2);
  const wire = concat(
    ascii(`HTTP/1.1 200 OK\r\ncontent-length: ${first.length}\r\n\r\n`),
    first,
    ascii(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${second.length.toString(16)}\r\n`),
    second,
    ascii("\r\n0\r\n\r\n"),
  );
  await run(function* () {
    const pool = new OriginPool(1);
    yield* pool.slots.acquire();
    const conn = new PooledConnection(new OneChunk(wire), pool);
    const a = yield* nextBody(conn);
    assert.deepEqual((yield* a.readAll()).bytes(), first);
    // The first body ended where it should: the connection went back to the pool, at the second response.
    assert.equal(pool.idle.length, 1);
    yield* pool.slots.acquire();
    pool.idle.pop();
    const b = yield* nextBody(conn);
    assert.deepEqual((yield* b.readAll()).bytes(), second);
  });
});

test("a gzip body and the next response, all in one transport chunk, are each read whole", T, async () => {
  const plain = pattern(400_000, 3);
  const gz = gzipSync(plain);
  const next = pattern(1_000, 4);
  const wire = concat(
    ascii(`HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${gz.length}\r\n\r\n`),
    gz,
    ascii(`HTTP/1.1 200 OK\r\ncontent-length: ${next.length}\r\n\r\n`),
    next,
  );
  await run(function* () {
    const pool = new OriginPool(1);
    yield* pool.slots.acquire();
    const conn = new PooledConnection(new OneChunk(wire), pool);
    const a = yield* nextBody(conn, true);
    assert.deepEqual((yield* a.readAll()).bytes(), new Uint8Array(plain));
    assert.equal(pool.idle.length, 1);
    yield* pool.slots.acquire();
    pool.idle.pop();
    const b = yield* nextBody(conn);
    assert.deepEqual((yield* b.readAll()).bytes(), next);
  });
});
