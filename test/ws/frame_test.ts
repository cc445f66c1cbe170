/**
 * The pure parts of weft/ws: masking (32 bits at a time where aligned, in
 * pieces with a phase), the incremental UTF-8 validator against the host's
 * strict decoder, close codes and close payloads.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Utf8Validator } from "../../src/ws/utf8.ts";
import { applyMask, encodeClosePayload, encodeFrame, isValidCloseCode, Opcode, parseClosePayload } from "../../src/ws/frame.ts";

test("the values the frame and UTF-8 helpers' comments give", { timeout: 10_000 }, () => {
  assert.deepEqual([isValidCloseCode(1000), isValidCloseCode(1006), isValidCloseCode(4000)], [true, false, true]);
  const data = Uint8Array.of(10, 20, 30, 40, 50);
  const key = Uint8Array.of(1, 2, 3, 4);
  applyMask(data, key, applyMask(data, key, 0, 0, 3), 3, 5);
  assert.deepEqual([...data], [11, 22, 29, 44, 51]);
  assert.deepEqual([...encodeFrame(Opcode.Text, true, new TextEncoder().encode("hi"))], [129, 2, 104, 105]);
  assert.deepEqual([...encodeClosePayload(1000, "bye")], [3, 232, 98, 121, 101]);
  assert.deepEqual(parseClosePayload(Uint8Array.of(3, 232, 111, 107)), { code: 1000, reason: "ok" });
  assert.equal(parseClosePayload(Uint8Array.of(3, 237)), 1002);
  const v = new Utf8Validator();
  const bytes = new TextEncoder().encode("héllo");
  assert.deepEqual([v.feed(bytes, 0, 2), v.feed(bytes, 2), v.finish()], [-1, -1, true]);
  assert.equal(new Utf8Validator().feed(Uint8Array.of(0x61, 0xc0, 0x80)), 1);
});

test("property: applyMask at any offset, in any pieces, equals the byte-by-byte XOR", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 7 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 4 }),
      (data, key, offset, cuts) => {
        const buffer = new Uint8Array(data.length + 8);
        const view = buffer.subarray(offset, offset + data.length);
        view.set(data);
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        let phase = 0;
        let at = 0;
        for (const p of [...points, data.length]) {
          phase = applyMask(view, key, phase, at, p);
          at = p;
        }
        const expected = data.map((b, i) => b ^ key[i % 4]!);
        assert.deepEqual(view, expected);
      },
    ),
  );
});

test("property: the UTF-8 validator agrees with a strict decoder, fed in any pieces, and points at the first bad byte", () => {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 20 }).map((s) => new TextEncoder().encode(s)),
    fc.tuple(fc.string({ unit: "binary", maxLength: 10 }), fc.uint8Array({ maxLength: 4 })).map(([s, tail]) => {
      const head = new TextEncoder().encode(s);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    }),
  );
  fc.assert(
    fc.property(bytes, fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 4 }), (data, cuts) => {
      let valid = true;
      try {
        strict.decode(data);
      } catch {
        valid = false;
      }
      const v = new Utf8Validator();
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      let at = 0;
      let bad = -1;
      for (const p of [...points, data.length]) {
        bad = v.feed(data, at, p);
        if (bad !== -1) break;
        at = p;
      }
      assert.equal(bad === -1 && v.finish(), valid);
      if (bad !== -1) {
        // Everything before the bad byte is a valid prefix (possibly cut), everything up to it is not.
        assert.equal(new Utf8Validator().feed(data, 0, bad), -1);
        assert.notEqual(new Utf8Validator().feed(data, 0, bad + 1), -1);
      }
    }),
  );
});

test("the UTF-8 validator rejects overlongs, surrogates and code points past U+10FFFF, and a cut sequence at finish()", () => {
  const bad = [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0x80]];
  for (const b of bad) assert.notEqual(new Utf8Validator().feed(Uint8Array.from(b)), -1, b.join(","));
  const cut = new Utf8Validator();
  assert.equal(cut.feed(Uint8Array.of(0xf0, 0x9f, 0x98)), -1);
  assert.equal(cut.finish(), false);
  assert.equal(cut.feed(Uint8Array.of(0x80)), -1);
  assert.equal(cut.finish(), true);
});

test("close codes: what may be sent and received", () => {
  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];
  const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, NaN];
  for (const c of valid) assert.equal(isValidCloseCode(c), true, String(c));
  for (const c of invalid) assert.equal(isValidCloseCode(c), false, String(c));
  assert.deepEqual(parseClosePayload(encodeClosePayload(4001, "é")), { code: 4001, reason: "é" });
  assert.deepEqual(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: "" });
  assert.equal(parseClosePayload(Uint8Array.of(3)), 1002);
  assert.equal(parseClosePayload(Uint8Array.of(3, 232, 0xc3)), 1007);
  assert.throws(() => encodeClosePayload(1005), /code/);
  assert.throws(() => encodeClosePayload(1000, "x".repeat(124)), /reason/);
  assert.deepEqual(encodeClosePayload(undefined), new Uint8Array(0));
});

test("frame headers: 7-bit, 16-bit and 64-bit lengths", () => {
  assert.deepEqual([...encodeFrame(2, true, new Uint8Array(125)).subarray(0, 2)], [0x82, 125]);
  assert.deepEqual([...encodeFrame(2, false, new Uint8Array(126)).subarray(0, 4)], [0x02, 126, 0, 126]);
  assert.deepEqual([...encodeFrame(1, true, new Uint8Array(65_536)).subarray(0, 10)], [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  const masked = encodeFrame(9, true, Uint8Array.of(1, 2), Uint8Array.of(1, 1, 1, 1));
  assert.deepEqual([...masked], [0x89, 0x82, 1, 1, 1, 1, 0, 3]);
});
