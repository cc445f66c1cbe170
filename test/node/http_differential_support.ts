/**
 * The differential test of weft's HTTP/1.1 request codec against `node:http`
 * (llhttp) as the oracle: generators of valid and hostile requests, the
 * oracle harness, and the rules that decide whether two outcomes agree.
 *
 * Why an oracle, and why this one. A parser checked only against its own
 * author's reading of RFC 9112 repeats that author's mistakes in its tests;
 * upstream's codec accepted Content-Length with Transfer-Encoding and never
 * noticed. llhttp has been hardened by a decade of smuggling reports, so
 * every case both parsers see (the same bytes, cut at the same random
 * places) must get the same decision (accept or reject) and the same fields
 * (method, target, version, every field line in order, body bytes, trailers).
 * Where the two differ, the difference must be one this file names, with the
 * RFC section that makes weft's answer the right one (`WEFT_STRICTER`,
 * `LLHTTP_STRICTER`); anything else is a codec bug.
 *
 * How a case is decided on each side.
 * - llhttp: an in-process `http.createServer` with `insecureHTTPParser: false`
 *   on loopback; the case's pieces are written one at a time (each write
 *   flushed before the next, no Nagle) on a raw `net` socket, which is then
 *   half-closed. The server records each request it completed (its body read
 *   to the end) in order, and a `clientError` as the rejection. Node's
 *   `requireHostHeader` check answers 400 without a `request` event, so the
 *   oracle applies the same rule itself (`!req.headers.host` on 1.1) where it
 *   can keep the order of events; `HPE_CLOSED_CONNECTION` (bytes after a
 *   message that closes the connection) is not a rejection: the connection
 *   simply ended, as on weft's side.
 * - weft: the same pieces through an in-memory `pipe()` into `HttpInput`,
 *   `requestFraming` and `bodyReader` (see `weftRequestOutcome` in the test).
 *
 * A generated case is one to three messages (pipelined), each valid or
 * carrying one hostile kind; the kind names which message made the decision,
 * so a difference can be judged against the tables.
 */
import http from "node:http";
import net from "node:net";
import fc from "fast-check";
import { withTaskGroup, type Operation } from "../../src/index.ts";
import { PipeClosed, ReaderClosed, pipe, type Reader } from "../../src/io.ts";
import { runVirtual } from "../../src/testing.ts";

// ---------------------------------------------------------------------------
// Cases

/** One generated message: its bytes as a latin1 string (one char a byte) and its kind ("valid" or a hostile kind). */
export interface GeneratedMessage {
  readonly kind: string;
  readonly text: string;
}

/** One case: pipelined messages, sent as pieces cut at `cuts` (byte offsets into the concatenated text). */
export interface HttpCase {
  readonly messages: readonly GeneratedMessage[];
  readonly cuts: readonly number[];
}

/** The case's bytes. */
export function caseText(c: HttpCase): string {
  return c.messages.map((m) => m.text).join("");
}

/** The case's bytes cut into pieces at its cut points (no empty piece). */
export function casePieces(c: HttpCase): Uint8Array[] {
  const bytes = latin1Bytes(caseText(c));
  const points = [...new Set(c.cuts.map((p) => Math.min(p, bytes.length)))].filter((p) => p > 0 && p < bytes.length);
  points.sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function latin1Text(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** A short printable form of a case for failure messages: JSON-escaped text, long runs elided. */
export function showCase(c: HttpCase): string {
  const shown = c.messages.map((m) => `${m.kind}: ${JSON.stringify(elide(m.text))}`).join("\n  ");
  return `[\n  ${shown}\n] cut at ${JSON.stringify(c.cuts)}`;
}

function elide(text: string): string {
  return text.replace(/(.)\1{40,}/gs, (run, ch: string) => `${ch.repeat(8)}…(${run.length}×)…`);
}

// ---------------------------------------------------------------------------
// Generators

const ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGIT = "0123456789";
const TCHAR = `${ALPHA}${DIGIT}!#$%&'*+-.^_\`|~`;
/** Path characters llhttp and RFC 3986 both accept (pchar without '%', which is generated as pct-encoded). */
const PCHAR = `${ALPHA}${DIGIT}-._~!$&'()*+,;=:@`;
/** Field-value characters: VCHAR and obs-text (0x80-0xff). */
const VCHAR = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join("");
const OBS_TEXT = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)).join("");

/** Field names with framing or connection meaning to either parser: the generators add those on purpose only. */
const RESERVED_NAMES = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "proxy-connection",
  "keep-alive",
  "upgrade",
  "expect",
  "te",
  "trailer",
]);

const chars = (set: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...set.split("")), { minLength: min, maxLength: max }).map((a) => a.join(""));

const tokenArb = (min: number, max: number): fc.Arbitrary<string> => chars(TCHAR, min, max);

const fieldNameArb: fc.Arbitrary<string> = tokenArb(1, 12).filter((n) => !RESERVED_NAMES.has(n.toLowerCase()));

/** A field value as sent (with optional OWS around it) and as both parsers must report it (trimmed). */
const fieldValueArb: fc.Arbitrary<{ sent: string; value: string }> = fc
  .tuple(
    fc.oneof(
      { weight: 1, arbitrary: fc.constant("") },
      {
        weight: 6,
        arbitrary: fc
          .array(fc.oneof({ weight: 8, arbitrary: chars(VCHAR, 1, 8) }, { weight: 1, arbitrary: chars(OBS_TEXT, 1, 3) }), {
            minLength: 1,
            maxLength: 4,
          })
          .chain((words) =>
            fc
              .array(fc.constantFrom(" ", "\t", "  "), { minLength: words.length - 1, maxLength: words.length - 1 })
              .map((gaps) => words.map((w, i) => (i === 0 ? w : `${gaps[i - 1]}${w}`)).join("")),
          ),
      },
    ),
    fc.constantFrom("", " ", " ", "  ", "\t"),
    fc.constantFrom("", "", "", " ", "\t"),
  )
  .map(([value, before, after]) => ({ sent: `${before}${value}${after}`, value }));

const fieldArb: fc.Arbitrary<[string, string]> = fc.tuple(fieldNameArb, fieldValueArb).map(([n, v]) => [n, v.sent]);

const methodArb = fc.constantFrom("GET", "GET", "GET", "HEAD", "POST", "POST", "PUT", "DELETE", "OPTIONS", "PATCH");

