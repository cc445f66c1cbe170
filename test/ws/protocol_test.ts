/**
 * Issue 14's «Protocol rules», each a test over pipe pairs under virtual
 * time: control frames answered while a task reads, the close handshake and
 * its timeout, and every violation failing the connection with its close
 * code, at once.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { now, sleep, withTaskGroup, withTimeoutOpt, WeftUsageError, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { PipeClosed } from "../../src/io.ts";
import { ConnectionClosed, ProtocolError } from "../../src/ws/errors.ts";
import { Opcode, encodeClosePayload } from "../../src/ws/frame.ts";
import type { WebSocketOptions } from "../../src/ws/options.ts";
import { LIMIT, closeCode, peerFrame, readFrame, utf8, withRawPeer, wsPair, type PipeEnd, type WireFrame } from "./support.ts";

/** Writes `chunks` to the peer, stopping quietly when the WebSocket has closed the transport. */
function* feed(peer: PipeEnd, chunks: Uint8Array[], log?: string[]): Operation<void> {
  try {
    for (const chunk of chunks) {
      yield* peer.write(chunk);
      log?.push(`peer wrote ${chunk.length}`);
    }
  } catch (e) {
    if (!(e instanceof PipeClosed)) throw e;
  }
}

function* collect(peer: PipeEnd, frames: WireFrame[]): Operation<void> {
  for (let f; (f = yield* readFrame(peer)) !== undefined; ) frames.push(f);
}

interface Outcome {
  error: unknown;
  frames: WireFrame[];
  received: string[];
}

/** Feeds `chunks` from a raw peer to a WebSocket of `role` that receives in a loop; the error it ends with and what it sent. */
function violation(role: "client" | "server", chunks: Uint8Array[], options?: WebSocketOptions): Promise<Outcome> {
  return runVirtual(function* () {
    const { ws, peer } = withRawPeer(role, options);
    const frames: WireFrame[] = [];
    const received: string[] = [];
    let error: unknown;
    yield* withTaskGroup(function* (group) {
      group.startSoon(() => feed(peer, chunks));
      group.startSoon(() => collect(peer, frames));
      try {
        for (;;) {
          const m = yield* ws.recv();
          received.push(`${m.kind}:${(yield* m.reader.readAll()).length}`);
        }
      } catch (e) {
        error = e;
      }
    });
    return { error, frames, received };
  });
}

function assertFailed(outcome: Outcome, code: number): void {
  assert.ok(outcome.error instanceof ProtocolError, `expected a ProtocolError, got ${String(outcome.error)}`);
  assert.equal((outcome.error as ProtocolError).code, code);
  assert.equal(outcome.frames.length, 1, "one CLOSE frame and then the end of the stream");
  assert.equal(closeCode(outcome.frames[0]), code);
}

test("auto-PONG while a task reads: a PING is answered in order, before the message after it is read", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* peer.write(peerFrame("server", Opcode.Ping, "are you there"));
        const pong = (yield* readFrame(peer))!;
        log.push(`peer got opcode ${pong.opcode} "${new TextDecoder().decode(pong.payload)}" masked=${pong.masked} at ${now()}`);
        yield* sleep(10);
        yield* peer.write(peerFrame("server", Opcode.Text, "after"));
      });
      const text = yield* ws.recvText();
      log.push(`recv ${text} at ${now()}`);
    });
    return log;
  });
  assert.deepEqual(log, ['peer got opcode 10 "are you there" masked=false at 0', "recv after at 10"]);
});

test("a client answers a PING with a masked PONG", LIMIT, async () => {
  const pong = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("client");
    return yield* withTaskGroup<WireFrame>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* ws.recv();
        } catch {}
      });
      yield* peer.write(peerFrame("client", Opcode.Ping, "x"));
      const pong = (yield* readFrame(peer))!;
      ws[Symbol.dispose]();
      return pong;
    });
  });
  assert.equal(pong.opcode, Opcode.Pong);
  assert.equal(pong.masked, true);
  assert.deepEqual([...pong.payload], [120]);
});

test("an unsolicited PONG is ignored", LIMIT, async () => {
  const text = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server");
    return yield* withTaskGroup<string>(function* (group) {
      group.startSoon(() => feed(peer, [peerFrame("server", Opcode.Pong, "nobody asked"), peerFrame("server", Opcode.Text, "hi")]));
      return yield* ws.recvText();
    });
  });
  assert.equal(text, "hi");
});

