/**
 * An upgraded HTTP connection offers its transport for direct reads and
 * writes (src/io/direct.ts) only once nothing is left in front of it: the
 * bytes that came after the request head, the HTTP pump's last read, its
 * own buffer. A WebSocket reads and writes past it from then on; what it
 * receives is the same as through it, in order. In-memory connections under
 * virtual time, so every step happens in a known order.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import type { Operation } from "../../src/index.ts";
import type { HttpUpgradedConnection } from "../../src/http/server/response.ts";
import { directReader, directWriter, readerNow, writerNow } from "../../src/io/direct.ts";
import { runVirtual } from "../../src/testing.ts";
import { acceptWebSocket } from "../../src/ws.ts";
import { RawClient, served } from "./http_support.ts";

const LIMIT = { timeout: 30_000 };

const UPGRADE = "GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: upgrade\r\n\r\n";

test(
  "upgraded connection: no direct reader while bytes that came with the head, or the pump's last read, are in front; the transport after",
  LIMIT,
  async () => {
    const seen: string[] = [];
    await runVirtual(() =>
      served(
        function* (_req, res) {
          const conn: HttpUpgradedConnection = yield* res.upgrade(101, { upgrade: "test", connection: "Upgrade" });
          const direct = (): string => (conn[directReader]() === null ? "through" : "direct");
          const text = function* (): Operation<string> {
            return new TextDecoder().decode(yield* readerNow(conn).readSome());
          };
          seen.push(`${direct()} ${yield* text()}`); // the bytes after the head
          seen.push(`${direct()} ${yield* text()}`); // the pump's last read, stashed
          seen.push(`${direct()} ${yield* text()}`); // the transport itself
          assert.ok(conn[directWriter]() !== null);
          yield* writerNow(conn).write("done");
          conn.close();
          assert.equal(conn[directReader](), null);
          assert.equal(conn[directWriter](), null);
        },
        function* (c) {
          yield* c.send(`${UPGRADE}hello`);
          assert.equal((yield* c.response())?.status, 101);
          yield* c.send("world");
          yield* c.send("again");
          assert.equal(yield* c.readText(4), "done");
        },
      ),
    );
    assert.deepEqual(seen, ["through hello", "through world", "direct again"]);
  },
);

test("upgraded connection: a read of part of a chunk leaves the rest in front, so no direct reader until it is taken", LIMIT, async () => {
  const seen: string[] = [];
  await runVirtual(() =>
    served(
      function* (_req, res) {
        using conn = yield* res.upgrade(101, { upgrade: "test", connection: "Upgrade" });
        const decode = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);
        seen.push(decode(yield* conn.readSome())); // "a": the bytes after the head
        seen.push(decode(yield* conn.readSome())); // "b": the pump's last read
        seen.push(decode(yield* conn.readSome(2))); // "cd" of "cdef", read through the transport's own port
        seen.push(String(conn[directReader]() === null));
        seen.push(decode(yield* readerNow(conn).readSome())); // "ef", from this connection's buffer
        seen.push(String(conn[directReader]() === null));
        yield* conn.write("ok");
      },
      function* (c) {
        yield* c.send(`${UPGRADE}a`);
        assert.equal((yield* c.response())?.status, 101);
        yield* c.send("b");
        yield* c.send("cdef");
        assert.equal(yield* c.readText(2), "ok");
      },
    ),
  );
  assert.deepEqual(seen, ["a", "b", "cd", "true", "ef", "false"]);
});

/** A masked client frame: FIN, `opcode`, `payload` (under 126 bytes). */
function clientFrame(opcode: number, payload: string): Uint8Array {
  const data = new TextEncoder().encode(payload);
  const key = [0x12, 0x34, 0x56, 0x78];
  const frame = new Uint8Array(6 + data.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | data.length;
  frame.set(key, 2);
  for (let i = 0; i < data.length; i++) frame[6 + i] = data[i]! ^ key[i % 4]!;
  return frame;
}

/** Exactly `n` bytes from the server, one character per byte. */
function* readLatin1(c: RawClient, n: number): Operation<string> {
  let text = "";
  while (text.length < n) {
    const chunk = yield* c.input.readSome(n - text.length);
    if (chunk === undefined) throw new Error(`the stream ended after ${text.length} of ${n} bytes`);
    text += Buffer.from(chunk).toString("latin1");
  }
  return text;
}

const WS_UPGRADE =
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

test(
  "WebSocket over an upgrade: frames sent with the handshake, then later ones read past the connection, arrive whole and in order",
  LIMIT,
  async () => {
    const got: string[] = [];
    await runVirtual(() =>
      served(
        function* (req, res) {
          using ws = yield* acceptWebSocket(req, res);
          for (let i = 0; i < 5; i++) {
            const text = yield* ws.recvText();
            got.push(text);
            yield* ws.sendText(text.toUpperCase());
          }
        },
        function* (c, end) {
          const head = new TextEncoder().encode(WS_UPGRADE);
          const first = clientFrame(1, "one");
          const both = new Uint8Array(head.length + first.length);
          both.set(head);
          both.set(first, head.length);
          yield* end.write(both);
          assert.equal((yield* c.response())?.status, 101);
          // Server frames are unmasked: 2 bytes of header and the payload.
          assert.equal(yield* readLatin1(c, 5), "\x81\x03ONE");
          for (const word of ["two", "three", "four"]) {
            yield* end.write(clientFrame(1, word));
            assert.equal(yield* readLatin1(c, 2 + word.length), `\x81${String.fromCharCode(word.length)}${word.toUpperCase()}`);
          }
          // A frame cut in two writes: the second half reaches the reader after the first was taken.
          const five = clientFrame(1, "five");
          yield* end.write(five.subarray(0, 4));
          yield* end.write(five.subarray(4));
          assert.equal(yield* readLatin1(c, 6), "\x81\x04FIVE");
        },
      ),
    );
    assert.deepEqual(got, ["one", "two", "three", "four", "five"]);
  },
);