const segmentArb = fc.oneof(
  { weight: 6, arbitrary: chars(PCHAR, 0, 10) },
  { weight: 1, arbitrary: fc.constantFrom("%20", "%2F", "%e2%82%ac", "%00") },
);
const pathArb = fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`);
const queryArb = fc.option(chars(`${PCHAR}/?`, 0, 12), { nil: undefined, freq: 2 });
const originFormArb = fc.tuple(pathArb, queryArb).map(([p, q]) => (q === undefined ? p : `${p}?${q}`));
const targetArb = fc.oneof(
  { weight: 8, arbitrary: originFormArb },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("http", "https"), fc.constantFrom("example.com", "a.b", "127.0.0.1:8080", "[::1]:80"), originFormArb)
      .map(([s, h, p]) => `${s}://${h}${p}`),
  },
);

const hostArb = fc.constantFrom("example.com", "a", "127.0.0.1", "127.0.0.1:8080", "[::1]:8080", "weft.test:80");

/** Body bytes, any octet. */
const bodyDataArb = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: chars(`${ALPHA}${DIGIT} \r\n`, 0, max) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: max }).map((b) => latin1Text(b)) },
  );

type ChunkSpec = { size: string; ext: string; data: string };
export type BodySpec =
  | { kind: "none" }
  | { kind: "length"; data: string }
  | { kind: "chunked"; chunks: ChunkSpec[]; last: string; trailers: [string, string][] };

/** A request before serialisation: hostile kinds change one part of it. */
export interface RequestSpec {
  method: string;
  target: string;
  version: string;
  hosts: string[];
  fields: [string, string][];
  body: BodySpec;
  connection: string | undefined;
  /** where the framing headers go among the other fields (0 = first) */
  framingAt: number;
}

const hexCase = (n: number, upper: boolean, zeros: number): string =>
  "0".repeat(zeros) + (upper ? n.toString(16).toUpperCase() : n.toString(16));

const chunkExtArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: tokenArb(1, 6).map((n) => `;${n}`) },
  { weight: 1, arbitrary: fc.tuple(tokenArb(1, 6), tokenArb(1, 6)).map(([n, v]) => `;${n}=${v}`) },
  { weight: 1, arbitrary: fc.tuple(tokenArb(1, 6), chars(`${ALPHA} ;=`, 0, 8)).map(([n, v]) => `;${n}="${v}"`) },
);

const chunkArb: fc.Arbitrary<ChunkSpec> = fc
  .tuple(
    bodyDataArb(24).filter((d) => d.length > 0),
    fc.boolean(),
    fc.nat({ max: 2 }),
    chunkExtArb,
  )
  .map(([data, upper, zeros, ext]) => ({ size: hexCase(data.length, upper, zeros), ext, data }));

const trailerArb: fc.Arbitrary<[string, string]> = fieldArb;

const chunkedArb: fc.Arbitrary<BodySpec> = fc
  .tuple(
    fc.array(chunkArb, { maxLength: 4 }),
    fc.nat({ max: 2 }),
    chunkExtArb,
    fc.oneof(
      { weight: 3, arbitrary: fc.constant<[string, string][]>([]) },
      { weight: 1, arbitrary: fc.array(trailerArb, { minLength: 1, maxLength: 2 }) },
    ),
  )
  .map(([chunks, zeros, ext, trailers]) => ({ kind: "chunked", chunks, last: `${"0".repeat(zeros + 1)}${ext}`, trailers }));

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "none" } as const) },
  { weight: 3, arbitrary: bodyDataArb(48).map((data) => ({ kind: "length", data }) as const) },
  { weight: 3, arbitrary: chunkedArb },
);

/** A valid HTTP/1.1 (or 1.0) request. */
export const requestSpecArb: fc.Arbitrary<RequestSpec> = fc
  .tuple(
    methodArb,
    targetArb,
    fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    hostArb,
    fc.array(fieldArb, { maxLength: 5 }),
    bodyArb,
    fc.constantFrom(undefined, undefined, undefined, "keep-alive", "close", "Keep-Alive", "close"),
    fc.nat({ max: 5 }),
    fc.boolean(),
  )
  .map(([method, target, version, host, fields, body, connection, framingAt, host10]) => {
    const http10 = version === "HTTP/1.0";
    return {
      method,
      target: method === "OPTIONS" && framingAt === 0 ? "*" : target,
      version,
      hosts: http10 && !host10 ? [] : [host],
      fields,
      // RFC 9112 §6.1: HTTP/1.0 has no chunked framing; a 1.0 request with Transfer-Encoding is a hostile kind of its own.
      body: http10 && body.kind === "chunked" ? { kind: "length", data: body.chunks.map((c) => c.data).join("") } : body,
      connection,
      framingAt: Math.min(framingAt, fields.length),
    };
  });

/** The framing field lines a body spec implies. */
function framingFields(body: BodySpec): [string, string][] {
  if (body.kind === "length") return [["Content-Length", String(body.data.length)]];
  if (body.kind === "chunked") return [["Transfer-Encoding", "chunked"]];
  return [];
}

function bodyText(body: BodySpec, eol = "\r\n"): string {
  if (body.kind === "none") return "";
  if (body.kind === "length") return body.data;
  let out = "";
  for (const c of body.chunks) out += `${c.size}${c.ext}${eol}${c.data}${eol}`;
  out += `${body.last}${eol}`;
  for (const [n, v] of body.trailers) out += `${n}:${v}${eol}`;
  return `${out}${eol}`;
}

/** The field lines of a spec, in order: Host first, the generated fields with the framing fields at `framingAt`, Connection last. */
function specFields(spec: RequestSpec, framing: [string, string][] = framingFields(spec.body)): [string, string][] {
  const fields: [string, string][] = spec.hosts.map((h) => ["Host", ` ${h}`] as [string, string]);
  const rest = [...spec.fields];
  rest.splice(spec.framingAt, 0, ...framing.map(([n, v]) => [n, ` ${v}`] as [string, string]));
  fields.push(...rest);
  if (spec.connection !== undefined) fields.push(["Connection", ` ${spec.connection}`]);
  return fields;
}

