/**
 * Hostile input against weft's HTTP/1.1 codec, one named test per rejection
 * issue 13 lists: the status a server answers (400, 414, 431, 501, 505), and
 * that nothing after the bad message is parsed (each case is followed by a
 * valid request, which must not come out). Then the memory bound (a 64 MiB
 * header line or request line pulls less than 1 MiB from its source) and the
 * serializer's refusal of CR, LF and NUL in anything a user passes.
 *
 * The codec is loaded at run time (http_differential_support.ts, `loadWeftCodec`):
 * on a branch where it is not built yet these tests are skipped, saying so.
 */
import { test, type TestContext } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { latin1, latin1Portable } from "../../src/http/codec/chars.ts";
import type { Operation } from "../../src/index.ts";
import { ReaderBase } from "../../src/io.ts";
import { runVirtual } from "../../src/testing.ts";
import {
  latin1Bytes,
  loadHttpModule,
  loadWeftCodec,
  weftRequestOutcome,
  type Outcome,
  type WeftCodec,
} from "./http_differential_support.ts";

const NEXT = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

async function codecOrSkip(t: TestContext): Promise<WeftCodec | undefined> {
  const loaded = await loadWeftCodec();
  if ("missing" in loaded) {
    t.skip(loaded.missing);
    return undefined;
  }
  return loaded.codec;
}

/** What the codec makes of `text` followed by a valid request, the bytes cut after every byte of the first 64 and in one piece. */
async function outcomes(codec: WeftCodec, text: string): Promise<Outcome[]> {
  const bytes = latin1Bytes(text + NEXT);
  const bytewise = [...Array.from({ length: Math.min(64, bytes.length) }, (_, i) => bytes.subarray(i, i + 1)), bytes.subarray(64)].filter(
    (p) => p.length > 0,
  );
  return [await weftRequestOutcome(codec, [bytes]), await weftRequestOutcome(codec, bytewise)];
}