test("a CLOSE from the peer is echoed, the transport closed, and later reads and sends raise ConnectionClosed", LIMIT, async () => {
  const result = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* peer.write(peerFrame("server", Opcode.Close, encodeClosePayload(1001, "going away")));
        const echo = yield* readFrame(peer);
        log.push(`peer got CLOSE ${closeCode(echo)}`);
        log.push(`then ${String(yield* readFrame(peer))}`);
      });
      for (let i = 0; i < 2; i++) {
        try {
          yield* ws.recv();
        } catch (e) {
          assert.ok(e instanceof ConnectionClosed);
          log.push(`recv: ConnectionClosed ${e.code} ${e.reason}`);
        }
      }
      try {
        yield* ws.sendText("late");
      } catch (e) {
        log.push(`sendText: ${(e as Error).name} ${(e as ConnectionClosed).code}`);
      }
      yield* ws.close(); // already closed: returns at once
      log.push(`close returned at ${now()}`);
    });
    return log;
  });
  assert.deepEqual(result.sort(), [
    "close returned at 0",
    "peer got CLOSE 1001",
    "recv: ConnectionClosed 1001 going away",
    "recv: ConnectionClosed 1001 going away",
    "sendText: ConnectionClosed 1001",
    "then undefined",
  ]);
});

test("a peer silent after our CLOSE is dropped at the close timeout", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server", { closeTimeout: 5_000 });
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        const close = yield* readFrame(peer);
        log.push(`peer got CLOSE ${closeCode(close)} "${new TextDecoder().decode(close!.payload.subarray(2))}" at ${now()}`);
        log.push(`peer read ${String(yield* readFrame(peer))} at ${now()}`); // silent: never answers
      });
      yield* ws.close(4000, "done");
      log.push(`close returned at ${now()}`);
    });
    return log;
  });
  assert.deepEqual(log, ['peer got CLOSE 4000 "done" at 0', "close returned at 5000", "peer read undefined at 5000"]);
});

test("the close handshake between two WebSockets: the closer returns once the peer's CLOSE came back", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { server, client } = wsPair();
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        try {
          for (;;) log.push(`server got ${yield* server.recvText()}`);
        } catch (e) {
          log.push(`server: ${(e as ConnectionClosed).code} ${(e as ConnectionClosed).reason}`);
        }
      });
      yield* client.sendText("one");
      yield* sleep(20);
      yield* client.close(1000, "bye");
      log.push(`client close returned at ${now()}`);
    });
    return log;
  });
  assert.deepEqual(log, ["server got one", "server: 1000 bye", "client close returned at 20"]);
});

test("data that arrives while close() waits for the peer's CLOSE is discarded", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("client");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        log.push(`peer got CLOSE ${closeCode(yield* readFrame(peer))}`);
        yield* peer.write(peerFrame("client", Opcode.Binary, new Uint8Array(1000)));
        yield* peer.write(peerFrame("client", Opcode.Close, encodeClosePayload(1000)));
      });
      yield* ws.close();
      log.push(`close returned at ${now()}`);
    });
    return log;
  });
  assert.deepEqual(log, ["peer got CLOSE 1000", "close returned at 0"]);
});

test("a server rejects an unmasked client frame with 1002", LIMIT, async () => {
  assertFailed(await violation("server", [peerFrame("server", Opcode.Text, "hi", { mask: false })]), 1002);
});

test("a client rejects a masked server frame with 1002", LIMIT, async () => {
  const outcome = await violation("client", [peerFrame("client", Opcode.Text, "hi", { mask: true })]);
  assertFailed(outcome, 1002);
  assert.equal(outcome.frames[0]!.masked, true, "the client's CLOSE is masked");
});

test("RSV bits without an extension fail with 1002", LIMIT, async () => {
  for (const rsv of [1, 2, 4, 7]) assertFailed(await violation("server", [peerFrame("server", Opcode.Text, "hi", { rsv })]), 1002);
});

test("reserved opcodes fail with 1002", LIMIT, async () => {
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    assertFailed(await violation("server", [peerFrame("server", opcode, "x")]), 1002);
  }
});

test("a stray continuation, and a new message inside a fragmented one, fail with 1002", LIMIT, async () => {
  assertFailed(await violation("server", [peerFrame("server", Opcode.Continuation, "x")]), 1002);
  const interleaved = await violation("server", [
    peerFrame("server", Opcode.Text, "a", { fin: false }),
    peerFrame("server", Opcode.Binary, "b"),
  ]);
  assertFailed(interleaved, 1002);
  assert.deepEqual(interleaved.received, [], "the first message's reader failed");
});

