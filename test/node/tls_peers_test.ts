/**
 * weft's TLS against real peers: `openssl s_client` and `curl --cacert`
 * against a weft TLS server (the tls-echo-server example, and listenTls in
 * this process), and `openssl s_server` against connectTls. Skipped when the
 * command is missing.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run, sleep, until, withTaskGroup } from "../../src/index.ts";
import { connectTls, listenTls } from "../../src/node.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const HAS_OPENSSL = hasCommand("openssl");
const HAS_CURL = hasCommand("curl", "--version");
let pki: TestPki;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

/** Runs a command with `input` on its stdin; resolves with its exit code and output. */
function runCommand(command: string, args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += String(d)));
    child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Waits for the first line of `child`'s stdout matching `pattern`. */
function firstMatch(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (data: Buffer) => {
      out += String(data);
      const found = pattern.exec(out);
      if (found) resolve(found);
    });
    child.once("exit", () => reject(new Error(`exited before printing ${pattern}: ${out}`)));
  });
}

test("the tls-echo-server example echoes what openssl s_client sends, verified against the test CA", {
  timeout: 60_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const script = fileURLToPath(new URL("../../examples/tls-echo-server.js", import.meta.url));
  const child = spawn(process.execPath, [script, pki.server.keyFile, pki.server.certFile, "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  try {
    const [, port] = await firstMatch(child, /listening on 127\.0\.0\.1:(\d+)\n/);
    // -quiet keeps s_client reading after its stdin ends; it is stopped once the echo came back.
    const client = spawn(
      "openssl",
      [
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-CAfile",
        pki.ca.certFile,
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
        "-quiet",
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    client.stderr.on("data", (d: Buffer) => (stderr += String(d)));
    try {
      client.stdin.end("hello over TLS\n");
      const [echoed] = await firstMatch(client, /hello over TLS\n/).catch((error: unknown) => {
        throw new Error(`${error}\nstderr: ${stderr}`);
      });
      assert.equal(echoed, "hello over TLS\n");
    } finally {
      client.kill();
    }
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal(await exited, "SIGTERM");
});

test("curl --cacert fetches from a weft TLS server speaking HTTP/1.1 with ALPN", {
  timeout: 60_000,
  skip: (!HAS_OPENSSL && "openssl is not installed") || (!HAS_CURL && "curl is not installed"),
}, async () => {
  const outcome = await run(function* () {
    using server = yield* listenTls({ host: "127.0.0.1", port: 0, key: pki.server.key, cert: pki.server.cert, alpn: ["http/1.1"] });
    return yield* withTaskGroup<{ code: number | null; stdout: string; stderr: string; alpn: string | undefined }>(function* (group) {
      let alpn: string | undefined;
      group.startSoon(
        () =>
          server.serve(function* (conn) {
            alpn = conn.alpnProtocol;
            while ((yield* conn.readLine()) !== "");
            const body = "hello from weft\n";
            yield* conn.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
          }),
        { daemon: true },
      );
      const result = yield* until(
        runCommand("curl", [
          "-sS",
          "--cacert",
          pki.ca.certFile,
          `https://localhost:${server.port}/`,
          "--resolve",
          `localhost:${server.port}:127.0.0.1`,
        ]),
      );
      return { ...result, alpn };
    });
  });
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stdout, "hello from weft\n");
  assert.equal(outcome.alpn, "http/1.1");
});

test("connectTls talks to openssl s_server: verified with the test CA, bytes both ways", {
  timeout: 60_000,
  skip: !HAS_OPENSSL && "openssl is not installed",
}, async () => {
  const server = spawn(
    "openssl",
    ["s_server", "-accept", "127.0.0.1:0", "-key", pki.server.keyFile, "-cert", pki.server.certFile, "-naccept", "1", "-ign_eof"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  try {
    const [, port] = await firstMatch(server, /ACCEPT\s+\S*?:(\d+)/);
    const line = await run(function* () {
      using conn = yield* connectTls({ host: "localhost", port: Number(port), ca: pki.ca.cert });
      yield* conn.write("from weft\n");
      // s_server prints what it received on its stdout and sends what its stdin gets.
      server.stdin!.write("from openssl\n");
      const reply = yield* conn.readLine();
      yield* sleep(0);
      return { reply, authorized: conn.authorized };
    });
    assert.deepEqual(line, { reply: "from openssl", authorized: true });
  } finally {
    server.kill();
  }
});
