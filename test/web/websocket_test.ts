/**
 * weft/web's connectWebSocket over a fake platform WebSocket (issue 14,
 * "weft/web"), in virtual time: the events come from a sibling task at set
 * times, so every ordering is exact. Queueing of messages nobody reads yet,
 * cancellation of connect/recv/close, removal of the listeners, close codes,
 * the errors shared with weft/ws, and bad input.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { now, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { WeftUsageError } from "../../src/core/errors.ts";
import * as wsErrors from "../../src/ws/errors.ts";
import { ConnectionClosed, ProtocolError, WebSocketConnectFailed, connectWebSocket, type PlatformWebSocket } from "../../src/web.ts";
import { type FakeWebSocket, LIMIT, fakeWebSocketClass, last } from "./support.ts";

const URL_ = "ws://example.test/chat";
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** Connects through a fake class; a sibling task opens the socket at t=1. */
function* connected(
  protocol = "",
  options: { protocols?: string | string[]; closeTimeout?: number } = {},
): Operation<{ ws: PlatformWebSocket; fake: FakeWebSocket; sockets: FakeWebSocket[] }> {
  const cls = fakeWebSocketClass();
  return yield* withTaskGroup(function* (group) {
    group.startSoon(function* () {
      yield* sleep(1);
      last(cls.sockets).open(protocol);
    });
    const ws = yield* connectWebSocket(URL_, { WebSocket: cls.WebSocket, ...options });
    return { ws, fake: last(cls.sockets), sockets: cls.sockets };
  });
}

/** Runs `body` and returns what it threw. */
function* thrown(body: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

test("weft/web's ConnectionClosed and ProtocolError are weft/ws's own classes", LIMIT, () => {
  assert.equal(ConnectionClosed, wsErrors.ConnectionClosed);
  assert.equal(ProtocolError, wsErrors.ProtocolError);
});

test("connect waits for the open event; protocols are offered, binaryType is arraybuffer, protocol is the server's choice", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected("chat.v2", { protocols: ["chat.v2", "chat.v1"] });
    assert.equal(fake.url, URL_);
    assert.deepEqual(fake.protocols, ["chat.v2", "chat.v1"]);
    assert.equal(fake.binaryType, "arraybuffer");
    assert.equal(ws.protocol, "chat.v2");
    assert.equal(ws.url, URL_);
    assert.equal(fake.listenerCount, 4);
    ws[Symbol.dispose]();
  }),
);

const noUrl = typeof (globalThis as { URL?: unknown }).URL === "function" ? false : "this host has no URL class";

test("a URL object is accepted; no protocols offered means the one-argument constructor", { ...LIMIT, skip: noUrl }, () =>
  runVirtual(function* () {
    const cls = fakeWebSocketClass();
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        last(cls.sockets).open();
      });
      using ws = yield* connectWebSocket(new URL("wss://example.test:8443/x?y=1"), { WebSocket: cls.WebSocket });
      assert.equal(last(cls.sockets).url, "wss://example.test:8443/x?y=1");
      assert.equal(last(cls.sockets).protocols, undefined);
      assert.equal(ws.protocol, "");
    });
  }),
);

test("messages that arrive while nobody reads are queued and handed out in order, text and binary", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    fake.message("one");
    fake.message(bytes(1, 2, 3).buffer);
    fake.message("two");
    fake.message(bytes(0xe2, 0x82, 0xac).buffer);
    fake.message("three");
    assert.equal(ws.queued, 5);
    const first = yield* ws.recv();
    assert.equal(first.kind, "text");
    assert.equal((yield* first.reader.readAll()).text(), "one");
    const second = yield* ws.recv();
    assert.equal(second.kind, "binary");
    assert.deepEqual((yield* second.reader.readAll()).bytes(), bytes(1, 2, 3));
    assert.deepEqual(yield* ws.recvBytes(), new TextEncoder().encode("two")); // text as its UTF-8
    assert.equal(yield* ws.recvText(), "€"); // binary decoded as UTF-8
    assert.equal(yield* ws.recvText(), "three");
    assert.equal(ws.queued, 0);
    ws[Symbol.dispose]();
  }),
);

test("a binary message delivered as a typed array view is copied", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    const backing = bytes(9, 1, 2, 9);
    fake.message(backing.subarray(1, 3));
    backing.fill(0);
    assert.deepEqual(yield* ws.recvBytes(), bytes(1, 2));
    ws[Symbol.dispose]();
  }),
);

test("recv waits for the next message and wakes when it comes", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    const got = yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(50);
        fake.message("late");
      });
      const text = yield* ws.recvText();
      return text;
    });
    assert.equal(got, "late");
    ws[Symbol.dispose]();
  }),
);

test("a cancelled recv takes nothing: the message that comes later goes to the next recv", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    assert.equal(yield* withTimeoutOpt(10, () => ws.recvText()), undefined);
    assert.equal(yield* withTimeoutOpt(10, () => ws.recv()), undefined);
    fake.message("kept");
    assert.equal(yield* ws.recvText(), "kept");
    ws[Symbol.dispose]();
  }),
);

