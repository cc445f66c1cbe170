/**
 * The HTTP examples run as real programs (`node dist/examples/<name>.js`):
 * curl against node:http servers (and an HTTPS one, and a proxy), the file
 * server driven by Node's fetch and http.request, and stopped by SIGINT in
 * the middle of a download.
 */
import { test } from "./host_skips.ts";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { exampleCommand } from "./example_command.ts";
import { withTinyproxy } from "./tinyproxy.ts";
import { hasCommand, makeTestPki } from "./tls_support.ts";

interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs an example to its end (never rejects: the exit code is part of what is checked). */
function runExample(name: string, args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, exampleCommand(name, args), { encoding: "buffer", timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      if (error !== null && code === null) reject(error);
      else resolve({ code, stdout, stderr: String(stderr) });
    });
  });
}

/** A node:http server on 127.0.0.1 for the length of `body`. */
async function withServer<T>(
  handler: http.RequestListener,
  body: (port: number) => Promise<T>,
  server: http.Server | https.Server = http.createServer(),
): Promise<T> {
  server.on("request", handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    return await body((server.address() as net.AddressInfo).port);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const echoHeaders: http.RequestListener = (req, res) => {
  if (req.url === "/missing") {
    res.writeHead(404, { "content-type": "text/plain" }).end("no such page\n");
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ method: req.method, url: req.url, test: req.headers["x-test"] ?? null, more: req.headers["x-more"] ?? null }));
};

test("curl streams the body of a GET to stdout and sends the -H headers", { timeout: 30_000 }, async () => {
  await withServer(echoHeaders, async (port) => {
    const ran = await runExample("curl", ["-H", "X-Test: one two", "-H", "X-More:three", `http://127.0.0.1:${port}/a/b?c=d`]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(String(ran.stdout)), { method: "GET", url: "/a/b?c=d", test: "one two", more: "three" });
  });
});