test("a fragmented or over-125-byte control frame fails with 1002", LIMIT, async () => {
  assertFailed(await violation("server", [peerFrame("server", Opcode.Ping, "x", { fin: false })]), 1002);
  assertFailed(await violation("server", [peerFrame("server", Opcode.Ping, new Uint8Array(126))]), 1002);
  assertFailed(await violation("client", [peerFrame("client", Opcode.Close, new Uint8Array(200))]), 1002);
});

test("invalid UTF-8 in one frame, across frames, or cut at the end fails with 1007", LIMIT, async () => {
  const euro = utf8("€"); // e2 82 ac
  assertFailed(await violation("server", [peerFrame("server", Opcode.Text, Uint8Array.of(0x61, 0xff, 0x62))]), 1007);
  assertFailed(
    await violation("server", [
      peerFrame("server", Opcode.Text, euro.subarray(0, 2), { fin: false }),
      peerFrame("server", Opcode.Continuation, Uint8Array.of(0x41)),
    ]),
    1007,
  );
  assertFailed(await violation("server", [peerFrame("server", Opcode.Text, euro.subarray(0, 2))]), 1007);
  assertFailed(
    await violation("server", [
      peerFrame("server", Opcode.Text, euro.subarray(0, 1), { fin: false }),
      peerFrame("server", Opcode.Continuation, euro.subarray(1, 2), { fin: false }),
      peerFrame("server", Opcode.Continuation, new Uint8Array(0)),
    ]),
    1007,
  );
  // A character split across fragments is fine.
  const ok = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server");
    return yield* withTaskGroup<string>(function* (group) {
      group.startSoon(() =>
        feed(peer, [
          peerFrame("server", Opcode.Text, euro.subarray(0, 1), { fin: false }),
          peerFrame("server", Opcode.Continuation, euro.subarray(1), { fin: true }),
        ]),
      );
      return yield* ws.recvText();
    });
  });
  assert.equal(ok, "€");
});

test("invalid UTF-8 fails at the offending byte, before the rest of the message was even sent", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        // The first fragment carries the bad byte; the rest would come only 1 s later.
        const frame = peerFrame("server", Opcode.Text, Uint8Array.of(0x61, 0x62, 0xc0, 0x80), { fin: false });
        yield* peer.write(frame.subarray(0, frame.length - 2)); // header and "ab"
        yield* peer.write(frame.subarray(frame.length - 2)); // the overlong pair
        log.push(`peer got CLOSE ${closeCode(yield* readFrame(peer))} at ${now()}`);
      });
      const m = yield* ws.recv();
      try {
        for (let chunk; (chunk = yield* m.reader.readSome()) !== undefined; ) log.push(`read ${chunk.length}`);
      } catch (e) {
        log.push(`${(e as Error).name} ${(e as ProtocolError).code} at ${now()}: ${(e as Error).message}`);
      }
    });
    return log;
  });
  assert.deepEqual(log, ["read 2", "peer got CLOSE 1007 at 0", "ProtocolError 1007 at 0: invalid UTF-8 in a text message at byte 2"]);
});

test("a header announcing 2^63 bytes, or more than maxMessageSize, fails with 1009 before any payload", LIMIT, async () => {
  const huge = Uint8Array.of(0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4);
  assertFailed(await violation("server", [huge]), 1009);
  const over2to53 = Uint8Array.of(0x82, 0x80 | 127, 0, 0x20, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4);
  assertFailed(await violation("server", [over2to53]), 1009);
  // 1 MiB + 1 announced, nothing of it sent: the limit is checked on the header alone.
  const header = peerFrame("server", Opcode.Binary, new Uint8Array(1024 * 1024 + 1)).subarray(0, 14);
  assertFailed(await violation("server", [header], { maxMessageSize: 1024 * 1024 }), 1009);
  // Across fragments.
  const fragments = await violation(
    "server",
    [
      peerFrame("server", Opcode.Binary, new Uint8Array(600), { fin: false }),
      peerFrame("server", Opcode.Continuation, new Uint8Array(600)),
    ],
    { maxMessageSize: 1000 },
  );
  assertFailed(fragments, 1009);
  assertFailed(
    await violation("server", [peerFrame("server", Opcode.Binary, new Uint8Array(600))], { maxMessageSize: 10_000, maxFrameSize: 500 }),
    1009,
  );
});