/** The bytes of a request: `parts` overrides pieces of the serialisation (hostile kinds use it). */
export function serialize(
  spec: RequestSpec,
  parts: { requestLine?: string; fields?: [string, string][]; body?: string; eol?: string } = {},
): string {
  const eol = parts.eol ?? "\r\n";
  const line = parts.requestLine ?? `${spec.method} ${spec.target} ${spec.version}`;
  const fields = parts.fields ?? specFields(spec);
  return `${line}${eol}${fields.map(([n, v]) => `${n}:${v}${eol}`).join("")}${eol}${parts.body ?? bodyText(spec.body, eol)}`;
}

const valid = (spec: RequestSpec): GeneratedMessage => ({ kind: "valid", text: serialize(spec) });

/** A spec that keeps the connection open (hostile kinds are more telling when something could follow). */
const openSpecArb = requestSpecArb.map((s) => ({
  ...s,
  version: "HTTP/1.1",
  hosts: s.hosts.length === 0 ? ["a"] : s.hosts,
  connection: undefined,
}));

const insertField = (spec: RequestSpec, at: number, field: [string, string]): [string, string][] => {
  const fields = specFields(spec);
  fields.splice(Math.min(at, fields.length), 0, field);
  return fields;
};

/**
 * Hostile kinds: one arbitrary each, every one a valid request with one thing
 * wrong. The names are the keys of the tables below and of the counts.
 */
