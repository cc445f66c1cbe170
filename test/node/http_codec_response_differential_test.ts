/**
 * Differential test of weft's HTTP/1.1 response parsing (`readResponseHead`,
 * `responseFraming`, `bodyReader`) against node:http's client (llhttp's
 * response parser) as the oracle: a raw `net` server writes the generated
 * bytes (cut at random places) and closes; `http.request` reads them. Both
 * must make the same decision and report the same status, reason, field
 * lines, informational (1xx) statuses, body and trailers, except where
 * `RESPONSE_WEFT_STRICTER` names the RFC rule that makes weft's rejection right.
 *
 * Responses are a client's concern, so the hostile kinds here are those a
 * client must not be fooled by: smuggling framings, broken chunking, bad
 * versions and status codes, forbidden characters.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import fc from "fast-check";
import { withTaskGroup } from "../../src/index.ts";
import { PipeClosed, ReaderClosed, pipe, type Reader } from "../../src/io.ts";
import { runVirtual } from "../../src/testing.ts";
import type { Operation } from "../../src/index.ts";
import {
  latin1Bytes,
  latin1Text,
  loadHttpModule,
  loadWeftCodec,
  pairs,
  type WeftBodyReader,
  type WeftHeaders,
  type WeftLimits,
} from "./http_differential_support.ts";

const soak = process.env.WEFT_SOAK;
const RUNS = soak === undefined || soak === "" ? 1_000 : Number.isSafeInteger(Number(soak)) && Number(soak) > 1 ? Number(soak) : 20_000;

interface ResponseOutcome {
  informational: number[];
  response:
    | { status: number; reason: string; version: string; fields: [string, string][]; body: string; trailers: [string, string][] }
    | undefined;
  rejected: string | undefined;
}

interface ResponseCase {
  method: string;
  kind: string;
  text: string;
  cuts: number[];
}

// ---------------------------------------------------------------------------
// Generators

const TCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const chars = (set: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...set.split("")), { minLength: min, maxLength: max }).map((a) => a.join(""));
const RESERVED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "proxy-connection", "trailer"]);
const fieldArb = fc
  .tuple(
    chars(TCHAR, 1, 10).filter((n) => !RESERVED.has(n.toLowerCase())),
    chars(`${TCHAR} ()<>@,;:"/[]?={}\u00e9`, 0, 16).map((v) => v.trim()),
  )
  .map(([n, v]) => [n, v] as [string, string]);
const bodyArb = fc.oneof(
  chars(`${TCHAR} \r\n`, 0, 40),
  fc.uint8Array({ maxLength: 40 }).map((b) => latin1Text(b)),
);

type Framing = "length" | "chunked" | "close";
interface ResponseSpec {
  method: string;
  version: string;
  status: number;
  reason: string;
  fields: [string, string][];
  framing: Framing;
  body: string;
  chunkSizes: number[];
  trailers: [string, string][];
  informational: number[];
}

const specArb: fc.Arbitrary<ResponseSpec> = fc
  .record({
    method: fc.constantFrom("GET", "GET", "POST", "HEAD"),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    status: fc.constantFrom(200, 200, 201, 204, 206, 299, 301, 304, 400, 404, 500, 599),
    reason: fc.oneof(
      fc.constantFrom("OK", "Not Found", ""),
      chars(`${TCHAR} \t\u00e9`, 1, 20).map((r) => r.trim()),
    ),
    fields: fc.array(fieldArb, { maxLength: 4 }),
    framing: fc.constantFrom<Framing>("length", "chunked", "close"),
    body: bodyArb,
    chunkSizes: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 5 }),
    trailers: fc.oneof(fc.constant<[string, string][]>([]), fc.array(fieldArb, { minLength: 1, maxLength: 2 })),
    informational: fc.oneof(fc.constant<number[]>([]), fc.array(fc.constantFrom(100, 102, 103), { minLength: 1, maxLength: 2 })),
  })
  .map((s) => ({
    ...s,
    informational: s.version === "HTTP/1.0" ? [] : s.informational,
    framing: s.version === "HTTP/1.0" && s.framing === "chunked" ? "length" : s.framing,
  }));

const hasBody = (s: ResponseSpec): boolean => s.method !== "HEAD" && s.status !== 204 && s.status !== 304;

function serializeResponse(
  s: ResponseSpec,
  parts: { framingFields?: [string, string][]; body?: string; statusLine?: string; eol?: string } = {},
): string {
  const eol = parts.eol ?? "\r\n";
  let text = s.informational.map((code) => `HTTP/1.1 ${code} Info${eol}${eol}`).join("");
  const framing: [string, string][] =
    parts.framingFields ??
    (s.framing === "length"
      ? [["Content-Length", String(s.body.length)]]
      : s.framing === "chunked"
        ? [["Transfer-Encoding", "chunked"]]
        : []);
  text += `${parts.statusLine ?? `${s.version} ${s.status} ${s.reason}`}${eol}`;
  for (const [n, v] of [...s.fields, ...framing]) text += `${n}: ${v}${eol}`;
  text += eol;
  if (parts.body !== undefined) return text + parts.body;
  if (!hasBody(s)) return text;
  if (s.framing !== "chunked") return text + s.body;
  let at = 0;
  for (const size of s.chunkSizes) {
    if (at >= s.body.length) break;
    const piece = s.body.slice(at, at + size);
    text += `${piece.length.toString(16)}${eol}${piece}${eol}`;
    at += piece.length;
  }
  if (at < s.body.length) text += `${(s.body.length - at).toString(16)}${eol}${s.body.slice(at)}${eol}`;
  return `${text}0${eol}${s.trailers.map(([n, v]) => `${n}: ${v}${eol}`).join("")}${eol}`;
}

const withFraming = (framing: [string, string][], body: (s: ResponseSpec) => string | undefined = () => undefined) =>
  specArb
    .map((s) => ({ ...s, method: "GET", status: 200, version: "HTTP/1.1" }))
    .map((s) => serializeResponse(s, { framingFields: framing, body: body(s) }));

const HOSTILE_RESPONSES: Record<string, fc.Arbitrary<string>> = {
  "cl-differing": withFraming(
    [
      ["Content-Length", "3"],
      ["Content-Length", "4"],
    ],
    () => "abcd",
  ),
  "cl-negative": withFraming([["Content-Length", "-1"]], () => "a"),
  "cl-malformed": withFraming([["Content-Length", "1x"]], () => "a"),
  "chunk-size-bad": withFraming([["Transfer-Encoding", "chunked"]], () => "zz\r\nabc\r\n0\r\n\r\n"),
  "chunk-size-overflow": withFraming([["Transfer-Encoding", "chunked"]], () => "fffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
  "nul-in-value": specArb.map((s) => serializeResponse({ ...s, fields: [...s.fields, ["X-Nul", "a\u0000b"]] })),
  "bare-cr": specArb.map((s) => serializeResponse({ ...s, fields: [...s.fields, ["X-Cr", "a\rb"]] })),
  "bad-version": specArb.map((s) => serializeResponse(s, { statusLine: `HTTP/2.0 ${s.status} ${s.reason}` })),
  "bad-status": fc
    .tuple(specArb, fc.constantFrom("20", "2000", "abc", "-20", "099"))
    .map(([s, code]) => serializeResponse(s, { statusLine: `HTTP/1.1 ${code} X` })),
  truncated: fc
    .tuple(specArb, fc.double({ min: 0.05, max: 0.9, noNaN: true }))
    .filter(([s]) => s.framing !== "close")
    .map(([s, f]) => {
      const text = serializeResponse(s);
      return text.slice(0, Math.max(1, Math.floor(text.length * f)));
    }),
};

/** Kinds where weft may reject what llhttp's response parser takes, with the rule. */
const RESPONSE_WEFT_STRICTER: Record<string, string> = {
  "bad-version": "RFC 9112 §2.3: HTTP/2.0 is not this protocol's version; llhttp reads it as one",
  "bad-status": "RFC 9112 §4, RFC 9110 §15: a status code is exactly three digits, 100-599; llhttp takes some others",
};

