/**
 * HttpClient through a real proxy (Debian's tinyproxy, started by the test
 * with a config in a temporary folder and stopped after): an http:// target
 * in absolute form, an https:// one through CONNECT and TLS; and ProxyError
 * from a node:http server that answers CONNECT with 407.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import https from "node:https";
import net from "node:net";
import { run } from "../../src/index.ts";
import { HttpClient, ProxyError } from "../../src/http/client/index.ts";
import { startServer } from "./http_client_support.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";
import { HAS_TINYPROXY, startTinyproxy } from "./tinyproxy.ts";

const T = { timeout: 30_000 };
const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki | undefined;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

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