export const HOSTILE: Record<string, fc.Arbitrary<string>> = {
  // RFC 9112 §6.3 (3): Content-Length with Transfer-Encoding is a smuggling attempt.
  "cl-and-te": fc.tuple(openSpecArb, chunkedArb, fc.boolean()).map(([s, body, clFirst]) =>
    serialize(
      { ...s, method: "POST", body },
      {
        fields: specFields(
          { ...s, body },
          clFirst
            ? [
                ["Content-Length", String(bodyText(body).length)],
                ["Transfer-Encoding", "chunked"],
              ]
            : [
                ["Transfer-Encoding", "chunked"],
                ["Content-Length", String(bodyText(body).length)],
              ],
        ),
      },
    ),
  ),
  "cl-differing": fc.tuple(openSpecArb, bodyDataArb(20), fc.integer({ min: 1, max: 9 }), fc.boolean()).map(([s, data, delta, sameLine]) => {
    const spec = { ...s, method: "POST", body: { kind: "length", data } as BodySpec };
    const other = String(data.length + delta);
    const framing: [string, string][] = sameLine
      ? [["Content-Length", `${data.length}, ${other}`]]
      : [
          ["Content-Length", String(data.length)],
          ["Content-Length", other],
        ];
    return serialize(spec, { fields: specFields(spec, framing) });
  }),
  // RFC 9112 §6.3 (5) lets a recipient reject identical duplicates; both parsers do.
  "cl-duplicate": fc.tuple(openSpecArb, bodyDataArb(20), fc.boolean()).map(([s, data, sameLine]) => {
    const spec = { ...s, method: "POST", body: { kind: "length", data } as BodySpec };
    const n = String(data.length);
    const framing: [string, string][] = sameLine
      ? [["Content-Length", `${n}, ${n}`]]
      : [
          ["Content-Length", n],
          ["Content-Length", n],
        ];
    return serialize(spec, { fields: specFields(spec, framing) });
  }),
  "cl-malformed": fc
    .tuple(openSpecArb, bodyDataArb(10), fc.constantFrom("+", "0x", "", "a", " 1 2", "1.0", "١", "1_0", "0x1", "\t-"))
    .map(([s, data, bad]) => {
      const spec = { ...s, method: "POST", body: { kind: "length", data } as BodySpec };
      const value = bad === "" ? "" : bad.length <= 2 && !/\d/.test(bad) ? `${bad}${data.length}` : bad;
      return serialize(spec, { fields: specFields(spec, [["Content-Length", value]]) });
    }),
  "cl-negative": fc.tuple(openSpecArb, bodyDataArb(10)).map(([s, data]) => {
    const spec = { ...s, method: "POST", body: { kind: "length", data } as BodySpec };
    return serialize(spec, { fields: specFields(spec, [["Content-Length", `-${data.length || 1}`]]) });
  }),
  "cl-overflow": fc
    .tuple(openSpecArb, fc.constantFrom("18446744073709551616", "99999999999999999999999", "9007199254740993"))
    .map(([s, n]) => {
      const spec = { ...s, method: "POST", body: { kind: "length", data: "abc" } as BodySpec };
      return serialize(spec, { fields: specFields(spec, [["Content-Length", n]]) });
    }),
  // RFC 9112 §6.3 (4): a request whose final coding is not chunked cannot be framed.
  "te-not-final-chunked": fc
    .tuple(openSpecArb, chunkedArb, fc.constantFrom("chunked, gzip", "gzip", "chunked, identity", "chunked,", "deflate"))
    .map(([s, body, te]) => serialize({ ...s, method: "POST", body }, { fields: specFields({ ...s, body }, [["Transfer-Encoding", te]]) })),
  "te-xchunked": fc
    .tuple(openSpecArb, chunkedArb, fc.constantFrom("xchunked", "chunkedx", "chunked\u0000", "chnked", '"chunked"'))
    .map(([s, body, te]) => serialize({ ...s, method: "POST", body }, { fields: specFields({ ...s, body }, [["Transfer-Encoding", te]]) })),
  // RFC 9112 §7: chunked must not be applied twice.
  "te-chunked-twice": fc.tuple(openSpecArb, chunkedArb, fc.boolean()).map(([s, body, oneLine]) =>
    serialize(
      { ...s, method: "POST", body },
      {
        fields: specFields(
          { ...s, body },
          oneLine
            ? [["Transfer-Encoding", "chunked, chunked"]]
            : [
                ["Transfer-Encoding", "chunked"],
                ["Transfer-Encoding", "chunked"],
              ],
        ),
      },
    ),
  ),
  // A coding before the final chunked: RFC-valid framing, but a coding weft does not implement.
  "te-unknown-coding": fc
    .tuple(openSpecArb, chunkedArb, fc.constantFrom("gzip, chunked", "deflate, chunked", "x-custom, chunked"), fc.boolean())
    .map(([s, body, te, twoLines]) => {
      const [first, last] = te.split(", ") as [string, string];
      const framing: [string, string][] = twoLines
        ? [
            ["Transfer-Encoding", first],
            ["Transfer-Encoding", last],
          ]
        : [["Transfer-Encoding", te]];
      return serialize({ ...s, method: "POST", body }, { fields: specFields({ ...s, body }, framing) });
    }),
  // RFC 9112 §6.1: HTTP/1.0 has no transfer codings; such framing is faulty.
  "te-http10": fc
    .tuple(requestSpecArb, chunkedArb)
    .map(([s, body]) => serialize({ ...s, version: "HTTP/1.0", method: "POST", body, connection: undefined })),
  // RFC 9112 §5.2: obs-fold in a request is rejected.
  "obs-fold": fc
    .tuple(openSpecArb, fieldNameArb, tokenArb(1, 6), tokenArb(1, 6), fc.constantFrom(" ", "\t", "   "), fc.nat({ max: 6 }))
    .map(([s, n, a, b, ws, at]) => serialize(s, { fields: insertField(s, at + 1, [n, ` ${a}\r\n${ws}${b}`]) })),
  // RFC 9112 §2.2: a bare CR anywhere in a message element is rejected.
  "bare-cr": fc
    .tuple(
      openSpecArb,
      fieldNameArb,
      tokenArb(1, 6),
      tokenArb(0, 6),
      fc.constantFrom("value", "line-end", "request-line"),
      fc.nat({ max: 6 }),
    )
    .map(([s, n, a, b, where, at]) => {
      if (where === "request-line") return serialize(s, { requestLine: `${s.method} ${s.target}\r ${s.version}` });
      if (where === "line-end") return serialize(s, { fields: insertField(s, at + 1, [n, ` ${a}\r`]) });
      return serialize(s, { fields: insertField(s, at + 1, [n, ` ${a}\r${b}`]) });
    }),
  // RFC 9112 §2.2 lets a recipient accept a bare LF as a line end; weft (and strict llhttp) do not.
  "bare-lf": fc.tuple(openSpecArb, fc.constantFrom("request-line", "field", "all", "blank"), fc.nat({ max: 6 })).map(([s, where, at]) => {
    if (where === "all") return serialize(s, { eol: "\n" });
    const fields = specFields(s);
    if (where === "request-line")
      return serialize(s, {
        requestLine: `${s.method} ${s.target} ${s.version}\n${fields.map(([n, v]) => `${n}:${v}`).join("\r\n")}`,
        fields: [],
      });
    if (where === "blank") return `${serialize(s, { body: "" }).slice(0, -2)}\n${bodyText(s.body)}`;
    const i = Math.min(at, fields.length - 1);
    fields[i] = [fields[i]![0], `${fields[i]![1]}\n${fields[i]![0]}-x: y`];
    return serialize(s, { fields });
  }),
  "bad-name-char": fc
    .tuple(
      openSpecArb,
      tokenArb(0, 4),
      fc.constantFrom(" ", "\t", "(", ")", "/", "@", "[", '"', "{", "é", "\u007f", "\u0001", ","),
      tokenArb(0, 4),
      fc.nat({ max: 6 }),
    )
    .filter(([, a, , b]) => a.length + b.length > 0)
    .map(([s, a, bad, b, at]) => serialize(s, { fields: insertField(s, at + 1, [`${a}${bad}${b}`, " v"]) })),
  // RFC 9112 §5.1: no whitespace between a field name and the colon.
  "ws-before-colon": fc
    .tuple(openSpecArb, fieldNameArb, fc.constantFrom(" ", "\t"), fc.nat({ max: 6 }))
    .map(([s, n, ws, at]) => serialize(s, { fields: insertField(s, at + 1, [`${n}${ws}`, " v"]) })),
  "empty-name": fc.tuple(openSpecArb, fc.nat({ max: 6 })).map(([s, at]) => serialize(s, { fields: insertField(s, at + 1, ["", " v"]) })),
  "bad-value-char": fc
    .tuple(
      openSpecArb,
      fieldNameArb,
      tokenArb(0, 4),
      fc.integer({ min: 1, max: 0x1f }).filter((c) => c !== 0x09 && c !== 0x0a && c !== 0x0d),
      fc.constantFrom(true, false),
      fc.nat({ max: 6 }),
    )
    .map(([s, n, a, code, del, at]) =>
      serialize(s, { fields: insertField(s, at + 1, [n, ` ${a}${del ? "\u007f" : String.fromCharCode(code)}x`]) }),
    ),
  nul: fc.tuple(openSpecArb, fc.constantFrom("value", "name", "target", "method"), fc.nat({ max: 6 })).map(([s, where, at]) => {
    if (where === "target") return serialize({ ...s, target: `${s.target.startsWith("/") ? s.target : "/"}\u0000x` });
    if (where === "method") return serialize({ ...s, method: `${s.method}\u0000` });
    const field: [string, string] = where === "name" ? ["x\u0000y", " v"] : ["X-Nul", " a\u0000b"];
    return serialize(s, { fields: insertField(s, at + 1, field) });
  }),
  "chunk-size-overflow": fc
    .tuple(openSpecArb, fc.integer({ min: 17, max: 40 }), fc.constantFrom("f", "1", "0f"))
    .map(([s, digits, pattern]) => {
      const size = pattern.repeat(Math.ceil(digits / pattern.length)).slice(0, digits);
      return serialize(
        { ...s, method: "POST", body: { kind: "chunked", chunks: [], last: "0", trailers: [] } },
        { body: `${size}\r\nabc\r\n0\r\n\r\n` },
      );
    }),
  "chunk-size-bad": fc
    .tuple(openSpecArb, fc.constantFrom("g", "0x3", " 3", "-3", "+3", "", "3\t", "3 ", "3\u0000"))
    .map(([s, size]) =>
      serialize(
        { ...s, method: "POST", body: { kind: "chunked", chunks: [], last: "0", trailers: [] } },
        { body: `${size}\r\nabc\r\n0\r\n\r\n` },
      ),
    ),
  "chunk-data-overrun": fc
    .tuple(openSpecArb, chunkArb, fc.constantFrom("X", "XY\r\n", "\n", ""))
    .map(([s, chunk, extra]) =>
      serialize(
        { ...s, method: "POST", body: { kind: "chunked", chunks: [], last: "0", trailers: [] } },
        { body: `${chunk.size}\r\n${chunk.data}${extra === "" ? "" : extra}${extra === "" ? "" : "\r\n"}0\r\n\r\n` },
      ),
    ),
  "bad-trailer": fc
    .tuple(openSpecArb, chunkArb, fc.constantFrom("X : v", "X: a\r\n b", "X: a\u0001", "(x): v", "X: a\nY: b"))
    .map(([s, chunk, bad]) =>
      serialize(
        { ...s, method: "POST", body: { kind: "chunked", chunks: [], last: "0", trailers: [] } },
        { body: `${chunk.size}\r\n${chunk.data}\r\n0\r\n${bad}\r\n\r\n` },
      ),
    ),
  // RFC 9112 §3.2: exactly one Host on HTTP/1.1.
  "host-missing": openSpecArb.map((s) => serialize({ ...s, hosts: [] })),
  "host-double": fc.tuple(openSpecArb, hostArb).map(([s, other]) => serialize({ ...s, hosts: [s.hosts[0]!, other] })),
  "bad-version": fc
    .tuple(
      openSpecArb,
      fc.constantFrom(
        "HTTP/1.2",
        "HTTP/2.0",
        "HTTP/0.9",
        "HTTP/3.0",
        "http/1.1",
        "HTTP/1.10",
        "HTTP/11",
        "HTTP/1.1 ",
        "HTTP/ 1.1",
        "HTTX/1.1",
        "HTTP/9.9",
      ),
    )
    .map(([s, version]) => serialize({ ...s, version })),
  "bad-request-line": fc
    .tuple(
      openSpecArb,
      fc.constantFrom("double-space", "tab", "no-target", "no-version", "space-in-target", "leading-space", "obs-text-target"),
    )
    .map(([s, how]) => {
      const t = s.target;
      const lines: Record<string, string> = {
        "double-space": `${s.method}  ${t} ${s.version}`,
        tab: `${s.method}\t${t} ${s.version}`,
        "no-target": `${s.method} ${s.version}`,
        "no-version": `${s.method} ${t}`,
        "space-in-target": `${s.method} ${t} x ${s.version}`,
        "leading-space": ` ${s.method} ${t} ${s.version}`,
        "obs-text-target": `${s.method} /\u00e9${t} ${s.version}`,
      };
      return serialize(s, { requestLine: lines[how] });
    }),
  // RFC 9110 §9.1: a method is any token; llhttp knows a fixed list.
  "method-extension": fc
    .tuple(openSpecArb, fc.constantFrom("FOO", "BREW", "X-METHOD", "PROPPATCH2", "Get", "get", "post"))
    .map(([s, method]) => serialize({ ...s, method })),
  // RFC 9112 §3: 414 for a request-target longer than the server parses (weft: 8 KiB); llhttp's bound is the 16 KiB head.
  "long-request-line": fc
    .tuple(openSpecArb, fc.oneof(fc.integer({ min: 8_300, max: 15_000 }), fc.integer({ min: 17_000, max: 70_000 })))
    .map(([s, n]) => serialize({ ...s, target: `/${"a".repeat(n)}` })),
  // RFC 6585 §5: 431 for a header block over the limit (both: 16 KiB).
  "long-header-block": fc.tuple(openSpecArb, fc.integer({ min: 17_500, max: 200_000 }), fc.nat({ max: 3 })).map(([s, n, lines]) => {
    const per = Math.ceil(n / (lines + 1));
    const fields = specFields(s);
    for (let i = 0; i <= lines; i++) fields.push([`X-Long-${i}`, ` ${"v".repeat(per)}`]);
    return serialize(s, { fields });
  }),
  // RFC 6585 §5 again: weft bounds the number of field lines (100); llhttp does not.
  "many-fields": fc
    .tuple(openSpecArb, fc.integer({ min: 101, max: 400 }))
    .map(([s, n]) =>
      serialize(s, { fields: [...specFields(s), ...Array.from({ length: n }, (_, i) => [`x${i}`, " 1"] as [string, string])] }),
    ),
  // A message cut short: both parsers see the end of the stream inside it.
  truncated: fc.tuple(requestSpecArb, fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([s, at]) => {
    const text = serialize(s);
    return text.slice(0, Math.max(1, Math.floor(text.length * at)));
  }),
  // Valid spellings of the framing fields that a naive comparison would miss (codings and field names are case-insensitive, OWS is optional).
  "framing-spelling": fc
    .tuple(openSpecArb, bodyDataArb(12), fc.constantFrom("cl-zeros", "te-case", "name-case", "no-ows"))
    .map(([s, data, how]) => {
      const chunked = `${data.length === 0 ? "" : `${data.length.toString(16)}\r\n${data}\r\n`}0\r\n\r\n`;
      const spec = { ...s, method: "POST" };
      const framing: Record<string, [[string, string], string]> = {
        "cl-zeros": [["Content-Length", `00${data.length}`], data],
        "te-case": [["Transfer-Encoding", "Chunked"], chunked],
        "name-case": [["tRANSFER-eNCODING", "CHUNKED"], chunked],
        "no-ows": [["Content-Length", `${data.length}`], data],
      };
      const [[name, value], body] = framing[how]!;
      const fields = specFields({ ...spec, body: { kind: "none" } }, []);
      fields.splice(Math.min(spec.framingAt + spec.hosts.length, fields.length), 0, [name, how === "no-ows" ? value : ` ${value}`]);
      return serialize(spec, { fields, body });
    }),
  // RFC 9112 §5: OWS after a field value is not part of it; llhttp refuses "chunked " as a coding.
  "te-trailing-ows": fc
    .tuple(openSpecArb, chunkedArb, fc.constantFrom(" ", "\t", " \t"))
    .map(([s, body, ows]) =>
      serialize({ ...s, method: "POST", body }, { fields: specFields({ ...s, body }, [["Transfer-Encoding", `chunked${ows}`]]) }),
    ),
  // RFC 9112 §7.1.1: chunk-ext allows BWS around ';' and '='; llhttp refuses it.
  "chunk-ext-bws": fc
    .tuple(openSpecArb, fc.constantFrom("3 ;a=b", "3;a =b", "3; a=b", "3\t;a"))
    .map(([s, size]) =>
      serialize(
        { ...s, method: "POST", body: { kind: "chunked", chunks: [], last: "0", trailers: [] } },
        { body: `${size}\r\nabc\r\n0\r\n\r\n` },
      ),
    ),
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request-line (both parsers skip several).
  "leading-crlf": fc.tuple(openSpecArb, fc.integer({ min: 1, max: 4 })).map(([s, n]) => `${"\r\n".repeat(n)}${serialize(s)}`),
  // The same with bare LFs, which weft never takes for a line end.
  "leading-bare-lf": fc.tuple(openSpecArb, fc.integer({ min: 1, max: 2 })).map(([s, n]) => `${"\n".repeat(n)}${serialize(s)}`),
};