test("two tasks receiving at once is a WeftUsageError", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        assert.equal(yield* ws.recvText(), "x");
      });
      yield* sleep(1);
      const error = yield* thrown(() => ws.recv());
      assert.ok(error instanceof WeftUsageError, String(error));
      fake.message("x");
    });
    ws[Symbol.dispose]();
  }),
);

test("the peer's close: queued messages first, then ConnectionClosed with its code and reason; listeners are removed", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    fake.message("before");
    fake.peerClose(4001, "going");
    assert.equal(fake.listenerCount, 0);
    assert.equal(yield* ws.recvText(), "before");
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed);
    assert.equal(error.code, 4001);
    assert.equal(error.reason, "going");
    const again = yield* thrown(() => ws.recvBytes());
    assert.equal(again, error);
    const send = yield* thrown(() => ws.sendText("late"));
    assert.equal(send, error);
    yield* ws.close(); // already closed: returns at once
    assert.equal(fake.closeCalls.length, 0);
  }),
);

test("a recv waiting when the peer closes raises ConnectionClosed", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    const error = yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(5);
        fake.peerClose(1001, "");
      });
      return yield* thrown(() => ws.recv());
    });
    assert.ok(error instanceof ConnectionClosed && error.code === 1001);
  }),
);

test("a connection lost without a close frame raises ConnectionClosed 1006", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    fake.fail();
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed && error.code === 1006);
    assert.equal(fake.listenerCount, 0);
  }),
);

test("sendText and sendBinary hand the message to the platform", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    yield* ws.sendText("hi");
    const data = bytes(1, 2);
    yield* ws.sendBinary(data);
    assert.deepEqual(fake.sent, ["hi", bytes(1, 2)]);
    ws[Symbol.dispose]();
  }),
);

test("close() sends the code and reason, waits for the close event, and discards queued messages", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    fake.message("unread");
    const closedAt = yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(20);
        assert.deepEqual(fake.closeCalls, [{ code: 4000, reason: "done" }]);
        assert.equal(fake.listenerCount, 4); // still listening for the close event
        fake.peerClose(4000, "done");
      });
      const t0 = now();
      yield* ws.close(4000, "done");
      return now() - t0;
    });
    assert.equal(closedAt, 20);
    assert.equal(fake.listenerCount, 0);
    assert.equal(ws.queued, 0);
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed && error.code === 4000 && error.reason === "done");
    const send = yield* thrown(() => ws.sendBinary(bytes(1)));
    assert.ok(send instanceof ConnectionClosed);
    yield* ws.close(); // again: returns at once
    assert.equal(fake.closeCalls.length, 1);
  }),
);

test("a recv waiting when this side closes raises ConnectionClosed with this side's code", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        const error = yield* thrown(() => ws.recv());
        assert.ok(error instanceof ConnectionClosed && error.code === 1000, String(error));
      });
      group.startSoon(function* () {
        yield* sleep(5);
        fake.peerClose(1000);
      });
      yield* sleep(1);
      yield* ws.close();
    });
  }),
);

test("a cancelled close() leaves the handshake to the platform; the listeners go when it ends", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    assert.equal(yield* withTimeoutOpt(10, () => ws.close(3001)), undefined);
    assert.deepEqual(fake.closeCalls, [{ code: 3001, reason: "" }]);
    assert.equal(fake.listenerCount, 4);
    const send = yield* thrown(() => ws.sendText("x"));
    assert.ok(send instanceof ConnectionClosed);
    fake.peerClose(3001);
    assert.equal(fake.listenerCount, 0);
    yield* ws.close(); // the handshake ended: returns at once
    assert.equal(fake.closeCalls.length, 1);
  }),
);

test("a peer that never answers close() is dropped at closeTimeout: listeners removed, later calls raise", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected("", { closeTimeout: 500 });
    const t0 = now();
    yield* ws.close(4001, "bye");
    assert.equal(now() - t0, 500);
    assert.deepEqual(fake.closeCalls, [{ code: 4001, reason: "bye" }]);
    assert.equal(fake.listenerCount, 0);
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed && error.code === 4001, String(error));
    yield* ws.close(); // returns at once
    assert.equal(now() - t0, 500);
  }),
);

test("close() waits 30 s by default for the peer's answer", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    const t0 = now();
    yield* ws.close();
    assert.equal(now() - t0, 30_000);
    assert.equal(fake.listenerCount, 0);
  }),
);

test("close codes and reasons a browser refuses are a RangeError naming the argument", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    for (const code of [1001, 1006, 2999, 5000, 3000.5]) {
      const error = yield* thrown(() => ws.close(code));
      assert.ok(error instanceof RangeError && /code/.test(error.message), String(error));
    }
    const long = yield* thrown(() => ws.close(1000, "é".repeat(62)));
    assert.ok(long instanceof RangeError && /reason/.test(long.message), String(long));
    const notString = yield* thrown(() => ws.close(1000, 5 as unknown as string));
    assert.ok(notString instanceof TypeError && /reason/.test(notString.message));
    assert.equal(fake.closeCalls.length, 0);
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        fake.peerClose(4999);
      });
      yield* ws.close(4999, "é".repeat(61));
    });
    assert.equal(fake.closeCalls.length, 1);
  }),
);

