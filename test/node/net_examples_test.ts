/**
 * The networking examples run as real programs (`node dist/examples/<name>.js`)
 * and do what they say.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

function example(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
}

test("tcp-echo-server prints its port and echoes what a client sends", async () => {
  const child = spawn(process.execPath, [example("tcp-echo-server"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (data: Buffer) => {
        out += String(data);
        if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
      });
      child.once("exit", () => reject(new Error(`the server exited early: ${out}`)));
    });
    const match = /listening on 127\.0\.0\.1:(\d+)$/.exec(firstLine);
    assert.ok(match, firstLine);
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(match[1]), "127.0.0.1", () => socket.end("hello\nworld\n"));
      let got = "";
      socket.on("data", (data) => (got += String(data)));
      socket.on("end", () => resolve(got));
      socket.on("error", reject);
    });
    assert.equal(echoed, "hello\nworld\n");
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal(await exited, "SIGTERM");
});

test("tcp-ping-pong plays its rounds and exits", async () => {
  const { stdout } = await run(process.execPath, [example("tcp-ping-pong"), "3"]);
  const lines = stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, 3), ["1: ping -> pong", "2: ping -> pong", "3: ping -> pong"]);
  assert.match(lines[3]!, /^3 round trips to port \d+$/);
});

test("udp-echo gets each datagram back and exits", async () => {
  const { stdout } = await run(process.execPath, [example("udp-echo")]);
  const lines = stdout.trim().split("\n");
  assert.match(lines[0]!, /^udp echo server on 127\.0\.0\.1:\d+$/);
  assert.deepEqual(lines.slice(1), ["sent one, got back one", "sent two, got back two", "sent three, got back three"]);
});