export const HOSTILE_KINDS = Object.keys(HOSTILE);

/** A message: mostly valid, one hostile in three. */
export const messageArb: fc.Arbitrary<GeneratedMessage> = fc.oneof(
  { weight: 2, arbitrary: requestSpecArb.map(valid) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...HOSTILE_KINDS).chain((kind) => HOSTILE[kind]!.map((text) => ({ kind, text }))),
  },
);

/** A case: one to three pipelined messages and up to eight cut points (as fractions, so any length is cut everywhere). */
export const caseArb: fc.Arbitrary<HttpCase> = fc
  .tuple(
    fc.array(messageArb, { minLength: 1, maxLength: 3 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
    fc.boolean(),
  )
  .map(([generated, fractions, oneByteCuts]) => {
    // A truncated message is the end of the stream: anything after it would complete it into something else.
    const cut = generated.findIndex((m) => m.kind === "truncated");
    const messages = cut === -1 ? generated : generated.slice(0, cut + 1);
    const length = messages.reduce((n, m) => n + m.text.length, 0);
    const cuts = fractions.map((f) => Math.floor(f * length));
    // Some cases also cut right after each of the first bytes (every state of the request line).
    if (oneByteCuts) for (let i = 1; i < Math.min(length, 20); i++) cuts.push(i);
    return { messages, cuts };
  });

// ---------------------------------------------------------------------------
// Outcomes

/** A request as a parser reported it: text fields, body and trailers as latin1 strings. */
export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  fields: [string, string][];
  body: string;
  trailers: [string, string][];
}

/** What a parser made of a case: the requests it completed, then how the connection ended. */
export interface Outcome {
  requests: ParsedRequest[];
  /** `undefined`: the stream ended cleanly (or after a message that closes the connection). */
  rejected: { status: number; reason: string } | undefined;
}

export function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

// ---------------------------------------------------------------------------
// The llhttp oracle

/**
 * What the server saw on one connection, in order: a slot per `request` event
 * (filled when its body ended, or a rejection by the Host rule), and the
 * `clientError`, which comes after every slot it follows.
 */
interface ServerRecord {
  slots: ({ request: ParsedRequest | undefined } | { rejected: { status: number; reason: string } })[];
  clientError: { status: number; reason: string } | undefined;
  closed: Promise<void>;
}

/** The outcome a record shows: requests up to the first one not completed, then the rejection that stopped it. */
function recordOutcome(record: ServerRecord): Outcome {
  const requests: ParsedRequest[] = [];
  for (const slot of record.slots) {
    if ("rejected" in slot) return { requests, rejected: slot.rejected };
    if (slot.request === undefined) return { requests, rejected: record.clientError ?? { status: 400, reason: "incomplete" } };
    requests.push(slot.request);
  }
  return { requests, rejected: record.clientError };
}

/** llhttp error codes that are a rejection status other than 400, as node:http answers them. */
const LLHTTP_STATUS: Record<string, number> = { HPE_HEADER_OVERFLOW: 431 };

/**
 * An in-process `node:http` server on loopback that records what llhttp made
 * of each connection. `run(pieces)` opens a raw socket, writes the pieces
 * one by one, half-closes, and returns the outcome once both ends closed.
 */
export class LlhttpOracle {
  readonly #server: http.Server;
  /** The server's record of each connection, by the client's port; the server's listeners fill it. */
  readonly #records: Map<number, ServerRecord>;
  readonly #port: number;

  private constructor(server: http.Server, port: number, records: Map<number, ServerRecord>) {
    this.#server = server;
    this.#port = port;
    this.#records = records;
  }

  static async start(): Promise<LlhttpOracle> {
    const records = new Map<number, ServerRecord>();
    // requireHostHeader is applied by the handler (see the file's comment), so node's own check is off.
    const server = http.createServer({ insecureHTTPParser: false, requireHostHeader: false, joinDuplicateHeaders: false });
    server.on("connection", (socket: net.Socket) => {
      socket.setNoDelay(true);
      let resolveClosed!: () => void;
      const record: ServerRecord = { slots: [], clientError: undefined, closed: new Promise((r) => (resolveClosed = r)) };
      records.set(socket.remotePort!, record);
      // After the last 'end' of a request body (next ticks), before the client looks.
      socket.on("close", () => setImmediate(resolveClosed));
    });
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const record = records.get(req.socket.remotePort!);
      if (record === undefined) {
        req.socket.destroy();
        return;
      }
      if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && !req.headers.host) {
        record.slots.push({ rejected: { status: 400, reason: "requireHostHeader" } });
        res.writeHead(400, { connection: "close" }).end();
        return;
      }
      const slot: { request: ParsedRequest | undefined } = { request: undefined };
      record.slots.push(slot);
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        slot.request = {
          method: req.method!,
          target: req.url!,
          version: req.httpVersion,
          fields: pairs(req.rawHeaders),
          body: Buffer.concat(chunks).toString("latin1"),
          trailers: pairs(req.rawTrailers),
        };
        res.end("ok");
      });
    });
    server.on("clientError", (error: Error & { code?: string }, socket: net.Socket) => {
      const record = records.get(socket.remotePort!);
      const code = error.code ?? "ERR";
      if (record !== undefined && record.clientError === undefined && code !== "HPE_CLOSED_CONNECTION" && code !== "ECONNRESET") {
        record.clientError = { status: LLHTTP_STATUS[code] ?? 400, reason: code };
      }
      // Let the bodies already parsed reach their 'end' (next ticks) before the socket goes.
      setImmediate(() => {
        if (socket.writable) socket.end(`HTTP/1.1 ${LLHTTP_STATUS[code] ?? 400} Bad Request\r\nConnection: close\r\n\r\n`);
        else socket.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return new LlhttpOracle(server, (server.address() as net.AddressInfo).port, records);
  }

  /** What llhttp made of `pieces`, written one after the other on a fresh connection. */
  async run(pieces: readonly Uint8Array[], timeoutMs = 10_000): Promise<Outcome> {
    const socket = net.connect({ port: this.#port, host: "127.0.0.1", noDelay: true });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {}); // a reset after a rejection is expected; the outcome is on the server's side
    socket.on("data", () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    for (const piece of pieces) {
      if (socket.destroyed) break;
      await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
    }
    if (!socket.destroyed) socket.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const port = socket.localPort!;
    const waited = await Promise.race([closed.then(() => this.#whenRecorded(port)), timedOut]);
    clearTimeout(timer);
    if (waited === "timeout") {
      socket.destroy();
      throw new Error(`the llhttp oracle did not close the connection within ${timeoutMs} ms`);
    }
    const record = this.#records.get(port)!;
    this.#records.delete(port);
    return recordOutcome(record);
  }

  async #whenRecorded(port: number): Promise<"ok"> {
    // The server saw the connection before the client's connect callback; its close ends the record.
    const record = this.#records.get(port);
    if (record === undefined) throw new Error(`the oracle server never saw the connection from port ${port}`);
    await record.closed;
    return "ok";
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

// ---------------------------------------------------------------------------
// The weft side

/**
 * The codec contract the differential test drives (src/http/codec/*, issue 13),
 * written out structurally: the codec is loaded at run time by `loadWeftCodec`,
 * so this file compiles on a branch where the codec has not landed yet and the
 * weft half of the test is skipped there (with a message saying so).
 */
export interface WeftHeaders extends Iterable<[string, string]> {
  get(name: string): string | undefined;
}
export interface WeftRequestHead {
  method: string;
  target: string;
  minorVersion: 0 | 1;
  headers: WeftHeaders;
}
export interface WeftBodyReader extends Reader {
  readonly complete: boolean;
  readonly trailers: WeftHeaders | undefined;
  close(): void;
}
export type WeftLimits = { maxStartLineLength: number; maxHeaderSize: number; maxHeaderCount: number };
export interface WeftCodec {
  HttpInput: new (
    transport: Reader,
  ) => {
    readRequestHead(limits: WeftLimits): Operation<WeftRequestHead | undefined>;
    readonly buffered: number;
  };
  requestFraming(head: WeftRequestHead): unknown;
  keepsAlive(minorVersion: 0 | 1, headers: WeftHeaders): boolean;
  bodyReader(input: InstanceType<WeftCodec["HttpInput"]>, framing: unknown, limits: WeftLimits): WeftBodyReader;
  HttpProtocolError: new (...args: never[]) => Error & { status: number };
  resolveLimits(api: string, limits: Partial<WeftLimits> | undefined): WeftLimits;
}

/**
 * The codec's modules, from beside the compiled tests (`<out>/src/http/…`),
 * or `undefined` (and why) when they are not there.
 */
export async function loadWeftCodec(): Promise<{ codec: WeftCodec } | { missing: string }> {
  const load = async (path: string): Promise<Record<string, unknown>> => (await import(httpModuleUrl(path))) as Record<string, unknown>;
  try {
    const [input, framing, body, errors, limits] = await Promise.all([
      load("codec/input.js"),
      load("codec/framing.js"),
      load("codec/body_reader.js"),
      load("errors.js"),
      load("limits.js"),
    ]);
    return {
      codec: {
        HttpInput: input.HttpInput as WeftCodec["HttpInput"],
        requestFraming: framing.requestFraming as WeftCodec["requestFraming"],
        keepsAlive: framing.keepsAlive as WeftCodec["keepsAlive"],
        bodyReader: body.bodyReader as WeftCodec["bodyReader"],
        HttpProtocolError: errors.HttpProtocolError as WeftCodec["HttpProtocolError"],
        resolveLimits: limits.resolveLimits as WeftCodec["resolveLimits"],
      },
    };
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    return { missing: `the weft/http codec (src/http/codec) is not built beside this test (${code})` };
  }
}

/**
 * What weft's codec makes of `pieces`: written one by one into a `pipe()`,
 * read as the server will (head, framing, the whole body, keep-alive), on
 * virtual time so nothing depends on the host's clock.
 */
export function weftRequestOutcome(codec: WeftCodec, pieces: readonly Uint8Array[]): Promise<Outcome> {
  const limits = codec.resolveLimits("differential test", undefined);
  return runVirtual(function* () {
    const [reader, writer] = pipe();
    return yield* withTaskGroup<Outcome>(function* (group) {
      group.startSoon(function* () {
        try {
          for (const piece of pieces) yield* writer.write(piece);
        } catch (error) {
          // The codec stopped reading (a rejection, or a message that closes the connection).
          if (!(error instanceof PipeClosed)) throw error;
        } finally {
          writer.close();
        }
      });
      const input = new codec.HttpInput(reader);
      const requests: ParsedRequest[] = [];
      try {
        for (;;) {
          const head = yield* input.readRequestHead(limits);
          if (head === undefined) return { requests, rejected: undefined };
          const body = codec.bodyReader(input, codec.requestFraming(head), limits);
          const data = yield* body.readAll();
          requests.push({
            method: head.method,
            target: head.target,
            version: `1.${head.minorVersion}`,
            fields: [...head.headers],
            body: latin1Text(data.bytes()),
            trailers: body.trailers === undefined ? [] : [...body.trailers],
          });
          if (!codec.keepsAlive(head.minorVersion, head.headers)) return { requests, rejected: undefined };
        }
      } catch (error) {
        if (error instanceof codec.HttpProtocolError) return { requests, rejected: { status: error.status, reason: error.message } };
        // The stream ended inside a head or a body: llhttp's HPE_INVALID_EOF_STATE.
        if (error instanceof ReaderClosed) return { requests, rejected: { status: 400, reason: `end of stream: ${error.message}` } };
        throw error;
      } finally {
        reader.close();
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Judging two outcomes

/**
 * Kinds where weft may reject what llhttp accepts, each with the rule that
 * makes the rejection right. Only a rejection by weft of the message of that
 * kind, with everything before it parsed the same, counts as "stricter".
 */
export const WEFT_STRICTER: Record<string, string> = {
  "host-double": "RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host field line",
  "bad-version":
    "RFC 9112 §2.3, RFC 9110 §15.6.6: only HTTP/1.0 and 1.1 are this protocol; llhttp takes HTTP/2.0, 3.0, 9.9 as versions (weft: 505)",
  "te-unknown-coding": "RFC 9112 §6.1: a server that receives a transfer coding it does not understand SHOULD answer 501",
  "te-http10": "RFC 9112 §6.1: a 1.0 message with Transfer-Encoding has faulty framing",
  "long-request-line": "RFC 9112 §3: 414 for a request line over the server's limit (weft 8 KiB; llhttp only bounds the 16 KiB head)",
  "many-fields": "RFC 6585 §5: 431 over the field-line count limit (weft 100; llhttp has none)",
  "bad-request-line": "RFC 9112 §3: the request-line's elements are separated by exactly one SP (llhttp skips extra spaces)",
  "leading-bare-lf":
    "RFC 9112 §2.2: a recipient MAY take a bare LF for a line end; weft never does (a line end two parsers read differently is a smuggling vector)",
  truncated:
    "RFC 9112 §8: a message cut short is incomplete; weft reports it (400), where node:http, after an HTTP/1.0 keep-alive exchange, ends the connection without a word",
};

/** Kinds where weft may accept what llhttp rejects, because the RFC allows it. */
export const LLHTTP_STRICTER: Record<string, string> = {
  "method-extension": "RFC 9110 §9.1: a method is any token, case-sensitive; llhttp knows a fixed list of upper-case names",
  "cl-duplicate": "RFC 9112 §6.3 (5): identical Content-Length values MAY be taken as one",
  "te-trailing-ows":
    "RFC 9112 §5: whitespace after a field value is not part of it, so `chunked ` is chunked (llhttp takes some and refuses others)",
  "chunk-ext-bws": 'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )',
};

export type Judgement =
  | { verdict: "agree" }
  | { verdict: "weft-stricter"; kind: string }
  | { verdict: "llhttp-stricter"; kind: string }
  | { verdict: "disagree"; why: string };

/** Compares what llhttp and weft made of one case. */
export function judge(c: HttpCase, oracle: Outcome, weft: Outcome): Judgement {
  const same = (a: ParsedRequest, b: ParsedRequest): boolean => JSON.stringify(a) === JSON.stringify(b);
  const common = Math.min(oracle.requests.length, weft.requests.length);
  for (let i = 0; i < common; i++) {
    if (!same(oracle.requests[i]!, weft.requests[i]!)) {
      return {
        verdict: "disagree",
        why: `request ${i} differs:\n llhttp ${JSON.stringify(oracle.requests[i])}\n weft   ${JSON.stringify(weft.requests[i])}`,
      };
    }
  }
  const decided = (o: Outcome): string =>
    o.rejected === undefined ? `end after ${o.requests.length}` : `reject after ${o.requests.length}`;
  if (decided(oracle) === decided(weft)) return { verdict: "agree" };
  // The message at the first difference decides which table may explain it.
  const kind = c.messages[common]?.kind ?? "(past the last message)";
  if (
    weft.rejected !== undefined &&
    weft.requests.length < oracle.requests.length + (oracle.rejected === undefined ? 1 : 0) &&
    kind in WEFT_STRICTER
  ) {
    return { verdict: "weft-stricter", kind };
  }
  if (oracle.rejected !== undefined && oracle.requests.length <= weft.requests.length && kind in LLHTTP_STRICTER) {
    return { verdict: "llhttp-stricter", kind };
  }
  return {
    verdict: "disagree",
    why: `llhttp: ${decided(oracle)} (${oracle.rejected?.reason ?? "clean"}); weft: ${decided(weft)} (${weft.rejected?.reason ?? "clean"}); message ${common} is ${kind}`,
  };
}

/**
 * The URL of `src/http/<path>` (`path` names the compiled file, e.g.
 * "codec/serialize.js") beside this file: the compiled module under dist/, or
 * its TypeScript source when a host runs the tests from source (Bun and Deno;
 * Deno does not resolve a `.js` name to the `.ts` file, and the tests that
 * need the module then skipped themselves there).
 */
function httpModuleUrl(path: string): string {
  const file = import.meta.url.endsWith(".ts") ? path.replace(/\.js$/, ".ts") : path;
  return new URL(`../../src/http/${file}`, import.meta.url).href;
}

/** One module of weft/http from beside the compiled tests (`src/http/<path>`, e.g. "codec/serialize.js"), or why not. */
export async function loadHttpModule(path: string): Promise<{ module: Record<string, unknown> } | { missing: string }> {
  try {
    return { module: (await import(httpModuleUrl(path))) as Record<string, unknown> };
  } catch (error) {
    return { missing: `src/http/${path} is not built beside this test (${(error as { code?: string }).code ?? (error as Error).name})` };
  }
}

/** The counts of a differential run. */
export interface DifferentialCounts {
  cases: number;
  agreed: number;
  weftStricter: Map<string, number>;
  llhttpStricter: Map<string, number>;
  /** the first disagreements, described (the run stops at the first when `stopAtFirst`) */
  disagreements: string[];
  disagreed: number;
}

/** Runs `runs` generated cases through both parsers and judges each. */
export async function runDifferential(
  codec: WeftCodec,
  oracle: LlhttpOracle,
  options: { runs: number; seed?: number; stopAtFirst: boolean },
): Promise<DifferentialCounts> {
  const counts: DifferentialCounts = {
    cases: 0,
    agreed: 0,
    weftStricter: new Map(),
    llhttpStricter: new Map(),
    disagreements: [],
    disagreed: 0,
  };
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const pieces = casePieces(c);
      const expected = await oracle.run(pieces);
      const got = await weftRequestOutcome(codec, pieces);
      counts.cases++;
      const j = judge(c, expected, got);
      if (j.verdict === "agree") counts.agreed++;
      else if (j.verdict === "weft-stricter") bump(counts.weftStricter, j.kind);
      else if (j.verdict === "llhttp-stricter") bump(counts.llhttpStricter, j.kind);
      else {
        counts.disagreed++;
        if (counts.disagreements.length < 20) counts.disagreements.push(`${j.why}\n  case ${showCase(c)}`);
        if (options.stopAtFirst) throw new Error(`weft and llhttp disagree: ${j.why}\n${showCase(c)}`);
      }
    }),
    { numRuns: options.runs, seed: options.seed, endOnFailure: !options.stopAtFirst },
  );
  return counts;
}

/** One line: `cases, agreed, weft stricter by kind, llhttp stricter by kind, disagreements`. */
export function describeCounts(counts: DifferentialCounts): string {
  const list = (m: Map<string, number>): string => [...m].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  return `${counts.cases} cases: ${counts.agreed} agreed; weft stricter: ${list(counts.weftStricter)}; llhttp stricter: ${list(counts.llhttpStricter)}; disagreements: ${counts.disagreed}`;
}
