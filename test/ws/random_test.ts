/**
 * A WebSocket client needs random mask keys (RFC 6455 §5.3): on a host
 * without `crypto.getRandomValues` it fails at once with a WeftUsageError
 * that says so, and a server, which never masks, works.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { WeftUsageError } from "../../src/index.ts";
import { duplexPair } from "./support.ts";
import { WebSocket } from "../../src/ws/websocket.ts";
import { fillRandom } from "../../src/ws/random.ts";

/** Runs `body` with `globalThis.crypto` hidden; false when this host does not let a test hide it. */
function withoutCrypto(body: () => void): boolean {
  const own = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  try {
    Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });
  } catch {
    return false;
  }
  try {
    if ((globalThis as { crypto?: unknown }).crypto !== undefined) return false;
    body();
    return true;
  } finally {
    if (own !== undefined) Object.defineProperty(globalThis, "crypto", own);
    else delete (globalThis as { crypto?: unknown }).crypto;
  }
}

test("without crypto.getRandomValues a client WebSocket is a WeftUsageError naming it; a server WebSocket works", {
  timeout: 10_000,
}, (t) => {
  const ran = withoutCrypto(() => {
    const [a] = duplexPair();
    assert.throws(
      () => new WebSocket(a, "client"),
      (e: unknown) => e instanceof WeftUsageError && /crypto\.getRandomValues/.test(e.message) && /mask keys/.test(e.message),
    );
    assert.throws(() => fillRandom(new Uint8Array(4), "connectWebSocket()"), /connectWebSocket\(\): .*crypto\.getRandomValues/);
    const [b] = duplexPair();
    const server = new WebSocket(b, "server");
    assert.equal(server.role, "server");
    server[Symbol.dispose]();
  });
  if (!ran) t.skip("this host does not let a test hide globalThis.crypto");
  const bytes = new Uint8Array(64);
  fillRandom(bytes, "test");
  assert.ok(
    bytes.some((b) => b !== 0),
    "64 random bytes are not all zero",
  );
});