const CASES: [name: string, text: string, status: number | readonly number[]][] = [
  [
    "Content-Length with Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  [
    "Transfer-Encoding with Content-Length after it",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n",
    400,
  ],
  ["differing Content-Lengths on two lines", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400],
  ["differing Content-Lengths in one list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", 400],
  ["a malformed Content-Length (+3)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400],
  ["a malformed Content-Length (0x3)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400],
  ["an empty Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400],
  ["a negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc", 400],
  ["a Content-Length past 2^53", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\nabc", 400],
  [
    "Transfer-Encoding whose final coding is not chunked (chunked, gzip)",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    [400, 501],
  ],
  ["Transfer-Encoding: xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", [400, 501]],
  [
    "Transfer-Encoding: chunked twice",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    [400, 501],
  ],
  [
    "an unknown coding before chunked (gzip, chunked): 501",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    501,
  ],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400],
  ["a bare CR in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400],
  ["a bare CR ending a field line", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400],
  ["a bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400],
  ["a bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400],
  ["whitespace between a field name and the colon", "GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n", 400],
  ["a space inside a field name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n", 400],
  ["a non-token character in a field name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", 400],
  ["an empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", 400],
  ["a control character in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u0001b\r\n\r\n", 400],
  ["DEL in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u007fb\r\n\r\n", 400],
  ["NUL in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n", 400],
  ["NUL in a field name", "GET / HTTP/1.1\r\nHost: a\r\nX\u0000: b\r\n\r\n", 400],
  ["NUL in the request target", "GET /a\u0000b HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  [
    "a chunk size that overflows",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    400,
  ],
  ["a non-hex chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400],
  ["a chunk size with 0x", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400],
  ["chunk data longer than its size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 400],
  ["obs-fold in a trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400],
  ["a missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400],
  ["a doubled Host on HTTP/1.1", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  ["HTTP/2.0 in a request line: 505", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
  ["a request line over 8 KiB: 414", `GET /${"a".repeat(8200)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
  ["a header block over 16 KiB: 431", `GET / HTTP/1.1\r\nHost: a\r\n${"X-Pad: ".concat("v".repeat(1000), "\r\n").repeat(17)}\r\n`, 431],
  [
    "more than 100 field lines: 431",
    `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 101 }, (_, i) => `x${i}: 1\r\n`).join("")}\r\n`,
    431,
  ],
];

for (const [name, text, status] of CASES) {
  const statuses = typeof status === "number" ? [status] : status;
  test(`rejects ${name} with ${statuses.join(" or ")} and parses nothing after it`, { timeout: 30_000 }, async (t) => {
    const codec = await codecOrSkip(t);
    if (codec === undefined) return;
    for (const outcome of await outcomes(codec, text)) {
      assert.deepEqual(outcome.requests, [], "no request before or after the bad one");
      assert.ok(outcome.rejected !== undefined, `accepted: ${JSON.stringify(text)}`);
      assert.ok(statuses.includes(outcome.rejected.status), `status ${outcome.rejected.status} (${outcome.rejected.reason})`);
    }
  });
}

test("the same request line and field block within the limits is accepted (the limits are not off by one the other way)", {
  timeout: 30_000,
}, async (t) => {
  const codec = await codecOrSkip(t);
  if (codec === undefined) return;
  const fields = Array.from({ length: 98 }, (_, i) => `x${i}: 1\r\n`).join("");
  for (const outcome of await outcomes(codec, `GET /${"a".repeat(8000)} HTTP/1.1\r\nHost: a\r\n${fields}\r\n`)) {
    assert.equal(outcome.rejected, undefined);
    assert.deepEqual(
      outcome.requests.map((r) => [r.target.length, r.fields.length]),
      [
        [8001, 99],
        [5, 1],
      ],
    );
  }
});

/** A head that never ends: `prefix`, then "x" bytes up to `total`, counting what was pulled. */
class EndlessHead extends ReaderBase {
  pulled = 0;
  #closed = false;
  readonly #prefix: Uint8Array;
  constructor(
    prefix: string,
    readonly total: number,
  ) {
    super();
    this.#prefix = latin1Bytes(prefix);
  }
  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    if (this.pulled >= this.total) return undefined;
    const n = Math.min(sizeHint, this.total - this.pulled);
    const chunk = new Uint8Array(n).fill(0x78);
    if (this.pulled < this.#prefix.length) chunk.set(this.#prefix.subarray(this.pulled, this.pulled + n));
    this.pulled += n;
    return chunk;
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  close(): void {
    this.#closed = true;
  }
}

for (const [what, prefix, status] of [
  ["header line", "GET / HTTP/1.1\r\nHost: a\r\nX-Endless: ", 431],
  ["request line", "GET /", 414],
] as const) {
  test(`a 64 MiB ${what} is refused with ${status} after less than 1 MiB pulled from the peer`, { timeout: 30_000 }, async (t) => {
    const codec = await codecOrSkip(t);
    if (codec === undefined) return;
    const limits = codec.resolveLimits("hostile test", undefined);
    const result = await runVirtual(function* () {
      const source = new EndlessHead(prefix, 64 * 1024 * 1024);
      const input = new codec.HttpInput(source);
      try {
        yield* input.readRequestHead(limits);
        return { accepted: true, pulled: source.pulled, status: 0 };
      } catch (error) {
        if (!(error instanceof codec.HttpProtocolError)) throw error;
        return { accepted: false, pulled: source.pulled, status: error.status };
      }
    });
    assert.equal(result.accepted, false);
    assert.equal(result.status, status);
    assert.ok(result.pulled < 1024 * 1024, `pulled ${result.pulled} bytes`);
  });
}

/** The TypeError `fn` throws, or a failure naming what it returned. */
function typeErrorOf(fn: () => unknown): TypeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TypeError, `threw ${String(error)}`);
    return error;
  }
  assert.fail("accepted");
}

const BAD = ["a\rb", "a\nb", "a\r\nX-Injected: 1", "a\u0000b"];

test("HttpHeaders refuses CR, LF and NUL in a field name or value with a TypeError", { timeout: 30_000 }, async (t) => {
  const loaded = await loadHttpModule("headers.js");
  if ("missing" in loaded) return t.skip(loaded.missing);
  const HttpHeaders = loaded.module.HttpHeaders as new (
    init?: unknown,
  ) => { set(n: string, v: string): unknown; append(n: string, v: string): unknown };
  for (const bad of BAD) {
    typeErrorOf(() => new HttpHeaders({ "x-a": bad }));
    typeErrorOf(() => new HttpHeaders([[bad, "v"]]));
    typeErrorOf(() => new HttpHeaders().set("x-a", bad));
    typeErrorOf(() => new HttpHeaders().append(bad, "v"));
  }
});

test("the serializer refuses CR, LF and NUL in a method, target or reason phrase with a TypeError naming the argument", {
  timeout: 30_000,
}, async (t) => {
  const [serialize, headers] = await Promise.all([loadHttpModule("codec/serialize.js"), loadHttpModule("headers.js")]);
  if ("missing" in serialize) return t.skip(serialize.missing);
  if ("missing" in headers) return t.skip(headers.missing);
  const HttpHeaders = headers.module.HttpHeaders as new (init?: unknown) => unknown;
  const requestHeadBytes = serialize.module.requestHeadBytes as (m: string, t: string, h: unknown) => Uint8Array;
  const responseHeadBytes = serialize.module.responseHeadBytes as (s: number, r: string | undefined, h: unknown) => Uint8Array;
  const h = new HttpHeaders({ host: "a" });
  for (const bad of BAD) {
    assert.match(typeErrorOf(() => requestHeadBytes(`GET${bad}`, "/", h)).message, /method/);
    assert.match(typeErrorOf(() => requestHeadBytes("GET", `/${bad}`, h)).message, /target/);
    assert.match(typeErrorOf(() => responseHeadBytes(200, `OK${bad}`, h)).message, /reason/);
  }
  assert.ok(requestHeadBytes("GET", "/", h).length > 0, "a clean head is still accepted");
});

test("Latin-1 decoding: Node's native decoder and the portable one give every byte value as the same char", { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 9000 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const start = bytes.length === 0 ? 0 : a % bytes.length;
      const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
      let expected = "";
      for (let i = start; i < end; i++) expected += String.fromCharCode(bytes[i]!);
      assert.equal(latin1Portable(bytes, start, end), expected);
      assert.equal(latin1(bytes, start, end), expected);
      assert.equal(latin1(Buffer.from(bytes), start, end), expected);
    }),
    { numRuns: 300 },
  );
});
