/**
 * HttpClient features over real peers: https through connectTls (node:https
 * with certificates made by openssl), gzip/deflate decoding, and redirects.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import https from "node:https";
import type net from "node:net";
import zlib from "node:zlib";
import { run } from "../../src/index.ts";
import { HttpClient, HttpRedirectError } from "../../src/http/client/index.ts";
import { startServer } from "./http_client_support.ts";
import { hasCommand, makeTestPki, type TestPki } from "./tls_support.ts";

const T = { timeout: 30_000 };
const HAS_OPENSSL = hasCommand("openssl");
let pki: TestPki;
before(() => {
  if (HAS_OPENSSL) pki = makeTestPki();
});
after(() => pki?.remove());

async function startHttps(handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void) {
  let connections = 0;
  const server = https.createServer({ key: pki.server.key, cert: pki.server.cert }, handler);
  server.on("secureConnection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get connections() {
      return connections;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test("https: requests are verified against options.tls.ca and share a pooled TLS connection", T, async (t) => {
  if (!HAS_OPENSSL) return t.skip("openssl not installed");
  const server = await startHttps((req, res) => res.end(`secure ${req.url}`));
  try {
    await run(function* () {
      using client = new HttpClient({ tls: { ca: pki.ca.cert } });
      for (const host of ["localhost", "127.0.0.1"]) {
        const res = yield* client.get(`https://${host}:${server.port}/x`);
        assert.equal(yield* res.text(), "secure /x");
      }
      const again = yield* client.get(`https://localhost:${server.port}/y`);
      assert.equal(yield* again.text(), "secure /y");
    });
    assert.equal(server.connections, 2); // one per origin (localhost, 127.0.0.1)
  } finally {
    await server.stop();
  }
});

test("https: a certificate from an untrusted CA fails the request", T, async (t) => {
  if (!HAS_OPENSSL) return t.skip("openssl not installed");
  const server = await startHttps((_req, res) => res.end("never"));
  try {
    await run(function* () {
      using client = new HttpClient({ tls: { ca: pki.otherCa.cert } });
      try {
        yield* client.get(`https://localhost:${server.port}/`);
        assert.fail("an untrusted certificate was accepted");
      } catch (error) {
        assert.ok((error as { code?: string }).code !== undefined, String(error));
      }
    });
  } finally {
    await server.stop();
  }
});

const TEXT = "compressible text ".repeat(1000);

test("gzip and deflate bodies are decoded when the caller did not set Accept-Encoding", T, async () => {
  let asked = "";
  const server = await startServer((req, res) => {
    asked = req.headers["accept-encoding"] ?? "";
    const coding = req.url === "/gzip" ? "gzip" : req.url === "/deflate" ? "deflate" : "";
    if (coding === "") return res.end(TEXT);
    res.setHeader("content-encoding", coding);
    // Chunked, so that the body's own end comes after the end of the compressed stream.
    const encoder = coding === "gzip" ? zlib.createGzip() : zlib.createDeflate();
    encoder.pipe(res);
    encoder.end(TEXT);
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      for (const path of ["/gzip", "/deflate", "/plain", "/gzip"]) {
        const res = yield* client.get(`${server.origin}${path}`);
        assert.equal(yield* res.text(), TEXT, path);
      }
    });
    assert.match(asked, /gzip/);
    assert.equal(server.connections, 1); // every decoded body was read to its end
  } finally {
    await server.stop();
  }
});

test("with the caller's own Accept-Encoding the body is returned as sent", T, async () => {
  const gz = zlib.gzipSync(TEXT);
  const server = await startServer((_req, res) => {
    res.setHeader("content-encoding", "gzip");
    res.end(gz);
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      const res = yield* client.get(`${server.origin}/`, { headers: { "accept-encoding": "gzip" } });
      assert.deepEqual(Buffer.from(yield* res.bytes()), gz);
    });
  } finally {
    await server.stop();
  }
});

test("redirects: returned as they are by default, followed with redirect: follow", T, async () => {
  const seen: string[] = [];
  const server = await startServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers["content-length"] ?? "-"}`);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const [, code] = /^\/r(\d+)/.exec(req.url ?? "") ?? [];
      if (code !== undefined) {
        res.statusCode = Number(code);
        res.setHeader("location", "/done");
        return res.end("redirect body");
      }
      res.end(`${req.method} ${Buffer.concat(chunks).toString()}`);
    });
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      const manual = yield* client.get(`${server.origin}/r302`);
      assert.equal(manual.status, 302);
      assert.equal(manual.headers.get("location"), "/done");
      manual.close();
      for (const code of [301, 302, 303]) {
        const res = yield* client.request({ method: "POST", url: `${server.origin}/r${code}`, body: "data", redirect: "follow" });
        assert.equal(res.status, 200);
        assert.equal(res.url.pathname, "/done");
        assert.equal(yield* res.text(), "GET ", `${code}`);
      }
      for (const code of [307, 308]) {
        const res = yield* client.request({ method: "POST", url: `${server.origin}/r${code}`, body: "data", redirect: "follow" });
        assert.equal(yield* res.text(), "POST data", `${code}`);
      }
    });
  } finally {
    await server.stop();
  }
});

test("redirects: at most 10, never from https to http, and credentials stay with their origin", T, async (t) => {
  const other = await startServer((req, res) =>
    res.end(JSON.stringify([req.headers.authorization ?? null, req.headers.cookie ?? null, req.headers["x-keep"] ?? null])),
  );
  const server = await startServer((req, res) => {
    if (req.url === "/loop") {
      res.statusCode = 302;
      res.setHeader("location", "/loop");
      return res.end();
    }
    if (req.url === "/same") return res.end(JSON.stringify([req.headers.authorization ?? null]));
    res.statusCode = 307;
    res.setHeader("location", req.url === "/away" ? `${other.origin}/` : "/same");
    res.end();
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      try {
        yield* client.get(`${server.origin}/loop`, { redirect: "follow" });
        assert.fail("the loop ended");
      } catch (error) {
        assert.ok(error instanceof HttpRedirectError, String(error));
      }
      const headers = { authorization: "Bearer secret", cookie: "a=b", "x-keep": "yes" };
      const away = yield* client.get(`${server.origin}/away`, { redirect: "follow", headers });
      assert.deepEqual(yield* away.json(), [null, null, "yes"]);
      const same = yield* client.get(`${server.origin}/here`, { redirect: "follow", headers });
      assert.deepEqual(yield* same.json(), ["Bearer secret"]);
    });
    assert.equal(server.requests >= 11, true);
  } finally {
    await server.stop();
    await other.stop();
  }
  if (!HAS_OPENSSL) return t.skip("openssl not installed: https to http not tried");
  const plain = await startServer((_req, res) => res.end("downgraded"));
  const secure = await startHttps((_req, res) => {
    res.statusCode = 301;
    res.setHeader("location", `${plain.origin}/`);
    res.end();
  });
  try {
    await run(function* () {
      using client = new HttpClient({ tls: { ca: pki.ca.cert } });
      const res = yield* client.get(`https://localhost:${secure.port}/`, { redirect: "follow" });
      assert.equal(res.status, 301); // returned, not followed
      res.close();
    });
    assert.equal(plain.requests, 0);
  } finally {
    await secure.stop();
    await plain.stop();
  }
});
