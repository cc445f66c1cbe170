/**
 * Headless Chromium's own `WebSocket` as a real client of a weft server
 * (issue 14, "Conformance and real peers"): page code with the browser's
 * WebSocket, no weft in the page, against `acceptWebSocket` in this
 * process. Text and binary both ways (lengths in all three header forms), a
 * message the server sends in fragments, a ping the browser answers, the
 * subprotocol, permessage-deflate (which Chromium offers) declined, and close
 * codes and reasons both ways, checked on both ends.
 *
 * Chromium is Debian's (hosts/launch.ts, as the hosts launch it); without it
 * the tests are skipped.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { run, withTaskGroup, type Operation } from "../../src/index.ts";
import { listenHttp, type HttpRequest, type HttpResponse } from "../../src/http.ts";
import { acceptWebSocket, ConnectionClosed } from "../../src/ws.ts";
import { chromiumLaunchOptions, chromiumPath } from "../../hosts/launch.ts";

const LIMIT = { timeout: 60_000 };
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (set WEFT_CHROMIUM)`;

/** What the server saw on each connection, by the `id` query parameter. */
const seen = new Map<string, { closed?: { code: number; reason: string }; pinged?: boolean; closeReturned?: boolean }>();
const recordFor = (req: HttpRequest): NonNullable<ReturnType<typeof seen.get>> => {
  const id = req.url.searchParams.get("id") ?? "";
  let record = seen.get(id);
  if (record === undefined) seen.set(id, (record = {}));
  return record;
};

function* echo(req: HttpRequest, res: HttpResponse): Operation<void> {
  const record = recordFor(req);
  using ws = yield* acceptWebSocket(req, res, { protocols: ["chat.v2"] });
  yield* withTaskGroup(function* (group) {
    if (req.url.searchParams.get("fragments") === "1") {
      const writer = yield* ws.startMessage("text");
      yield* writer.write("frag");
      yield* writer.write("mented ");
      yield* writer.write("✓");
      yield* writer.end();
      // The PONG comes back through the receiving task below (the browser answers by itself).
      group.startSoon(function* () {
        yield* ws.ping();
        record.pinged = true;
      });
    }
    try {
      for (;;) {
        const message = yield* ws.recv();
        const data = (yield* message.reader.readAll()).bytes();
        if (message.kind === "text") {
          const text = new TextDecoder().decode(data);
          const close = /^close:(\d+):(.*)$/s.exec(text);
          if (close !== null) {
            yield* ws.close(Number(close[1]), close[2]);
            record.closeReturned = true;
            return;
          }
          yield* ws.sendText(text);
        } else {
          yield* ws.sendBinary(data);
        }
      }
    } catch (error) {
      if (!(error instanceof ConnectionClosed)) throw error;
      record.closed = { code: error.code, reason: error.reason };
    }
  });
}

function* handle(req: HttpRequest, res: HttpResponse): Operation<void> {
  if (req.url.pathname === "/ws") return yield* echo(req, res);
  return yield* res.send(200, "<!doctype html><title>weft ws</title>", { "content-type": "text/html" });
}

let base = "";
let stopServer: AbortController | undefined;
let serverRun: Promise<void> | undefined;
let browser: Browser | undefined;
let page: Page | undefined;

before(async () => {
  if (skip !== false) return;
  stopServer = new AbortController();
  let announce: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (announce = resolve));
  serverRun = run(
    function* () {
      using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
      announce(`127.0.0.1:${server.port}`);
      yield* server.serve(handle);
    },
    { signal: stopServer.signal },
  ).catch(() => {});
  base = await ready;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch(chromiumLaunchOptions());
  page = await browser.newPage();
  await page.goto(`http://${base}/`); // the page's origin is the server's
}, LIMIT);

after(async () => {
  await browser?.close().catch(() => {});
  stopServer?.abort();
  await serverRun;
}, LIMIT);

/** What the page code reports about one connection. */
interface PageReport {
  protocol: string;
  extensions: string;
  received: Array<{ kind: "text"; text: string } | { kind: "binary"; length: number; sameBytes: boolean }>;
  close: { code: number; reason: string; wasClean: boolean };
}

/**
 * Runs in the page: opens a WebSocket to `url`, sends `sends` (strings as
 * text; `{ binary: n }` as n pattern bytes), waits for `expect` messages,
 * then closes with `closeWith` (or sends it as text, for the server to
 * close), and reports. Only the browser's own API is used.
 */
