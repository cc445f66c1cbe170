/**
 * The frame fuzzer (issue 14): random valid and invalid frame sequences, cut
 * at random byte boundaries, fed to a weft WebSocket in the server role and
 * in the client role. The weft side never crashes or hangs (virtual time
 * reports a hang as a deadlock), answers each invalid case with its close
 * code (sent in its CLOSE frame and raised as `ProtocolError`), and agrees
 * with the `ws` package's `Receiver`, fed the same bytes, on which sequences
 * are valid and with which code the invalid ones fail.
 */
import { test } from "./host_skips.ts";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as wsPackage from "ws";
import { withTaskGroup, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { PipeClosed } from "../../src/io.ts";
import { ConnectionClosed, ProtocolError } from "../../src/ws/errors.ts";
import { Opcode, encodeClosePayload, encodeFrame } from "../../src/ws/frame.ts";
import { closeCode, readFrame, withRawPeer, type PipeEnd, type WireFrame } from "../ws/support.ts";

/** `ws` exports its frame parser at run time; its type declarations do not describe it. */
interface WsReceiver {
  on(event: "message", listener: () => void): void;
  on(event: "conclude", listener: (code: number) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  write(chunk: Buffer): boolean;
  destroy(): void;
}
const { Receiver } = wsPackage as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => WsReceiver };

type Role = "client" | "server";
const MAX_MESSAGE = 1024;
const override = process.env["WEFT_FUZZ_RUNS"];
const runs = override !== undefined && override !== "" ? Number(override) : 1000;

/** How a run ended: the peer's CLOSE was reached (`valid`, with its code) or the connection failed with `code`. */
interface Verdict {
  valid: boolean;
  code: number;
}

// ------------------------------------------------------------------ the cases

interface Message {
  text: boolean;
  payload: Uint8Array;
  fragments: number;
  pingBetween: boolean;
}

type Defect =
  | { kind: "none" }
  | { kind: "pong" }
  | { kind: "close-empty" }
  | { kind: "close-valid"; code: number; reason: string }
  | { kind: "mask" }
  | { kind: "rsv"; rsv: number }
  | { kind: "opcode"; opcode: number }
  | { kind: "stray" }
  | { kind: "interleave" }
  | { kind: "ctl-fragmented"; opcode: number }
  | { kind: "ctl-long"; opcode: number; size: number }
  | { kind: "utf8-one"; bad: readonly number[] }
  | { kind: "utf8-across" }
  | { kind: "utf8-cut"; cut: readonly number[] }
  | { kind: "huge"; hi: number }
  | { kind: "too-big"; size: number; fragments: number }
  | { kind: "close-code"; code: number }
  | { kind: "close-1" }
  | { kind: "close-reason" };

/** The close code each defect must fail with (undefined: the sequence is valid). */
function expectedCode(defect: Defect): number | undefined {
  switch (defect.kind) {
    case "none":
    case "pong":
    case "close-empty":
    case "close-valid":
      return undefined;
    case "utf8-one":
    case "utf8-across":
    case "utf8-cut":
    case "close-reason":
      return 1007;
    case "huge":
    case "too-big":
      return 1009;
    default:
      return 1002;
  }
}

const utf8 = new TextEncoder();

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    text: fc.constant(true),
    payload: fc.string({ unit: "binary", maxLength: 60 }).map((s) => utf8.encode(s)),
    fragments: fc.integer({ min: 1, max: 4 }),
    pingBetween: fc.boolean(),
  }),
  fc.record({
    text: fc.constant(false),
    payload: fc.uint8Array({ maxLength: 300 }),
    fragments: fc.integer({ min: 1, max: 4 }),
    pingBetween: fc.boolean(),
  }),
);

const defectArb: fc.Arbitrary<Defect> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 6 },
  fc.constant({ kind: "pong" as const }),
  fc.constant({ kind: "close-empty" as const }),
  fc.record({
    kind: fc.constant("close-valid" as const),
    code: fc.integer({ min: 3000, max: 4999 }),
    reason: fc.string({ maxLength: 20 }),
  }),
  fc.constant({ kind: "mask" as const }),
  fc.record({ kind: fc.constant("rsv" as const), rsv: fc.integer({ min: 1, max: 7 }) }),
  fc.record({ kind: fc.constant("opcode" as const), opcode: fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf) }),
  fc.constant({ kind: "stray" as const }),
  fc.constant({ kind: "interleave" as const }),
  fc.record({ kind: fc.constant("ctl-fragmented" as const), opcode: fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close) }),
  fc.record({
    kind: fc.constant("ctl-long" as const),
    opcode: fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close),
    size: fc.integer({ min: 126, max: 300 }),
  }),
  fc.record({
    kind: fc.constant("utf8-one" as const),
    bad: fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xe2, 0x28]),
  }),
  fc.constant({ kind: "utf8-across" as const }),
  fc.record({ kind: fc.constant("utf8-cut" as const), cut: fc.constantFrom([0xe2], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3]) }),
  fc.record({ kind: fc.constant("huge" as const), hi: fc.integer({ min: 0x200000, max: 0xffffffff }) }),
  fc.record({
    kind: fc.constant("too-big" as const),
    size: fc.integer({ min: MAX_MESSAGE + 1, max: 2 * MAX_MESSAGE }),
    fragments: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    kind: fc.constant("close-code" as const),
    code: fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535),
  }),
  fc.constant({ kind: "close-1" as const }),
  fc.constant({ kind: "close-reason" as const }),
);