const caseArb: fc.Arbitrary<ResponseCase> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: specArb.map((s) => ({ method: s.method, kind: "valid", text: serializeResponse(s) })) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(...Object.keys(HOSTILE_RESPONSES))
          .chain((kind) => HOSTILE_RESPONSES[kind]!.map((text) => ({ method: "GET", kind, text }))),
      },
    ),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  )
  .map(([m, fractions]) => ({ ...m, cuts: fractions.map((f) => Math.floor(f * m.text.length)) }));

function pieces(c: ResponseCase): Uint8Array[] {
  const bytes = latin1Bytes(c.text);
  const points = [...new Set(c.cuts)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out.filter((p) => p.length > 0);
}

// ---------------------------------------------------------------------------
// The oracle: node:http's client against a raw server

let server: net.Server;
let port: number;
const scripts = new Map<number, Uint8Array[]>();
before(async () => {
  server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("error", () => {});
    // The client's first bytes are its request; the script is keyed by the client's port.
    socket.once("data", async () => {
      const script = scripts.get(socket.remotePort!) ?? [];
      for (const piece of script) {
        if (socket.destroyed) return;
        await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
      }
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function llhttpResponse(c: ResponseCase): Promise<ResponseOutcome> {
  return new Promise((resolve) => {
    const outcome: ResponseOutcome = { informational: [], response: undefined, rejected: undefined };
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        resolve(outcome);
      }
    };
    const req = http.request({ host: "127.0.0.1", port, method: c.method, path: "/", agent: false, insecureHTTPParser: false });
    req.on("socket", (socket) => socket.on("connect", () => scripts.set(socket.localPort!, pieces(c))));
    req.on("information", (info) => outcome.informational.push(info.statusCode));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        if (!res.complete) {
          outcome.rejected = "incomplete";
          return finish();
        }
        outcome.response = {
          status: res.statusCode!,
          reason: res.statusMessage!,
          version: res.httpVersion,
          fields: pairs(res.rawHeaders),
          body: Buffer.concat(chunks).toString("latin1"),
          trailers: pairs(res.rawTrailers),
        };
        finish();
      });
      res.on("error", (error: Error & { code?: string }) => {
        outcome.rejected = error.code ?? error.message;
        finish();
      });
      res.on("aborted", () => {
        outcome.rejected = "aborted";
        finish();
      });
    });
    req.on("error", (error: Error & { code?: string }) => {
      outcome.rejected ??= error.code ?? error.message;
      outcome.response = undefined;
      finish();
    });
    req.end();
  });
}