test("CLOSE frames with invalid codes fail with 1002, a reason that is not UTF-8 with 1007", LIMIT, async () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
    const payload = Uint8Array.of(code >> 8, code & 0xff);
    assertFailed(await violation("server", [peerFrame("server", Opcode.Close, payload)]), 1002);
  }
  assertFailed(await violation("server", [peerFrame("server", Opcode.Close, Uint8Array.of(3))]), 1002);
  assertFailed(await violation("server", [peerFrame("server", Opcode.Close, Uint8Array.of(3, 232, 0xff))]), 1007);
  // An empty CLOSE is echoed empty and reads as 1005.
  const empty = await violation("server", [peerFrame("server", Opcode.Close)]);
  assert.ok(empty.error instanceof ConnectionClosed && empty.error.code === 1005);
  assert.equal(closeCode(empty.frames[0]), 1005);
});

test("close() validates what it sends: 1005, 1006 and 1015 are never sent", LIMIT, async () => {
  await runVirtual(function* () {
    const { client } = wsPair();
    for (const code of [1004, 1005, 1006, 1015, 999, 2000, 5000, 1000.5]) {
      let error: unknown;
      try {
        yield* client.close(code);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof RangeError && /code/.test(error.message), `code ${code}`);
    }
    let error: unknown;
    try {
      yield* client.close(1000, "x".repeat(124));
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof RangeError && /reason/.test(error.message));
    client[Symbol.dispose]();
  });
});

test("ping() waits for the matching pong, is cancellable, and a duplicate pending payload is an error", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("client");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        const ping = (yield* readFrame(peer))!;
        log.push(`peer got PING "${new TextDecoder().decode(ping.payload)}"`);
        yield* sleep(100);
        yield* peer.write(peerFrame("client", Opcode.Pong, "other")); // not the one asked for
        yield* sleep(100);
        yield* peer.write(peerFrame("client", Opcode.Pong, ping.payload));
        const second = (yield* readFrame(peer))!; // never answered
        log.push(`peer got PING "${new TextDecoder().decode(second.payload)}"`);
      });
      group.startSoon(function* () {
        yield* sleep(10);
        try {
          yield* ws.ping("hello");
        } catch (e) {
          log.push(`second ping: ${(e as Error).name}`);
          assert.ok(e instanceof WeftUsageError);
        }
      });
      yield* ws.ping("hello");
      log.push(`pong at ${now()}`);
      const answered = yield* withTimeoutOpt(50, () => ws.ping("silence"));
      log.push(`ping cancelled: ${String(answered)} at ${now()}`);
      ws[Symbol.dispose]();
    });
    return log;
  });
  assert.deepEqual(log, [
    'peer got PING "hello"',
    "second ping: WeftUsageError",
    "pong at 200",
    'peer got PING "silence"',
    "ping cancelled: undefined at 250",
  ]);
});

test("ping() between two WebSockets: the peer's reading task answers", LIMIT, async () => {
  const t = await runVirtual(function* () {
    const { server, client } = wsPair();
    return yield* withTaskGroup<number>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* server.recv();
        } catch {}
      });
      yield* sleep(5);
      yield* client.ping();
      yield* client.ping(Uint8Array.of(1, 2, 3));
      const t = now();
      yield* client.close();
      return t;
    });
  });
  assert.equal(t, 5);
});

test("messages: text, binary, empty, fragmented with startMessage, streamed through the reader", LIMIT, async () => {
  const got = await runVirtual(function* () {
    const { server, client } = wsPair();
    const got: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* client.sendText("héllo");
        yield* client.sendBinary(Uint8Array.of(1, 2, 3));
        yield* client.sendText("");
        using w = yield* client.startMessage("text");
        yield* w.write("frag");
        yield* client.ping(); // a control frame between the fragments
        yield* w.write("mented");
        yield* w.end();
        yield* client.sendBinary(new Uint8Array(200_000).fill(7));
      });
      got.push(yield* server.recvText());
      const b = yield* server.recv();
      got.push(`${b.kind} ${[...(yield* b.reader.readAll()).bytes()].join(",")}`);
      got.push(`[${yield* server.recvText()}]`);
      got.push(yield* server.recvText());
      const big = yield* server.recvBytes();
      got.push(`${big.length} ${big.every((x) => x === 7)}`);
    });
    return got;
  });
  assert.deepEqual(got, ["héllo", "binary 1,2,3", "[]", "fragmented", "200000 true"]);
});

