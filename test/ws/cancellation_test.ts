/**
 * Cancellation safety of the WebSocket (issue 14): a cancelled receive
 * loses no frame bytes, and a cancelled `sendText`/`sendBinary` sent the
 * whole message or nothing. Property tests with fast-check under virtual
 * time, the peer writing frames split at random byte boundaries with PINGs
 * between the fragments.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { PipeClosed } from "../../src/io.ts";
import { Opcode } from "../../src/ws/frame.ts";
import { ConnectionClosed } from "../../src/ws/errors.ts";
import type { WebSocket } from "../../src/ws/websocket.ts";
import { LIMIT, peerFrame, readFrame, withRawPeer, type WireFrame } from "./support.ts";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const propertyRuns = override !== undefined && override !== "" ? Number(override) : 60;

const pattern = (seed: number, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Each byte's low 7 bits as a character: text that is its own UTF-8 (no TextDecoder: QuickJS's shim knows only UTF-8). */
function ascii(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...Array.from(bytes.subarray(i, i + 4096), (b) => b & 0x7f));
  return s;
}

/** The next `recv()` raises the peer's CLOSE. */
function* expectClosed(ws: WebSocket): Operation<void> {
  try {
    yield* ws.recv();
  } catch (e) {
    if (e instanceof ConnectionClosed && e.code === 1000) return;
    throw e;
  }
  assert.fail("a message after the last one");
}

const message = fc.record({
  size: fc.integer({ min: 0, max: 3000 }),
  fragments: fc.integer({ min: 1, max: 4 }),
  ping: fc.boolean(),
});

test("property: receives cancelled at random points lose and repeat no byte of any message", LIMIT, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(message, { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 10 }),
      // Timeouts of 0 included: the loop below follows a cut-short receive with one that waits.
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 10 }),
      fc.constantFrom("recvBytes", "reader"),
      async (messages, cuts, delays, timeouts, mode) => {
        const payloads = messages.map((m, i) => pattern(i, m.size));
        // The wire: every message in `fragments` frames, a PING after the first fragment when asked.
        const frames: Uint8Array[] = [];
        messages.forEach((m, i) => {
          const p = payloads[i]!;
          const step = Math.ceil(p.length / m.fragments) || 1;
          let first = true;
          for (let at = 0; first || at < p.length; at += step) {
            const end = Math.min(p.length, at + step);
            frames.push(peerFrame("server", first ? Opcode.Binary : Opcode.Continuation, p.subarray(at, end), { fin: end >= p.length }));
            if (first && m.ping) frames.push(peerFrame("server", Opcode.Ping, `p${i}`));
            first = false;
          }
        });
        frames.push(peerFrame("server", Opcode.Close, Uint8Array.of(3, 232)));
        const wire = concat(frames);
        const got = await runVirtual(function* () {
          const { ws, peer } = withRawPeer("server");
          const got: Uint8Array[] = [];
          const pongs: WireFrame[] = [];
          yield* withTaskGroup(function* (group) {
            group.startSoon(function* () {
              let k = 0;
              for (let at = 0; at < wire.length; k++) {
                const end = Math.min(wire.length, at + cuts[k % cuts.length]!);
                yield* peer.write(wire.subarray(at, end));
                at = end;
                yield* sleep(delays[k % delays.length]!);
              }
            });
            group.startSoon(function* () {
              try {
                for (let f; (f = yield* readFrame(peer)) !== undefined; ) if (f.opcode === Opcode.Pong) pongs.push(f);
              } catch (e) {
                if (!(e instanceof PipeClosed)) throw e;
              }
            });
            let t = 0;
            // A receive cut short by its timeout is followed by one that waits: under virtual time a loop
            // of timed-out receives (timeouts of 0) would keep the clock from ever reaching the writer's
            // next write. What is checked is that the cut-short one lost nothing.
            if (mode === "recvBytes") {
              while (got.length < payloads.length) {
                got.push((yield* withTimeoutOpt(timeouts[t++ % timeouts.length]!, () => ws.recvBytes())) ?? (yield* ws.recvBytes()));
              }
            } else {
              while (got.length < payloads.length) {
                const m = (yield* withTimeoutOpt(timeouts[t++ % timeouts.length]!, () => ws.recv())) ?? (yield* ws.recv());
                const parts: Uint8Array[] = [];
                for (;;) {
                  const chunk = yield* withTimeoutOpt(timeouts[t++ % timeouts.length]!, () => m.reader.readSome(100));
                  if (chunk === undefined) {
                    // Cancelled: nothing taken. Or the end: tell them apart with a read that waits.
                    const end = yield* m.reader.readSome(100);
                    if (end === undefined) break;
                    parts.push(end);
                    continue;
                  }
                  parts.push(chunk);
                }
                got.push(concat(parts));
              }
            }
            // The PINGs after the last message are answered on the way to the peer's CLOSE.
            yield* expectClosed(ws);
            assert.equal(pongs.length, messages.filter((m) => m.ping).length);
          });
          return got;
        });
        assert.equal(got.length, payloads.length);
        got.forEach((g, i) => assert.deepEqual(g, payloads[i], `message ${i}`));
      },
    ),
    { numRuns: propertyRuns },
  );
});

test("property: a cancelled sendText or sendBinary sent the whole message or nothing, and the frames stay whole", LIMIT, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          size: fc.constantFrom(0, 5, 125, 126, 65_535, 65_536, 70_000, 200_000),
          timeout: fc.option(fc.integer({ min: 0, max: 8 })),
        }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
      async (sends, peerDelays) => {
        const { sent, received } = await runVirtual(function* () {
          const { ws, peer } = withRawPeer("client");
          const sent: number[] = [];
          const received: Array<{ size: number; fin: boolean; opcode: number; ok: boolean }> = [];
          yield* withTaskGroup(function* (group) {
            group.startSoon(function* () {
              let k = 0;
              for (let f; (f = yield* readFrame(peer)) !== undefined; k++) {
                const seed = f.payload.length > 0 ? f.payload[0]! : 0;
                received.push({
                  size: f.payload.length,
                  fin: f.fin,
                  opcode: f.opcode,
                  ok: f.payload.every((b, i) => b === ((seed + i) & 0xff)),
                });
                yield* sleep(peerDelays[k % peerDelays.length]!);
              }
            });
            for (const [i, s] of sends.entries()) {
              const payload = pattern(0, s.size).map((_, j) => (i + j) & 0xff);
              const send = (): Operation<void> => (i % 2 === 0 ? ws.sendBinary(payload) : ws.sendText(ascii(payload)));
              const done =
                s.timeout === null
                  ? (yield* send(), true)
                  : (yield* withTimeoutOpt(s.timeout, function* () {
                      yield* send();
                      return true;
                    })) === true;
              if (done) sent.push(s.size);
            }
            ws[Symbol.dispose]();
          });
          return { sent, received };
        });
        assert.deepEqual(
          received.map((r) => r.size),
          sent,
        );
        for (const r of received) assert.ok(r.fin && (r.opcode === Opcode.Binary || r.opcode === Opcode.Text));
      },
    ),
    { numRuns: propertyRuns },
  );
});
