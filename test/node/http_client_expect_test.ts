/**
 * HttpClient's `expectContinue`: the head goes out with `Expect:
 * 100-continue` and the body waits for `100 Continue` (weft's own server,
 * node:http, a raw peer that also sends 103 first), is never sent when the
 * server answers with a final status instead (node:http refusing with 413
 * in `checkContinue`; that connection is closed, not pooled), goes once more
 * without `Expect` after a 417 (RFC 9110 §10.1.1), and is
 * sent anyway when no answer comes within the wait (virtual time: exactly
 * 1 000 ms by default). A request cancelled during the wait closes its
 * socket. Orderings that could depend on the host's speed are never
 * asserted: a wait that was not honoured shows up as a body the peer saw, or
 * as a 60 s wait that the 30 s test limit cuts.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import type net from "node:net";
import { now, run, TimeoutError, withTaskGroup, withTimeout } from "../../src/index.ts";
import { MemoryReader } from "../../src/io.ts";
import { runVirtual } from "../../src/testing.ts";
import { HttpClient } from "../../src/http/client/index.ts";
import { listenHttp } from "../../src/http/server/server.ts";
import { startRawServer, startServer, until, type RawServer } from "./http_client_support.ts";

const T = { timeout: 30_000 };
/** Longer than the test's limit: a client that ignored the server's answer would not finish in time. */
const LONG_WAIT = 60_000;
const BODY = "the-request-body-END";
/** A request head asking for 100 Continue. */
const EXPECTS_CONTINUE = /\r\nexpect: 100-continue\r\n/i;
/** The raw peer's answers: the request went through, and the expectation was refused. */
const DONE = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone";
const EXPECTATION_FAILED = "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 2\r\n\r\nno";

test("against weft's server: 100 Continue comes when the handler reads, then the body goes out (bytes and a Reader)", T, async () => {
  const expects: (string | undefined)[] = [];
  await run(function* () {
    using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
    yield* withTaskGroup(function* (group) {
      group.startSoon(
        () =>
          server.serve(function* (req, res) {
            expects.push(req.headers.get("expect"));
            yield* res.end(`got ${yield* req.text()}`);
          }),
        { daemon: true },
      );
      using client = new HttpClient();
      const url = `http://127.0.0.1:${server.port}/up`;
      using a = yield* client.request({ method: "POST", url, body: BODY, expectContinue: LONG_WAIT });
      assert.equal(yield* a.text(), `got ${BODY}`);
      using b = yield* client.request({ method: "PUT", url, body: new MemoryReader(BODY), expectContinue: LONG_WAIT });
      assert.equal(yield* b.text(), `got ${BODY}`);
      using c = yield* client.request({ method: "POST", url, body: "plain" }); // without the option: no Expect
      assert.equal(yield* c.text(), "got plain");
    });
  });
  assert.deepEqual(expects, ["100-continue", "100-continue", undefined]);
});

test("against node:http (which answers 100 by itself): the body is sent after 100 and the connection is reused", T, async () => {
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => res.end(`${req.headers.expect} ${Buffer.concat(chunks).toString()}`));
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      for (let i = 0; i < 2; i++) {
        using res = yield* client.post(`${server.origin}/`, BODY, { expectContinue: LONG_WAIT });
        assert.equal(yield* res.text(), `100-continue ${BODY}`);
      }
      using get = yield* client.get(`${server.origin}/`, { expectContinue: true }); // no body: no Expect
      assert.equal(yield* get.text(), "undefined ");
    });
    assert.equal(server.connections, 1);
  } finally {
    await server.stop();
  }
});

for (const status of [413]) {
  test(
    `node:http refusing with ${status} before the body: the body is never sent and the connection is closed, not pooled`,
    T,
    async () => {
      const server = await startServer((_req, res) => res.end("the handler ran"));
      let seen = "";
      server.server.on("connection", (socket: net.Socket) => socket.on("data", (chunk: Buffer) => (seen += chunk.toString("latin1"))));
      server.server.on("checkContinue", (_req, res) => res.writeHead(status, { "content-type": "text/plain" }).end("refused"));
      try {
        await run(function* () {
          using client = new HttpClient();
          const big = new Uint8Array(4 * 1024 * 1024).fill(66); // "B"
          using res = yield* client.request({ method: "PUT", url: `${server.origin}/upload`, body: big, expectContinue: LONG_WAIT });
          assert.equal(res.status, status);
          assert.equal(yield* res.text(), "refused");
          using next = yield* client.get(`${server.origin}/next`);
          assert.equal(yield* next.text(), "the handler ran");
        });
        await until(() => server.open === 0);
        assert.equal(server.connections, 2); // the refused request's connection was not reused
        assert.equal(server.requests, 1); // only /next reached the request handler
        assert.match(seen, /^PUT \/upload HTTP\/1\.1\r\n/);
        assert.match(seen, EXPECTS_CONTINUE);
        assert.equal(seen.includes("BBBB"), false, "body bytes reached the server");
      } finally {
        await server.stop();
      }
    },
  );
}