test("a second recv() discards the unread rest of the previous message", LIMIT, async () => {
  const got = await runVirtual(function* () {
    const { server, client } = wsPair();
    return yield* withTaskGroup<string[]>(function* (group) {
      group.startSoon(function* () {
        yield* client.sendBinary(new Uint8Array(100_000));
        yield* client.sendText("next");
      });
      const first = yield* server.recv();
      const part = yield* first.reader.readSome(10);
      const second = yield* server.recvText();
      return [`${part!.length}`, second, String(yield* first.reader.readSome())];
    });
  });
  assert.deepEqual(got, ["10", "next", "undefined"]);
});

test("a startMessage writer cancelled mid-message fails the connection with 1011", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("server");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      const writer = group.spawn(function* () {
        using w = yield* ws.startMessage("binary");
        yield* w.write(new Uint8Array(10));
        yield* w.write(new Uint8Array(20)); // the peer reads it only after the cancellation
        log.push("never");
      });
      const first = (yield* readFrame(peer))!;
      log.push(`frame opcode ${first.opcode} fin ${first.fin} ${first.payload.length}`);
      yield* sleep(100);
      writer.cancel();
      yield* sleep(1); // the peer reads only after the cancellation reached the write
      for (let f; (f = yield* readFrame(peer)) !== undefined; ) log.push(`then opcode ${f.opcode} code ${closeCode(f)}`);
      try {
        yield* ws.sendText("x");
      } catch (e) {
        log.push(`send: ${(e as ConnectionClosed).code}`);
      }
    });
    return log;
  });
  assert.deepEqual(log, ["frame opcode 2 fin false 10", "then opcode 8 code 1011", "send: 1011"]);
});

test("a message writer given up after a frame went out fails the connection with 1011 at the next operation", LIMIT, async () => {
  const log = await runVirtual(function* () {
    const { ws, peer } = withRawPeer("client");
    const log: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        for (let f; (f = yield* readFrame(peer)) !== undefined; ) log.push(`peer: opcode ${f.opcode} ${closeCode(f) ?? f.payload.length}`);
      });
      {
        using w = yield* ws.startMessage("text");
        yield* w.write("part");
      }
      try {
        yield* ws.sendText("more");
      } catch (e) {
        log.push(`send: ${(e as ConnectionClosed).code}`);
      }
    });
    return log;
  });
  assert.deepEqual(log, ["peer: opcode 1 4", "send: 1011", "peer: opcode 8 1011"]);
});

test("data messages queue behind a message being written; a second concurrent recv() is a usage error", LIMIT, async () => {
  const got = await runVirtual(function* () {
    const { server, client } = wsPair();
    const got: string[] = [];
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        const w = yield* client.startMessage("text");
        yield* w.write("a");
        yield* sleep(10);
        yield* w.write("b");
        yield* w.end();
      });
      group.startSoon(function* () {
        yield* sleep(1);
        yield* client.sendText("c"); // waits for the message to end
      });
      group.startSoon(function* () {
        try {
          yield* server.recv();
        } catch (e) {
          got.push(`second recv: ${(e as Error).name}`);
        }
      });
      got.push(yield* server.recvText());
      got.push(yield* server.recvText());
    });
    return got;
  });
  assert.deepEqual(got, ["second recv: WeftUsageError", "ab", "c"]);
});

test("options are validated with errors naming them", () => {
  const { clientEnd } = wsPair();
  assert.throws(() => withRawPeer("server", { maxMessageSize: "big" as unknown as number }), /options\.maxMessageSize/);
  assert.throws(() => withRawPeer("server", { maxMessageSize: 0 }), RangeError);
  assert.throws(() => withRawPeer("server", { maxFrameSize: 1.5 }), /options\.maxFrameSize/);
  assert.throws(() => withRawPeer("server", { closeTimeout: -1 }), /options\.closeTimeout/);
  // Infinity was accepted, and close() then failed with withTimeoutOpt's RangeError.
  assert.throws(() => withRawPeer("server", { closeTimeout: Number.POSITIVE_INFINITY }), RangeError);
  assert.throws(() => withRawPeer("server", { closeTimeout: Number.NaN }), TypeError);
  assert.throws(() => withRawPeer("server", "x" as unknown as WebSocketOptions), TypeError);
  assert.throws(
    () =>
      wsPair()
        .server.sendText(1 as unknown as string)
        .next(),
    /sendText\(\): text/,
  );
  void clientEnd;
});
