/**
 * The WebSocket examples run as real programs (`node dist/examples/<name>.js`)
 * with `ws` clients: the echo server (text, binary, a fragmented message, a
 * 20 MiB message streamed through, plain HTTP on `/`) and the chat room
 * (messages fanned out, joins and leaves, a client that stops reading
 * dropped while the others get everything).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { WebSocket as WebSocketPeer, type RawData } from "ws";
import { exampleCommand } from "./example_command.ts";
import { PeerInbox } from "./ws_support.ts";

const T = { timeout: 60_000 };

interface Program {
  child: ChildProcess;
  /** Resolves with the first printed line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  stop(): Promise<void>;
}

function start(name: string): Program {
  const child = spawn(process.execPath, exampleCommand(name, ["0"]), { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding("utf8").on("data", (data: string) => {
    out += data;
    for (const wake of waiters.splice(0)) wake();
  });
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const found = out.split("\n").find((l) => pattern.test(l));
        if (found !== undefined) resolve(found);
        else if (child.exitCode !== null) reject(new Error(`${name} exited; it printed: ${out}`));
        else waiters.push(look);
      };
      child.once("exit", look);
      look();
    });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await gone;
  };
  return { child, line, stop };
}

function asBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
}

async function open(url: string) {
  const peer = new WebSocketPeer(url, { maxPayload: 64 * 1024 * 1024 });
  const messages = new PeerInbox<{ data: Buffer; binary: boolean }>();
  const closed = new PeerInbox<number>();
  peer.on("message", (data, binary) => messages.push({ data: asBuffer(data), binary }));
  peer.on("close", (code) => closed.push(code));
  peer.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    peer.once("open", resolve);
    peer.once("unexpected-response", (_req, res) => reject(new Error(`answered ${res.statusCode}`)));
  });
  return { peer, messages, closed };
}

/**
 * A client that does the opening handshake by hand and then stops reading
 * (its socket paused): the kernel buffers between it and the server fill.
 * Not a `ws` client paused through its private socket, which Bun's built-in
 * `ws` does not have.
 */
async function openSilent(url: string): Promise<{ socket: net.Socket; ended: Promise<void> }> {
  const target = new URL(url);
  const socket = net.connect(Number(target.port), target.hostname);
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve, reject) => {
    let text = "";
    const onData = (data: Buffer): void => {
      text += data.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      resolve(text);
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed during the handshake after ${JSON.stringify(text)}`)));
  });
  assert.match(head, /^HTTP\/1\.1 101 /);
  return { socket, ended };
}

test("websocket-echo-server echoes text, binary, fragments and a 20 MiB message, and answers plain HTTP on /", T, async () => {
  const program = start("websocket-echo-server");
  try {
    const base = /on (ws:\/\/127\.0\.0\.1:\d+)\/$/.exec(await program.line(/^echo server on /))![1]!;
    const plain = await fetch(`${base.replace("ws:", "http:")}/`);
    assert.equal(plain.status, 200);
    assert.match(await plain.text(), /echo server/);
    const { peer, messages, closed } = await open(`${base}/echo`);
    peer.send("hello");
    assert.deepEqual(await messages.next(), { data: Buffer.from("hello"), binary: false });
    peer.send(Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(await messages.next(), { data: Buffer.from([0, 1, 2, 255]), binary: true });
    peer.send("frag", { fin: false });
    peer.send("ments", { fin: true });
    assert.deepEqual(await messages.next(), { data: Buffer.from("fragments"), binary: false });
    const big = randomBytes(20 * 1024 * 1024);
    peer.send(big);
    const back = await messages.next();
    assert.equal(back.binary, true);
    assert.ok(back.data.equals(big), "the 20 MiB message came back unchanged");
    peer.close(1000);
    assert.equal(await closed.next(), 1000);
  } finally {
    await program.stop();
  }
});

test("chat fans messages out, announces joins and leaves, and drops a client that stops reading", T, async () => {
  const program = start("chat");
  try {
    const base = /on (ws:\/\/127\.0\.0\.1:\d+)\/$/.exec(await program.line(/^chat on /))![1]!;
    const alice = await open(`${base}/?name=alice`);
    const bob = await open(`${base}/?name=bob`);
    assert.equal(String((await alice.messages.next()).data), "* bob joined");
    bob.peer.send("hi alice");
    assert.equal(String((await alice.messages.next()).data), "bob: hi alice");
    alice.peer.send("hi bob");
    assert.equal(String((await bob.messages.next()).data), "alice: hi bob");

    // carol stops reading: her socket's buffers fill, then her queue (64 messages), and she is dropped.
    const carol = await openSilent(`${base}/?name=carol`);
    assert.equal(String((await alice.messages.next()).data), "* carol joined");
    assert.equal(String((await bob.messages.next()).data), "* carol joined");
    const line = "x".repeat(60 * 1024);
    // 40 MiB in all, far more than the socket buffers between the server and carol can hold. alice waits
    // for bob to get each message before sending the next, so bob's own queue never fills, whatever the timing.
    const count = 700;
    let news = 0;
    for (let i = 0; i < count; i++) {
      alice.peer.send(`${i} ${line}`);
      for (;;) {
        const text = String((await bob.messages.next()).data);
        if (text === "* carol was dropped") {
          news++;
          continue;
        }
        assert.ok(text === `alice: ${i} ${line}`, `bob gets alice's message ${i}, got ${text.slice(0, 20)}`);
        break;
      }
    }
    await program.line(/^dropped carol \(too slow\)$/);
    if (news === 0) assert.equal(String((await bob.messages.next()).data), "* carol was dropped");
    else assert.equal(news, 1);
    // carol's connection was cut (no CLOSE frame could get through her full socket): reading again, she
    // gets what was buffered and then the end of the connection.
    carol.socket.on("data", () => {});
    carol.socket.resume();
    await carol.ended;

    bob.peer.close(1000);
    assert.equal(await bob.closed.next(), 1000);
    assert.equal(String((await alice.messages.next()).data), "* carol was dropped");
    assert.equal(String((await alice.messages.next()).data), "* bob left");
    alice.peer.close(1000);
    assert.equal(await alice.closed.next(), 1000);
  } finally {
    await program.stop();
  }
});