const KEY = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4);

/** The frames of one case, as the peer of a `role` WebSocket sends them. */
function wire(role: Role, messages: Message[], defect: Defect, defectAt: number): Uint8Array[] {
  const masked = role === "server";
  const frame = (opcode: number, payload: Uint8Array | string, fin = true, rsv = 0, mask = masked): Uint8Array =>
    encodeFrame(opcode, fin, typeof payload === "string" ? utf8.encode(payload) : payload, mask ? KEY : null, rsv);
  const fragmented = (opcode: number, payload: Uint8Array, fragments: number, pingBetween = false): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const step = Math.max(1, Math.ceil(payload.length / fragments));
    let first = true;
    for (let at = 0; first || at < payload.length; at += step) {
      const end = Math.min(payload.length, at + step);
      out.push(frame(first ? opcode : Opcode.Continuation, payload.subarray(at, end), end >= payload.length));
      if (first && pingBetween && end < payload.length) out.push(frame(Opcode.Ping, "between"));
      first = false;
    }
    return out;
  };
  const defective = (): Uint8Array[] => {
    switch (defect.kind) {
      case "none":
      case "close-empty":
      case "close-valid":
        return [];
      case "pong":
        return [frame(Opcode.Pong, "unsolicited")];
      case "mask":
        return [frame(Opcode.Text, "x", true, 0, !masked)];
      case "rsv":
        return [frame(Opcode.Text, "x", true, defect.rsv)];
      case "opcode":
        return [frame(defect.opcode, "x")];
      case "stray":
        return [frame(Opcode.Continuation, "x")];
      case "interleave":
        return [frame(Opcode.Text, "a", false), frame(Opcode.Binary, "b")];
      case "ctl-fragmented":
        return [frame(defect.opcode, defect.opcode === Opcode.Close ? encodeClosePayload(1000) : "x", false)];
      case "ctl-long":
        return [frame(defect.opcode, new Uint8Array(defect.size))];
      case "utf8-one":
        return [frame(Opcode.Text, Uint8Array.of(0x61, ...defect.bad, 0x62))];
      case "utf8-across":
        return [frame(Opcode.Text, Uint8Array.of(0x61, 0xe2, 0x82), false), frame(Opcode.Continuation, Uint8Array.of(0x41))];
      case "utf8-cut":
        return [frame(Opcode.Text, Uint8Array.of(0x61, ...defect.cut))];
      case "huge": {
        const head = Uint8Array.of(
          0x82,
          (masked ? 0x80 : 0) | 127,
          defect.hi >>> 24,
          (defect.hi >>> 16) & 0xff,
          (defect.hi >>> 8) & 0xff,
          defect.hi & 0xff,
          0,
          0,
          0,
          1,
        );
        return [masked ? Uint8Array.of(...head, ...KEY) : head];
      }
      case "too-big":
        return fragmented(Opcode.Binary, new Uint8Array(defect.size), defect.fragments);
      case "close-code":
        return [frame(Opcode.Close, Uint8Array.of(defect.code >> 8, defect.code & 0xff))];
      case "close-1":
        return [frame(Opcode.Close, Uint8Array.of(3))];
      case "close-reason":
        return [frame(Opcode.Close, Uint8Array.of(0x03, 0xe8, 0x61, 0xff))];
    }
  };
  const frames: Uint8Array[] = [];
  messages.forEach((m, i) => {
    if (i === defectAt) frames.push(...defective());
    frames.push(...fragmented(m.text ? Opcode.Text : Opcode.Binary, m.payload, m.fragments, m.pingBetween));
  });
  if (defectAt >= messages.length) frames.push(...defective());
  if (defect.kind === "close-empty") frames.push(frame(Opcode.Close, new Uint8Array(0)));
  else if (defect.kind === "close-valid") frames.push(frame(Opcode.Close, encodeClosePayload(defect.code, defect.reason)));
  else frames.push(frame(Opcode.Close, encodeClosePayload(1000, "done")));
  return frames;
}

/** `bytes` cut at the given points. */
function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ------------------------------------------------------------------ the two sides

function* feed(peer: PipeEnd, chunks: Uint8Array[]): Operation<void> {
  try {
    for (const chunk of chunks) yield* peer.write(chunk);
  } catch (e) {
    if (!(e instanceof PipeClosed)) throw e;
  }
}