// ---------------------------------------------------------------------------
// The weft side (loaded at run time; see http_differential_support.ts)

interface ResponseCodec {
  HttpInput: new (
    transport: Reader,
  ) => {
    readResponseHead(
      limits: WeftLimits,
    ): Operation<{ minorVersion: 0 | 1; status: number; reason: string; headers: WeftHeaders } | undefined>;
  };
  responseFraming(head: { minorVersion: 0 | 1; status: number; reason: string; headers: WeftHeaders }, method: string): unknown;
  bodyReader(input: unknown, framing: unknown, limits: WeftLimits): WeftBodyReader;
  HttpProtocolError: new (...args: never[]) => Error & { status: number };
  resolveLimits(api: string, limits: undefined): WeftLimits;
}

async function loadResponseCodec(): Promise<ResponseCodec | string> {
  const loaded = await loadWeftCodec();
  if ("missing" in loaded) return loaded.missing;
  const framing = await loadHttpModule("codec/framing.js");
  if ("missing" in framing) return framing.missing;
  return {
    ...loaded.codec,
    responseFraming: framing.module.responseFraming as ResponseCodec["responseFraming"],
  } as unknown as ResponseCodec;
}

function weftResponse(codec: ResponseCodec, c: ResponseCase): Promise<ResponseOutcome> {
  const limits = codec.resolveLimits("response differential", undefined);
  return runVirtual(function* () {
    const [reader, writer] = pipe();
    return yield* withTaskGroup<ResponseOutcome>(function* (group) {
      group.startSoon(function* () {
        try {
          for (const piece of pieces(c)) yield* writer.write(piece);
        } catch (error) {
          if (!(error instanceof PipeClosed)) throw error;
        } finally {
          writer.close();
        }
      });
      const outcome: ResponseOutcome = { informational: [], response: undefined, rejected: undefined };
      const input = new codec.HttpInput(reader);
      try {
        for (;;) {
          const head = yield* input.readResponseHead(limits);
          if (head === undefined) {
            outcome.rejected = "end of stream before a head";
            return outcome;
          }
          if (head.status >= 100 && head.status < 200) {
            outcome.informational.push(head.status);
            continue;
          }
          const body = codec.bodyReader(input, codec.responseFraming(head, c.method), limits);
          const data = yield* body.readAll();
          outcome.response = {
            status: head.status,
            reason: head.reason,
            version: `1.${head.minorVersion}`,
            fields: [...head.headers],
            body: latin1Text(data.bytes()),
            trailers: body.trailers === undefined ? [] : [...body.trailers],
          };
          return outcome;
        }
      } catch (error) {
        if (error instanceof codec.HttpProtocolError || error instanceof ReaderClosed) {
          outcome.rejected = error.message;
          return outcome;
        }
        throw error;
      } finally {
        reader.close();
      }
    });
  });
}

