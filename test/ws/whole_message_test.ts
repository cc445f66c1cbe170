/**
 * `recvBytes`/`recvText` (issue 14): a message sent as one small frame is
 * taken whole, straight from the transport's chunk when nothing is held
 * before it, and copied out unmasked; a larger one is a view of the input.
 * Property tests with fast-check under virtual time: random messages in both
 * roles, the wire cut at random byte boundaries, some chunks of an
 * `Uint8Array` subclass (as Node's `Buffer` is), checked byte for byte.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { withTaskGroup } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { PipeClosed } from "../../src/io.ts";
import { Opcode } from "../../src/ws/frame.ts";
import { ConnectionClosed } from "../../src/ws/errors.ts";
import { LIMIT, peerFrame, readFrame, withRawPeer, type WireFrame } from "./support.ts";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const propertyRuns = override !== undefined && override !== "" ? Number(override) : 150;

/** A chunk type of its own, as a transport's `Buffer` is: what the receive hands out must still be plain arrays. */
class ForeignBytes extends Uint8Array {}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const message = fc.record({
  // Mostly around the copy limit (64 bytes) and the 7-bit length limit (125), sometimes well past both.
  size: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 120, max: 130 }), fc.integer({ min: 0, max: 2000 })),
  text: fc.boolean(),
  seed: fc.integer({ min: 0, max: 255 }),
  // A PING before the message: a frame the whole-message path leaves to the general one.
  ping: fc.boolean(),
});

test("property: recvBytes and recvText return every message byte for byte, in both roles, however the wire is cut", LIMIT, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom<"client" | "server">("server", "client"),
      fc.array(message, { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
      async (role, messages, cuts, foreign) => {
        // Text payloads are ASCII, so they are their own UTF-8 and a string compares with them.
        const payloads = messages.map((m) => Uint8Array.from({ length: m.size }, (_, i) => (m.seed + i * 13) & (m.text ? 0x7f : 0xff)));
        const frames: Uint8Array[] = [];
        messages.forEach((m, i) => {
          if (m.ping) frames.push(peerFrame(role, Opcode.Ping, `p${i}`));
          frames.push(peerFrame(role, m.text ? Opcode.Text : Opcode.Binary, payloads[i]!));
        });
        frames.push(peerFrame(role, Opcode.Close, Uint8Array.of(3, 232)));
        const wire = concat(frames);
        await runVirtual(function* () {
          const { ws, peer } = withRawPeer(role);
          const got: Uint8Array[] = [];
          const pongs: WireFrame[] = [];
          yield* withTaskGroup(function* (group) {
            group.startSoon(function* () {
              for (let at = 0, k = 0; at < wire.length; k++) {
                const end = Math.min(wire.length, at + cuts[k % cuts.length]!);
                const piece = wire.slice(at, end);
                yield* peer.write(foreign[k % foreign.length]! ? new ForeignBytes(piece) : piece);
                at = end;
              }
            });
            group.startSoon(function* () {
              try {
                for (let f; (f = yield* readFrame(peer)) !== undefined; ) if (f.opcode === Opcode.Pong) pongs.push(f);
              } catch (e) {
                if (!(e instanceof PipeClosed)) throw e;
              }
            });
            for (let i = 0; i < messages.length; i++) {
              if (messages[i]!.text) {
                const text = yield* ws.recvText();
                assert.equal(text, String.fromCharCode(...payloads[i]!), `message ${i} (text, ${payloads[i]!.length} bytes)`);
              } else {
                const bytes = yield* ws.recvBytes();
                assert.equal(bytes.constructor, Uint8Array, `message ${i}: a plain Uint8Array`);
                assert.deepEqual(bytes, payloads[i], `message ${i} (binary, ${payloads[i]!.length} bytes)`);
                got.push(bytes);
              }
            }
            try {
              yield* ws.recvBytes();
              assert.fail("a message after the last one");
            } catch (e) {
              if (!(e instanceof ConnectionClosed) || e.code !== 1000) throw e;
            }
            assert.equal(pongs.length, messages.filter((m) => m.ping).length, "every PING answered");
          });
          // Later reads wrote nothing into what earlier ones returned.
          const binary = payloads.filter((_, i) => !messages[i]!.text);
          got.forEach((bytes, j) => assert.deepEqual(bytes, binary[j], `binary message ${j} unchanged at the end`));
        });
      },
    ),
    { numRuns: propertyRuns },
  );
});

test(
  "a message read the general way (after a PING, or in fragments) comes back as a plain Uint8Array, whatever the transport's chunks are",
  LIMIT,
  async () => {
    for (const role of ["server", "client"] as const) {
      const got = await runVirtual(function* () {
        const { ws, peer } = withRawPeer(role);
        const payload = Uint8Array.of(1, 2, 3, 4, 5);
        const got: Uint8Array[] = [];
        yield* withTaskGroup(function* (group) {
          group.startSoon(function* () {
            // Every header in a chunk of its own and every payload in the next, none of them a plain array: the
            // payload is read straight from the transport.
            const head = role === "server" ? 6 : 2;
            for (const frame of [
              peerFrame(role, Opcode.Ping, "p"),
              peerFrame(role, Opcode.Binary, payload),
              peerFrame(role, Opcode.Binary, payload.subarray(0, 2), { fin: false }),
              peerFrame(role, Opcode.Continuation, payload.subarray(2)),
            ]) {
              yield* peer.write(new ForeignBytes(frame.subarray(0, head)));
              yield* peer.write(new ForeignBytes(frame.subarray(head)));
            }
          });
          group.startSoon(function* () {
            yield* readFrame(peer); // the PONG
          });
          got.push(yield* ws.recvBytes(), yield* ws.recvBytes());
        });
        return got;
      });
      for (const bytes of got) {
        assert.equal(bytes.constructor, Uint8Array, `${role}: a plain Uint8Array`);
        assert.deepEqual([...bytes], [1, 2, 3, 4, 5]);
      }
    }
  },
);