function inPage(args: {
  url: string;
  sends: Array<string | { binary: number }>;
  expect: number;
  closeWith?: { code: number; reason: string };
  serverCloses?: string;
}): Promise<PageReport> {
  const pattern = (n: number): Uint8Array<ArrayBuffer> => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (i * 13 + 5) & 0xff;
    return out;
  };
  return new Promise<PageReport>((resolve, reject) => {
    const ws = new WebSocket(args.url, ["chat.v1", "chat.v2"]);
    ws.binaryType = "arraybuffer";
    const received: PageReport["received"] = [];
    const done = (): void => {
      if (args.closeWith !== undefined) ws.close(args.closeWith.code, args.closeWith.reason);
      else if (args.serverCloses !== undefined) ws.send(args.serverCloses);
    };
    ws.onopen = () => {
      for (const s of args.sends) ws.send(typeof s === "string" ? s : pattern(s.binary));
      if (args.expect === 0) done();
    };
    ws.onmessage = (event: MessageEvent) => {
      if (typeof event.data === "string") received.push({ kind: "text", text: event.data });
      else {
        const bytes = new Uint8Array(event.data as ArrayBuffer);
        const want = pattern(bytes.length);
        received.push({ kind: "binary", length: bytes.length, sameBytes: bytes.every((b, i) => b === want[i]) });
      }
      if (received.length === args.expect) done();
    };
    ws.onerror = () => {};
    ws.onclose = (event: CloseEvent) => {
      resolve({
        protocol: ws.protocol,
        extensions: ws.extensions,
        received,
        close: { code: event.code, reason: event.reason, wasClean: event.wasClean },
      });
    };
    setTimeout(() => reject(new Error(`no close after 30 s; received ${JSON.stringify(received)}`)), 30_000);
  });
}

test("Chromium's WebSocket: text and binary echo (7-bit, 16-bit and 64-bit lengths), subprotocol, no extension", {
  ...LIMIT,
  skip,
}, async () => {
  const report = await page!.evaluate(inPage, {
    url: `ws://${base}/ws?id=echo`,
    sends: ["hello ✓", "", { binary: 100 }, { binary: 300 }, { binary: 70_000 }, "x".repeat(126)],
    expect: 6,
    closeWith: { code: 1000, reason: "" },
  });
  assert.equal(report.protocol, "chat.v2");
  assert.equal(report.extensions, ""); // permessage-deflate offered by Chromium, declined
  assert.deepEqual(report.received, [
    { kind: "text", text: "hello ✓" },
    { kind: "text", text: "" },
    { kind: "binary", length: 100, sameBytes: true },
    { kind: "binary", length: 300, sameBytes: true },
    { kind: "binary", length: 70_000, sameBytes: true },
    { kind: "text", text: "x".repeat(126) },
  ]);
  assert.deepEqual(report.close, { code: 1000, reason: "", wasClean: true });
  assert.deepEqual(seen.get("echo")?.closed, { code: 1000, reason: "" });
});

test("Chromium's WebSocket: a message the server sends in fragments arrives whole; the server's ping is answered", {
  ...LIMIT,
  skip,
}, async () => {
  const report = await page!.evaluate(inPage, {
    url: `ws://${base}/ws?id=fragments&fragments=1`,
    sends: ["after the ping"],
    expect: 2,
    closeWith: { code: 1000, reason: "" },
  });
  assert.deepEqual(report.received, [
    { kind: "text", text: "fragmented ✓" },
    { kind: "text", text: "after the ping" },
  ]);
  assert.equal(seen.get("fragments")?.pinged, true);
});

test("Chromium's WebSocket closes with a code and reason: the weft server sees them", { ...LIMIT, skip }, async () => {
  const report = await page!.evaluate(inPage, {
    url: `ws://${base}/ws?id=client-close`,
    sends: ["one"],
    expect: 1,
    closeWith: { code: 4001, reason: "client done ✓" },
  });
  assert.equal(report.close.code, 4001); // weft echoes the code
  assert.equal(report.close.wasClean, true);
  assert.deepEqual(seen.get("client-close")?.closed, { code: 4001, reason: "client done ✓" });
});

test("the weft server closes with a code and reason: Chromium's close event has them, cleanly", { ...LIMIT, skip }, async () => {
  const report = await page!.evaluate(inPage, {
    url: `ws://${base}/ws?id=server-close`,
    sends: [],
    expect: 0,
    serverCloses: "close:4002:server done ✓",
  });
  assert.deepEqual(report.close, { code: 4002, reason: "server done ✓", wasClean: true });
  assert.equal(seen.get("server-close")?.closeReturned, true); // the close handshake completed on the weft side
});
