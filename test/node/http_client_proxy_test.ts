/**
 * HttpClient through a real proxy (Debian's tinyproxy, started by the test
 * with a config in a temporary folder and stopped after): an http:// target
 * in absolute form, an https:// one through CONNECT and TLS; and ProxyError
 * from a node:http server that answers CONNECT with 407.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/index.ts";
import { HttpClient, ProxyError } from "../../src/http/client/index.ts";
import { freePort, startServer } from "./http_client_support.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const T = { timeout: 30_000 };
const HAS_TINYPROXY = spawnSync("tinyproxy", ["-v"], { stdio: "ignore" }).error === undefined;
const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki | undefined;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts tinyproxy on a free port (tinyproxy cannot listen on port 0: a port is picked and the start retried on a clash). */
async function startTinyproxy(): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "weft-proxy-"));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, "tinyproxy.conf");
    writeFileSync(config, `Port ${port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\nLogLevel Critical\n`);
    const child: ChildProcess = spawn("tinyproxy", ["-d", "-c", config], { stdio: "ignore" });
    let exited = false;
    child.once("exit", () => (exited = true));
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    if (exited || !(await canConnect(port))) {
      child.kill("SIGKILL");
      continue; // the port was taken meanwhile, or the start failed: try another
    }
    return {
      port,
      stop: async () => {
        if (!exited) {
          const gone = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("tinyproxy did not start");
}

test("through tinyproxy: an http:// target is requested in absolute form", T, async (t) => {
  if (!HAS_TINYPROXY) return t.skip("tinyproxy not installed");
  const proxy = await startTinyproxy();
  const server = await startServer((req, res) => res.end(`origin saw ${req.method} ${req.url} via ${req.headers.via ?? "nothing"}`));
  try {
    await run(function* () {
      using client = new HttpClient({ proxy: `http://127.0.0.1:${proxy.port}` });
      // tinyproxy closes its client connection after each response without saying so: the POST goes
      // first, on a new connection (a POST is never retried); the GETs after it meet the closed
      // pooled connection and are retried.
      const posted = yield* client.post(`${server.origin}/p`, "body");
      assert.equal(posted.status, 200);
      yield* posted.text();
      for (const path of ["/one", "/two?q=1"]) {
        const res = yield* client.get(`${server.origin}${path}`);
        assert.equal(res.status, 200);
        assert.match(yield* res.text(), new RegExp(`^origin saw GET ${path.replace("?", "\\?")} via .*tinyproxy`));
      }
    });
  } finally {
    await server.stop();
    await proxy.stop();
  }
});

test("through tinyproxy: an https:// target goes through CONNECT and TLS", T, async (t) => {
  if (!HAS_TINYPROXY) return t.skip("tinyproxy not installed");
  if (pki === undefined) return t.skip("openssl not installed");
  const proxy = await startTinyproxy();
  const server = https.createServer({ key: pki.server.key, cert: pki.server.cert }, (req, res) =>
    res.end(`tunnelled ${req.url} ${req.headers.via ?? "no via"}`),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    await run(function* () {
      using client = new HttpClient({ proxy: `http://127.0.0.1:${proxy.port}`, tls: { ca: pki!.ca.cert } });
      for (const path of ["/a", "/b"]) {
        const res = yield* client.get(`https://localhost:${port}${path}`);
        assert.equal(yield* res.text(), `tunnelled ${path} no via`); // the proxy saw only ciphertext
      }
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await proxy.stop();
  }
});

test("a proxy answering CONNECT with 407 gives a ProxyError carrying its answer", T, async () => {
  const proxy = await startServer(() => {});
  proxy.server.on("connect", (_req, socket: net.Socket) => {
    socket.on("error", () => {}); // the client drops the connection after the answer
    socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n');
  });
  let authorization: string | undefined;
  proxy.server.prependListener("connect", (req) => {
    authorization = req.headers["proxy-authorization"];
  });
  try {
    await run(function* () {
      using client = new HttpClient({ proxy: `http://user:pa%20ss@127.0.0.1:${proxy.port}` });
      try {
        yield* client.get("https://localhost:1/");
        assert.fail("the tunnel was made");
      } catch (error) {
        assert.ok(error instanceof ProxyError, String(error));
        assert.equal(error.response.status, 407);
        assert.equal(error.response.headers.get("proxy-authenticate"), 'Basic realm="test"');
      }
    });
    assert.equal(authorization, `Basic ${Buffer.from("user:pa ss").toString("base64")}`);
  } finally {
    await proxy.stop();
  }
});