const show = (c: ResponseCase): string => `${c.kind} ${c.method} ${JSON.stringify(c.text)} cut at ${JSON.stringify(c.cuts)}`;

test("the response oracle: node:http's client reads every generated valid response, cut anywhere, with the status and body sent", {
  timeout: 60_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(specArb, fc.array(fc.nat(), { maxLength: 5 }), async (s, cuts) => {
      const c: ResponseCase = { method: s.method, kind: "valid", text: serializeResponse(s), cuts };
      const outcome = await llhttpResponse(c);
      assert.equal(outcome.rejected, undefined, show(c));
      assert.deepEqual(outcome.informational, s.informational, show(c));
      assert.equal(outcome.response?.status, s.status, show(c));
      assert.equal(outcome.response?.body, hasBody(s) ? s.body : "", show(c));
    }),
    { numRuns: 200 },
  );
});

test("weft reads generated responses as llhttp does, except where it is stricter by a named RFC rule", { timeout: 600_000 }, async (t) => {
  const codec = await loadResponseCodec();
  if (typeof codec === "string") return t.skip(codec);
  let agreed = 0;
  const stricter = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const expected = await llhttpResponse(c);
      const got = await weftResponse(codec, c);
      const decided = (o: ResponseOutcome): string => (o.rejected === undefined ? "accept" : "reject");
      if (decided(expected) === decided(got)) {
        assert.deepEqual(got.informational, expected.informational, show(c));
        assert.deepEqual(got.response, expected.response, show(c));
        agreed++;
        return;
      }
      assert.ok(
        got.rejected !== undefined && c.kind in RESPONSE_WEFT_STRICTER,
        `llhttp: ${expected.rejected ?? "accepted"}; weft: ${got.rejected ?? "accepted"}\n${show(c)}`,
      );
      stricter.set(c.kind, (stricter.get(c.kind) ?? 0) + 1);
    }),
    { numRuns: RUNS },
  );
  console.log(
    `response differential: ${RUNS} cases: ${agreed} agreed; weft stricter: ${[...stricter].map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`,
  );
});

test("the response oracle: node:http's client rejects the framing and character errors a client must not be fooled by", {
  timeout: 60_000,
}, async () => {
  const mustReject = ["cl-differing", "cl-negative", "cl-malformed", "chunk-size-bad", "chunk-size-overflow", "nul-in-value", "bare-cr"];
  const counts: string[] = [];
  for (const [kind, arb] of Object.entries(HOSTILE_RESPONSES)) {
    let rejected = 0;
    const samples = fc.sample(arb, { numRuns: 20, seed: 13 });
    for (const text of samples) {
      const c: ResponseCase = { method: "GET", kind, text, cuts: [] };
      const outcome = await llhttpResponse(c);
      if (outcome.rejected !== undefined) rejected++;
      else assert.ok(!mustReject.includes(kind), `llhttp accepted ${show(c)}`);
    }
    counts.push(`${kind} ${rejected}/${samples.length}`);
  }
  console.log(`llhttp response rejections by kind: ${counts.join(", ")}`);
});