test(
  "node:http refusing the expectation with 417: the request goes once more without Expect, body included (bytes and an unread Reader)",
  T,
  async () => {
    const server = await startServer((req, res) => {
      let length = 0;
      req.on("data", (chunk: Buffer) => (length += chunk.length));
      req.on("end", () => res.end(`expect=${req.headers.expect} length=${length}`));
    });
    let refused = 0;
    server.server.on("checkContinue", (_req, res) => {
      refused++;
      res.writeHead(417, { "content-type": "text/plain" }).end("refused");
    });
    try {
      await run(function* () {
        using client = new HttpClient();
        const big = new Uint8Array(4 * 1024 * 1024).fill(66);
        using a = yield* client.request({ method: "PUT", url: `${server.origin}/upload`, body: big, expectContinue: LONG_WAIT });
        assert.equal(a.status, 200);
        assert.equal(yield* a.text(), `expect=undefined length=${big.length}`);
        using b = yield* client.request({
          method: "PUT",
          url: `${server.origin}/upload`,
          body: new MemoryReader(BODY),
          expectContinue: LONG_WAIT,
        });
        assert.equal(b.status, 200);
        assert.equal(yield* b.text(), `expect=undefined length=${BODY.length}`);
      });
      assert.equal(refused, 2);
      assert.equal(server.requests, 2); // the handler saw only the requests without Expect
    } finally {
      await server.stop();
    }
  },
);

test("node:http answering 417 to the request without Expect too: that answer is returned (one repeat only)", T, async () => {
  const server = await startServer((_req, res) => res.writeHead(417).end("still no"));
  server.server.on("checkContinue", (_req, res) => res.writeHead(417).end("no"));
  try {
    await run(function* () {
      using client = new HttpClient();
      using res = yield* client.post(`${server.origin}/`, BODY, { expectContinue: LONG_WAIT });
      assert.equal(res.status, 417);
      assert.equal(yield* res.text(), "still no");
    });
    assert.equal(server.requests, 1);
  } finally {
    await server.stop();
  }
});

/**
 * A raw peer: answers a request head with `interim` (raw bytes, may be ""),
 * and once the body ended (it ends with `END`, or `END` and a last chunk)
 * with `final` (by default `200 OK`); records everything it received per
 * connection.
 */
async function startPeer(
  interim: (head: string) => string,
  final: (head: string) => string = () => DONE,
): Promise<RawServer & { seen: string[] }> {
  const seen: string[] = [];
  const raw = await startRawServer((socket) => {
    const index = seen.push("") - 1;
    let from = 0; // where the current request starts in seen[index]
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      seen[index] += chunk.toString("latin1");
      const text = seen[index]!.slice(from);
      const headEnd = text.indexOf("\r\n\r\n");
      if (headEnd === -1) return;
      if (!answered) {
        answered = true;
        const reply = interim(text.slice(0, headEnd + 4));
        if (reply !== "") socket.write(reply);
      }
      if (text.endsWith("END") || text.endsWith("END\r\n0\r\n\r\n")) {
        from = seen[index]!.length;
        answered = false;
        socket.write(final(text.slice(0, headEnd + 4)));
      }
    });
  });
  return Object.assign(raw, { seen });
}

test("the body waits for 100 Continue: 103 Early Hints before it is skipped, and nothing of the body precedes the 100", T, async () => {
  let bodyBeforeContinue: boolean | undefined;
  const peer = await startPeer((head) => {
    bodyBeforeContinue = peer.seen[0]!.length > head.length;
    return "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n";
  });
  try {
    await run(function* () {
      using client = new HttpClient();
      using res = yield* client.post(`http://127.0.0.1:${peer.port}/`, BODY, { expectContinue: LONG_WAIT });
      assert.equal(res.status, 200);
      assert.equal(yield* res.text(), "done");
    });
    assert.equal(bodyBeforeContinue, false);
    assert.ok(peer.seen[0]!.endsWith(`\r\n\r\n${BODY}`));
  } finally {
    peer.stop();
  }
});