test("cancelling connect closes the socket and removes its listeners", LIMIT, () =>
  runVirtual(function* () {
    const cls = fakeWebSocketClass();
    const result = yield* withTimeoutOpt(100, () => connectWebSocket(URL_, { WebSocket: cls.WebSocket }));
    assert.equal(result, undefined);
    const fake = last(cls.sockets);
    assert.equal(fake.closeCalls.length, 1);
    assert.equal(fake.listenerCount, 0);
  }),
);

test("a socket that closes before it opens is WebSocketConnectFailed with the URL and code; listeners removed", LIMIT, () =>
  runVirtual(function* () {
    const cls = fakeWebSocketClass();
    const error = yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(3);
        last(cls.sockets).fail();
      });
      return yield* thrown(() => connectWebSocket(URL_, { WebSocket: cls.WebSocket }));
    });
    assert.ok(error instanceof WebSocketConnectFailed, String(error));
    assert.equal(error.url, URL_);
    assert.equal(error.code, 1006);
    assert.equal(last(cls.sockets).listenerCount, 0);
  }),
);

test("dispose drops the connection: close() without a code, listeners removed at once, later calls raise 1006", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    fake.message("dropped");
    ws[Symbol.dispose]();
    assert.deepEqual(fake.closeCalls, [{ code: undefined, reason: undefined }]);
    assert.equal(fake.listenerCount, 0);
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ConnectionClosed && error.code === 1006);
    ws[Symbol.dispose](); // twice: nothing more
    assert.equal(fake.closeCalls.length, 1);
    yield* ws.close(); // returns at once
  }),
);

test("a binary message delivered as a Blob fails the connection with 1003 (ProtocolError)", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    fake.message({ size: 3, type: "" }); // what a Blob looks like to the listener
    const error = yield* thrown(() => ws.recv());
    assert.ok(error instanceof ProtocolError && error.code === 1003, String(error));
    assert.equal(fake.closeCalls[0]?.code, 1003);
    fake.peerClose(1003);
  }),
);

test("bad input to connectWebSocket is a TypeError or RangeError naming the argument", LIMIT, () =>
  runVirtual(function* () {
    const cls = fakeWebSocketClass();
    const cases: Array<[() => Operation<unknown>, ErrorConstructor, RegExp]> = [
      [() => connectWebSocket(42 as unknown as string, { WebSocket: cls.WebSocket }), TypeError, /url/],
      [() => connectWebSocket("not a url", { WebSocket: cls.WebSocket }), TypeError, /url/],
      [() => connectWebSocket("http://example.test/", { WebSocket: cls.WebSocket }), RangeError, /url.*ws: or wss:/],
      [() => connectWebSocket("ws://example.test/#x", { WebSocket: cls.WebSocket }), RangeError, /url.*fragment/],
      [() => connectWebSocket(URL_, "x" as unknown as object), TypeError, /options/],
      [() => connectWebSocket(URL_, { WebSocket: cls.WebSocket, protocols: 5 as unknown as string }), TypeError, /options\.protocols/],
      [() => connectWebSocket(URL_, { WebSocket: cls.WebSocket, protocols: ["a b"] }), TypeError, /options\.protocols/],
      [() => connectWebSocket(URL_, { WebSocket: cls.WebSocket, protocols: ["a", "a"] }), RangeError, /options\.protocols/],
      [() => connectWebSocket(URL_, { WebSocket: 1 as unknown as undefined }), TypeError, /options\.WebSocket/],
      [
        () => connectWebSocket(URL_, { WebSocket: cls.WebSocket, closeTimeout: "1s" as unknown as number }),
        TypeError,
        /options\.closeTimeout/,
      ],
      [() => connectWebSocket(URL_, { WebSocket: cls.WebSocket, closeTimeout: -1 }), RangeError, /options\.closeTimeout/],
      [
        () => connectWebSocket(URL_, { WebSocket: cls.WebSocket, closeTimeout: Number.POSITIVE_INFINITY }),
        RangeError,
        /options\.closeTimeout/,
      ],
    ];
    for (const [call, type, pattern] of cases) {
      const error = yield* thrown(call);
      assert.ok(error instanceof type && pattern.test((error as Error).message), String(error));
    }
    assert.equal(cls.sockets.length, 0);
  }),
);

test("bad input to send is a TypeError naming the argument", LIMIT, () =>
  runVirtual(function* () {
    const { ws, fake } = yield* connected();
    const text = yield* thrown(() => ws.sendText(5 as unknown as string));
    assert.ok(text instanceof TypeError && /text/.test(text.message));
    const binary = yield* thrown(() => ws.sendBinary("x" as unknown as Uint8Array));
    assert.ok(binary instanceof TypeError && /bytes/.test(binary.message));
    assert.equal(fake.sent.length, 0);
    ws[Symbol.dispose]();
  }),
);