test("curl writes a large body to the -o file, and exits 0 on an HTTP error status as curl does", { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-curl-"));
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
  try {
    await withServer(
      (req, res) => {
        if (req.url === "/big") res.end(big);
        else echoHeaders(req, res);
      },
      async (port) => {
        const ran = await runExample("curl", ["-o", join(dir, "out.bin"), `http://127.0.0.1:${port}/big`]);
        assert.equal(ran.code, 0, ran.stderr);
        assert.equal(ran.stdout.length, 0);
        assert.ok(readFileSync(join(dir, "out.bin")).equals(big));
        const missing = await runExample("curl", [`http://127.0.0.1:${port}/missing`]);
        assert.equal(missing.code, 0, missing.stderr);
        assert.equal(String(missing.stdout), "no such page\n");
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("curl exits with curl's codes: 2 bad usage, 3 malformed URL, 1 unsupported protocol, 7 refused, 77 unreadable CA file", {
  timeout: 30_000,
}, async () => {
  // A port that was just free: nothing listens on it.
  const port = await withServer(
    () => {},
    async (p) => p,
  );
  const cases: Array<[string[], number]> = [
    [[], 2],
    [["--bogus", "http://127.0.0.1/"], 2],
    [["-H"], 2],
    [["http://[bad"], 3],
    [["ftp://127.0.0.1/"], 1],
    [[`http://127.0.0.1:${port}/`], 7],
    [["--cacert", "/nonexistent/ca.pem", `https://127.0.0.1:${port}/`], 77],
  ];
  for (const [args, code] of cases) {
    const ran = await runExample("curl", args);
    assert.equal(ran.code, code, `${args.join(" ")}: ${ran.stderr}`);
    assert.match(ran.stderr, new RegExp(`^curl: \\(${code}\\) `), args.join(" "));
  }
});

test("curl -x sends the request to the proxy with the absolute URL", { timeout: 30_000 }, async () => {
  const seen: string[] = [];
  await withServer(
    (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end("via proxy\n");
    },
    async (proxyPort) => {
      const ran = await runExample("curl", ["-x", `http://127.0.0.1:${proxyPort}`, "http://127.0.0.1:9/page"]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(String(ran.stdout), "via proxy\n");
      assert.deepEqual(seen, ["GET http://127.0.0.1:9/page"]);
    },
  );
});

test("curl --cacert trusts the given CA for https and exits 60 without it", {
  timeout: 60_000,
  skip: !hasCommand("openssl") && "openssl is not installed",
}, async () => {
  const pki = makeTestPki();
  try {
    const server = https.createServer({ key: pki.server.key, cert: pki.server.cert });
    await withServer(
      (_req, res) => res.end("secure hello\n"),
      async (port) => {
        const ok = await runExample("curl", ["--cacert", pki.ca.certFile, `https://localhost:${port}/`]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(String(ok.stdout), "secure hello\n");
        const untrusted = await runExample("curl", [`https://localhost:${port}/`]);
        assert.equal(untrusted.code, 60, untrusted.stderr);
      },
      server,
    );
  } finally {
    pki.remove();
  }
});

// --- http-file-server ---------------------------------------------------------

interface FileServer {
  child: ChildProcess;
  base: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves with the next line the server prints that matches */
  line(pattern: RegExp): Promise<string>;
}

async function startFileServer(root: string): Promise<FileServer> {
  const child = spawn(process.execPath, exampleCommand("http-file-server", [root, "0"]), { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let out = "";
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding("utf8").on("data", (data: string) => {
    out += data;
    for (const wake of waiters.splice(0)) wake();
  });
  const line = (pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        const found = out.split("\n").find((l) => pattern.test(l));
        if (found !== undefined) resolve(found);
        else if (child.exitCode !== null) reject(new Error(`the file server exited; it printed: ${out}`));
        else waiters.push(look);
      };
      child.once("exit", look);
      look();
    });
  const first = await line(/^serving /);
  const match = /on (http:\/\/127\.0\.0\.1:\d+)\/$/.exec(first);
  assert.ok(match, first);
  return { child, base: match[1]!, exited, line };
}

/** A raw request, so the target goes out exactly as written. */
function rawGet(
  base: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = http.request({ host: url.hostname, port: url.port, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function makeSite(): { dir: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), "weft-files-"));
  const root = join(dir, "site");
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(root, "hello.txt"), "hello, files\n".repeat(100));
  writeFileSync(join(root, "<b>&'x\".txt"), "odd name\n");
  writeFileSync(join(root, "sub", "data.bin"), Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff)));
  writeFileSync(join(dir, "secret.txt"), "outside the root\n");
  symlinkSync(join(dir, "secret.txt"), join(root, "escape.txt"));
  symlinkSync(dir, join(root, "escape-dir"));
  return { dir, root };
}

test("http-file-server lists folders with escaped names, serves files, HEAD, ranges and gzip", { timeout: 30_000 }, async () => {
  const { dir, root } = makeSite();
  const server = await startFileServer(root);
  try {
    const listing = await fetch(`${server.base}/`);
    assert.equal(listing.status, 200);
    assert.match(listing.headers.get("content-type")!, /^text\/html/);
    const html = await listing.text();
    assert.ok(html.includes("&#60;b&#62;&#38;&#39;x&#34;.txt"), html);
    assert.ok(!html.includes("<b>"), html);
    assert.ok(html.includes(`href="sub/"`), html);
    assert.ok(html.includes(`href="hello.txt"`), html);

    const redirect = await rawGet(server.base, "/sub");
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, "/sub/");

    const whole = await rawGet(server.base, "/hello.txt");
    assert.equal(whole.status, 200);
    assert.equal(String(whole.body), "hello, files\n".repeat(100));
    assert.equal(whole.headers["content-length"], String(1300));
    assert.equal(whole.headers["accept-ranges"], "bytes");

    const head = await rawGet(server.base, "/sub/data.bin", {}).then(
      () =>
        new Promise<http.IncomingMessage>((resolve, reject) => {
          const url = new URL(server.base);
          const req = http.request({ host: url.hostname, port: url.port, path: "/sub/data.bin", method: "HEAD", agent: false }, resolve);
          req.on("error", reject);
          req.end();
        }),
    );
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers["content-length"], "1000");
    head.resume();

    const range = await rawGet(server.base, "/sub/data.bin", { range: "bytes=10-19" });
    assert.equal(range.status, 206);
    assert.equal(range.headers["content-range"], "bytes 10-19/1000");
    assert.deepEqual([...range.body], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const suffix = await rawGet(server.base, "/sub/data.bin", { range: "bytes=-3" });
    assert.equal(suffix.status, 206);
    assert.deepEqual([...suffix.body], [997 & 0xff, 998 & 0xff, 999 & 0xff]);
    const past = await rawGet(server.base, "/sub/data.bin", { range: "bytes=1000-" });
    assert.equal(past.status, 416);
    assert.equal(past.headers["content-range"], "bytes */1000");

    const gz = await rawGet(server.base, "/hello.txt", { "accept-encoding": "gzip, deflate" });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(String(gunzipSync(gz.body)), "hello, files\n".repeat(100));
    assert.ok(gz.body.length < 1300);
    const binary = await rawGet(server.base, "/sub/data.bin", { "accept-encoding": "gzip" });
    assert.equal(binary.headers["content-encoding"], undefined);
  } finally {
    server.child.kill("SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("http-file-server refuses .. and symbolic links that lead out of its folder", { timeout: 30_000 }, async () => {
  const { dir, root } = makeSite();
  const server = await startFileServer(root);
  try {
    for (const target of [
      "/../secret.txt",
      "/sub/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/escape.txt",
      "/escape-dir/secret.txt",
    ]) {
      const res = await rawGet(server.base, target);
      assert.ok(res.status === 403 || res.status === 404, `${target}: ${res.status}`);
      assert.ok(!String(res.body).includes("outside the root"), target);
    }
    assert.equal((await rawGet(server.base, "/nothing-here")).status, 404);
    const post = await fetch(`${server.base}/hello.txt`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.arrayBuffer();
  } finally {
    server.child.kill("SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("http-file-server on SIGINT finishes the download in progress, then exits 0", { timeout: 30_000 }, async () => {
  const { dir, root } = makeSite();
  const big = Buffer.alloc(16 * 1024 * 1024, 0x61);
  writeFileSync(join(root, "big.bin"), big);
  const server = await startFileServer(root);
  try {
    const url = new URL(server.base);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: "/big.bin", agent: false }, resolve);
      req.on("error", reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    // Read one chunk, then stop reading: the server's writes back up, so the download is surely in progress.
    let received = 0;
    const first = await new Promise<Buffer>((resolve) => res.once("data", resolve));
    received += first.length;
    res.pause();
    server.child.kill("SIGINT");
    await server.line(/^shutting down$/);
    res.on("data", (chunk: Buffer) => (received += chunk.length));
    res.resume();
    await once(res, "end");
    assert.equal(received, big.length);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  } finally {
    server.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("curl -x goes through tinyproxy: plain http forwarded, https tunnelled with CONNECT", {
  timeout: 60_000,
  skip: (!hasCommand("tinyproxy", "-v") && "tinyproxy is not installed") || (!hasCommand("openssl") && "openssl is not installed"),
}, async () => {
  const pki = makeTestPki();
  try {
    await withTinyproxy(async (proxyPort) => {
      await withServer(echoHeaders, async (port) => {
        const ran = await runExample("curl", ["-x", `127.0.0.1:${proxyPort}`, "-H", "X-Test: proxied", `http://127.0.0.1:${port}/p`]);
        assert.equal(ran.code, 0, ran.stderr);
        assert.deepEqual(JSON.parse(String(ran.stdout)), { method: "GET", url: "/p", test: "proxied", more: null });
      });
      const secure = https.createServer({ key: pki.server.key, cert: pki.server.cert });
      await withServer(
        (req, res) => res.end(`tunnelled ${req.url}\n`),
        async (port) => {
          const ran = await runExample("curl", [
            "-x",
            `http://127.0.0.1:${proxyPort}`,
            "--cacert",
            pki.ca.certFile,
            `https://localhost:${port}/s`,
          ]);
          assert.equal(ran.code, 0, ran.stderr);
          assert.equal(String(ran.stdout), "tunnelled /s\n");
        },
        secure,
      );
    });
  } finally {
    pki.remove();
  }
});
