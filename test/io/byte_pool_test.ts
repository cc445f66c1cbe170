/**
 * `allocBytes`: small arrays carved from shared slabs must behave like fresh
 * `new Uint8Array(n)` ones: zeroed, of the asked length, and never sharing a
 * byte with another array handed out. `wireBytes`, for small writes filled
 * completely, never shares a byte either, and on Node is a Buffer, which a
 * Node stream takes as it is.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { allocBytes, wireBytes } from "../../src/io/byte_pool.ts";

const LIMIT = { timeout: 30_000 };

/** Writing a distinct mark into each array must leave every other array's marks intact. */
function assertDisjoint(arrays: readonly Uint8Array[]): void {
  arrays.forEach((bytes, i) => bytes.fill((i % 255) + 1));
  arrays.forEach((bytes, i) =>
    assert.ok(
      bytes.every((b) => b === (i % 255) + 1),
      `array ${i} was overwritten`,
    ),
  );
}

test("allocBytes: every array is zeroed, of its length, and shares no byte with any other", LIMIT, () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 60 }), (sizes) => {
      const arrays = sizes.map((n) => allocBytes(n));
      arrays.forEach((bytes, i) => {
        assert.equal(bytes.length, sizes[i]);
        assert.ok(bytes.every((b) => b === 0));
      });
      assertDisjoint(arrays);
    }),
    { numRuns: 200 },
  );
});

test("allocBytes: a large array gets memory of its own, a small one does not hold a whole slab per call", LIMIT, () => {
  const large = allocBytes(64 * 1024);
  assert.equal(large.byteOffset, 0);
  assert.equal(large.buffer.byteLength, 64 * 1024);
  // Three in a row: at most one slab boundary falls between them, so two of them share a slab.
  const [a, b, c] = [allocBytes(100), allocBytes(100), allocBytes(100)];
  assert.ok(a.buffer === b.buffer || b.buffer === c.buffer, "small arrays in a row come from one slab");
  assert.ok(a.buffer.byteLength < 64 * 1024, "a small array is a view into a slab, not a slab per call");
  for (const bytes of [a, b, c]) assert.equal(bytes.byteOffset % 8, 0, "views are 8-byte aligned");
});

test("wireBytes: of its length, shares no byte with any other, and on Node is a Buffer", LIMIT, () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 64 }), { minLength: 1, maxLength: 200 }), (sizes) => {
      const arrays = sizes.map((n) => wireBytes(n));
      arrays.forEach((bytes, i) => {
        assert.equal(bytes.length, sizes[i]);
        assert.ok(Buffer.isBuffer(bytes), "a Node stream takes a Buffer without copying it");
      });
      assertDisjoint(arrays);
    }),
  );
});