test(
  "103 then a final 417: the 103 is skipped, the body is not sent on that connection, which is closed; the repeat without Expect carries it",
  T,
  async () => {
    const peer = await startPeer((head) =>
      EXPECTS_CONTINUE.test(head) ? `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${EXPECTATION_FAILED}` : "",
    );
    try {
      await run(function* () {
        using client = new HttpClient();
        using res = yield* client.post(`http://127.0.0.1:${peer.port}/`, BODY, { expectContinue: LONG_WAIT });
        assert.equal(res.status, 200);
        assert.equal(yield* res.text(), "done");
        // The repeat's connection is pooled: the next request goes on it.
        using next = yield* client.post(`http://127.0.0.1:${peer.port}/`, BODY);
        assert.equal(yield* next.text(), "done");
      });
      // The 417 kept the first connection alive as far as HTTP goes, but the client closed it.
      assert.equal(peer.connections, 2);
      await until(() => peer.closed === 1);
      assert.equal(peer.seen[0]!.includes("the-request-body"), false);
      assert.doesNotMatch(peer.seen[1]!, /\r\nexpect:/i);
      assert.equal(peer.seen[1]!.split(BODY).length - 1, 2);
    } finally {
      peer.stop();
    }
  },
);

test(
  "a 417 after a Reader body went out (the wait ran out) is returned: the body cannot be read twice; bytes are sent again",
  T,
  async () => {
    const peer = await startPeer(
      () => "",
      (head) => (EXPECTS_CONTINUE.test(head) ? EXPECTATION_FAILED : DONE),
    );
    try {
      await run(function* () {
        using client = new HttpClient();
        const url = `http://127.0.0.1:${peer.port}/`;
        // The peer answers only once the body has arrived, so the 10 ms wait has always run out by then.
        using reader = yield* client.request({ method: "PUT", url, body: new MemoryReader(BODY), expectContinue: 10 });
        assert.equal(reader.status, 417);
        assert.equal(yield* reader.text(), "no");
        using bytes = yield* client.request({ method: "PUT", url, body: BODY, expectContinue: 10 });
        assert.equal(bytes.status, 200);
        assert.equal(yield* bytes.text(), "done");
      });
    } finally {
      peer.stop();
    }
  },
);

test("a server that never answers 100: the body goes out after 1000 ms by default, or expectContinue ms (virtual time)", T, async () => {
  const peer = await startPeer(() => "");
  try {
    const times = await runVirtual(function* () {
      using client = new HttpClient();
      const url = `http://127.0.0.1:${peer.port}/`;
      using a = yield* client.post(url, BODY, { expectContinue: true });
      assert.equal(yield* a.text(), "done");
      const first = now();
      using b = yield* client.post(url, new MemoryReader(BODY), { expectContinue: 2_500 });
      assert.equal(yield* b.text(), "done");
      return [first, now()];
    });
    assert.deepEqual(times, [1_000, 3_500]);
    assert.equal(peer.connections, 1); // after a 100 that never came, the connection is still reusable
    assert.ok(peer.seen[0]!.includes(`\r\n\r\n${BODY}`));
  } finally {
    peer.stop();
  }
});

test("a request cancelled while it waits for 100 closes its socket; the next request opens a new one", T, async () => {
  const peer = await startPeer(() => "");
  try {
    const at = await runVirtual(function* () {
      using client = new HttpClient();
      const url = `http://127.0.0.1:${peer.port}/`;
      try {
        yield* withTimeout(50, () => client.post(url, BODY, { expectContinue: 10_000 }));
        assert.fail("no timeout");
      } catch (error) {
        assert.ok(error instanceof TimeoutError, String(error));
      }
      const cancelledAt = now();
      using res = yield* client.post(url, BODY);
      assert.equal(yield* res.text(), "done");
      return cancelledAt;
    });
    assert.equal(at, 50);
    assert.equal(peer.connections, 2);
    await until(() => peer.closed === 2);
    assert.equal(peer.seen[0]!.includes("the-request-body"), false);
    assert.match(peer.seen[0]!, EXPECTS_CONTINUE);
  } finally {
    peer.stop();
  }
});
