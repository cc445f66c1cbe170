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
import { withTaskGroup, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { PipeClosed } from "../../src/io.ts";
import { Opcode } from "../../src/ws/frame.ts";
import { ConnectionClosed, ProtocolError } from "../../src/ws/errors.ts";
import { LIMIT, closeCode, peerFrame, readFrame, withRawPeer, type PipeEnd, type WireFrame } from "./support.ts";

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

/** What a whole-message receive of `role` ends with when the peer writes `chunks` and then waits: its error, the frames it sent, and what a receive after it raises. */
function failedReceive(
  role: "client" | "server",
  chunks: Uint8Array[],
  receive: "recvText" | "recvBytes",
  endAfter = false,
): Promise<{ error: unknown; frames: WireFrame[]; later: unknown; laterSend: unknown }> {
  return runVirtual(function* () {
    const { ws, peer } = withRawPeer(role);
    const frames: WireFrame[] = [];
    let error: unknown;
    let later: unknown;
    let laterSend: unknown;
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        for (const chunk of chunks) yield* peer.write(chunk);
        if (endAfter) peer.shutdownWrite();
      });
      group.startSoon(function* () {
        try {
          for (let f; (f = yield* readFrame(peer)) !== undefined; ) frames.push(f);
        } catch (e) {
          if (!(e instanceof PipeClosed)) throw e;
        }
      });
      const attempt = (op: () => Operation<unknown>): Operation<unknown> =>
        (function* () {
          try {
            yield* op();
          } catch (e) {
            return e;
          }
          return undefined;
        })();
      error = yield* attempt(() => ws[receive]());
      later = yield* attempt(() => ws.recvBytes());
      laterSend = yield* attempt(() => ws.sendBinary(Uint8Array.of(1)));
    });
    return { error, frames, later, laterSend };
  });
}

test("a whole text frame that is not UTF-8 fails the receive with 1007, naming the byte or the cut, in both roles", LIMIT, async () => {
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.of(0x61, 0xff, 0x62), /at byte 1/],
    [Uint8Array.of(0x61, 0xe2, 0x82), /ends inside a UTF-8 sequence/],
  ];
  for (const role of ["server", "client"] as const) {
    for (const receive of ["recvText", "recvBytes"] as const) {
      for (const [payload, message] of cases) {
        // Whole in one chunk (taken from the chunk) and cut in two (taken from the input).
        const frame = peerFrame(role, Opcode.Text, payload);
        for (const chunks of [[frame], [frame.subarray(0, 3), frame.subarray(3)]]) {
          const outcome = await failedReceive(role, chunks, receive);
          assert.ok(outcome.error instanceof ProtocolError, `${role} ${receive}: ${String(outcome.error)}`);
          assert.equal(outcome.error.code, 1007);
          assert.match(outcome.error.message, message);
          assert.equal(closeCode(outcome.frames.find((f) => f.opcode === Opcode.Close)), 1007, "the CLOSE carries 1007");
          assert.ok(outcome.later instanceof ConnectionClosed, "a later receive raises ConnectionClosed");
          assert.ok(outcome.laterSend instanceof ConnectionClosed, "a later send raises ConnectionClosed");
        }
      }
    }
  }
});

test(
  "a transport that ends while a whole-message receive waits (or inside a frame) raises ConnectionClosed 1006, then and later",
  LIMIT,
  async () => {
    for (const role of ["server", "client"] as const) {
      const frame = peerFrame(role, Opcode.Binary, Uint8Array.of(1, 2, 3));
      for (const chunks of [[], [frame.subarray(0, 4)]]) {
        const outcome = await failedReceive(role, chunks, "recvBytes", true);
        assert.ok(outcome.error instanceof ConnectionClosed && !(outcome.error instanceof ProtocolError), String(outcome.error));
        assert.equal(outcome.error.code, 1006);
        assert.ok(outcome.later instanceof ConnectionClosed && outcome.later.code === 1006, "a later receive raises it too");
        assert.ok(outcome.laterSend instanceof ConnectionClosed, "a send after it raises ConnectionClosed");
      }
    }
  },
);

test(
  "a send that waits for the transport holds later sends back until it completes; the messages arrive whole and in order",
  LIMIT,
  async () => {
    const got = await runVirtual(function* () {
      const { ws, peer } = withRawPeer("server");
      const got: string[] = [];
      yield* withTaskGroup(function* (group) {
        // Nobody reads the peer yet: the pipe's first write waits, so the other sends queue behind the locks.
        for (const text of ["one", "two", "three"]) group.startSoon(() => ws.sendText(text));
        group.startSoon(function* () {
          for (let i = 0; i < 3; i++) got.push(new TextDecoder().decode((yield* readFrame(peer as PipeEnd))!.payload));
        });
      });
      return got;
    });
    assert.deepEqual(got, ["one", "two", "three"]);
  },
);

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