/** The weft side: a WebSocket of `role` receiving until the connection ends; its verdict, the messages it read, and the CLOSE it sent. */
async function weftVerdict(
  role: Role,
  chunks: Uint8Array[],
): Promise<{ verdict: Verdict; messages: number; sentClose: number | undefined }> {
  return runVirtual(function* () {
    const { ws, peer } = withRawPeer(role, { maxMessageSize: MAX_MESSAGE });
    const sent: WireFrame[] = [];
    let messages = 0;
    let verdict: Verdict | undefined;
    yield* withTaskGroup(function* (group) {
      group.startSoon(() => feed(peer, chunks));
      group.startSoon(function* () {
        for (let f; (f = yield* readFrame(peer)) !== undefined; ) sent.push(f);
      });
      try {
        for (;;) {
          const m = yield* ws.recv();
          yield* m.reader.readAll();
          messages++;
        }
      } catch (e) {
        if (e instanceof ProtocolError) verdict = { valid: false, code: e.code };
        else if (e instanceof ConnectionClosed) verdict = { valid: true, code: e.code };
        else throw e;
      }
    });
    const closes = sent.filter((f) => f.opcode === Opcode.Close);
    assert.equal(closes.length, 1, "exactly one CLOSE frame sent");
    for (const f of sent) assert.equal(f.masked, role === "client", "the weft side masks exactly when it is the client");
    return { verdict: verdict!, messages, sentClose: closeCode(closes[0]) };
  });
}

const kStatusCode = (error: object): number | undefined => {
  const key = Object.getOwnPropertySymbols(error).find((s) => s.description === "status-code");
  return key === undefined ? undefined : ((error as Record<symbol, number>)[key] as number);
};

/** The `ws` side: its Receiver fed the same chunks. */
async function wsVerdict(role: Role, chunks: Uint8Array[]): Promise<{ verdict: Verdict | undefined; messages: number }> {
  const receiver = new Receiver({ isServer: role === "server", maxPayload: MAX_MESSAGE });
  let verdict: Verdict | undefined;
  let messages = 0;
  receiver.on("message", () => messages++);
  receiver.on("conclude", (code: number) => {
    verdict ??= { valid: true, code };
  });
  receiver.on("error", (error: Error) => {
    verdict ??= { valid: false, code: kStatusCode(error) ?? -1 };
  });
  for (const chunk of chunks) {
    if (verdict !== undefined) break;
    receiver.write(Buffer.from(chunk));
  }
  for (let i = 0; i < 20 && verdict === undefined; i++) await new Promise((resolve) => setImmediate(resolve));
  receiver.destroy();
  return { verdict, messages };
}

test("the frame fuzzer: random valid and invalid frame sequences cut at random boundaries, in both roles, agree with ws's Receiver", {
  timeout: 300_000,
}, async () => {
  const counts = new Map<string, number>();
  const bump = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom<Role>("server", "client"),
      fc.array(messageArb, { maxLength: 5 }),
      defectArb,
      fc.nat(),
      fc.array(fc.nat(), { maxLength: 12 }),
      async (role, messages, defect, defectAt, cuts) => {
        const bytes = concat(wire(role, messages, defect, defectAt % (messages.length + 1)));
        const chunks = cutAt(bytes, cuts);
        const weft = await weftVerdict(role, chunks);
        const ws = await wsVerdict(role, chunks);
        const expected = expectedCode(defect);
        if (expected === undefined) {
          assert.equal(weft.verdict.valid, true, `weft failed a valid sequence with ${weft.verdict.code}`);
          const peerCode = defect.kind === "close-empty" ? 1005 : defect.kind === "close-valid" ? defect.code : 1000;
          assert.equal(weft.verdict.code, peerCode);
          assert.equal(weft.sentClose, peerCode, "the peer's CLOSE code echoed");
          assert.equal(weft.messages, messages.length);
        } else {
          assert.deepEqual(weft.verdict, { valid: false, code: expected }, `defect ${defect.kind}`);
          assert.equal(weft.sentClose, expected, "the CLOSE frame carries the code");
        }
        assert.deepEqual(ws.verdict, weft.verdict, `ws and weft disagree on ${defect.kind}`);
        if (weft.verdict.valid) assert.equal(ws.messages, weft.messages);
        const code = weft.verdict.code >= 3000 ? "3000-4999" : String(weft.verdict.code);
        bump(`${role} ${weft.verdict.valid ? "valid" : "invalid"} ${code}`);
      },
    ),
    { numRuns: runs },
  );
  const summary = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
  const valid = [...counts].filter(([k]) => k.includes(" valid ")).reduce((n, [, c]) => n + c, 0);
  console.log(`fuzz: ${runs} cases (fast-check runs; shrinking adds none when all pass), ${valid} valid, ${runs - valid} invalid`);
  console.log(`fuzz counts: ${summary.join(", ")}`);
});
