/**
 * weft/web's fetchResponse over a fake fetch (issue 14, "weft/web"), in
 * virtual time: cancelling the task aborts the request, `init.signal` aborts
 * it too, the body is a weft Reader that loses nothing to a cancelled read
 * and may be read after the task that fetched it ended, `maxSize` is
 * enforced (at once when Content-Length says so), and bad input is refused.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { WeftUsageError } from "../../src/core/errors.ts";
import { ReadLimitExceeded } from "../../src/io.ts";
import { HttpBodyTooLarge, fetchResponse, type WebResponse } from "../../src/web.ts";
import { type FakeBody, LIMIT, fakeFetch, lastCall } from "./support.ts";

const URL_ = "http://example.test/data";

/** Fetches through a fake; a sibling task answers at t=1. */
function* fetched(
  respond: { status?: number; statusText?: string; headers?: Record<string, string>; noBody?: boolean } = {},
  init?: RequestInit,
): Operation<{ res: WebResponse; body: FakeBody; init: RequestInit }> {
  const fake = fakeFetch();
  return yield* withTaskGroup(function* (group) {
    let body: FakeBody | undefined;
    group.startSoon(function* () {
      yield* sleep(1);
      body = lastCall(fake.calls).respond(respond);
    });
    const res = yield* fetchResponse(URL_, init, { fetch: fake.fetch });
    return { res, body: body!, init: lastCall(fake.calls).init };
  });
}

function* thrown(body: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

test("the response's status, statusText, ok, url and headers; the body read as a Reader", LIMIT, () =>
  runVirtual(function* () {
    const { res, body, init } = yield* fetched({ status: 201, statusText: "Created", headers: { "X-Kind": "test" } }, { method: "POST" });
    assert.equal(init.method, "POST");
    assert.ok(init.signal instanceof AbortSignal);
    assert.equal(res.status, 201);
    assert.equal(res.statusText, "Created");
    assert.equal(res.ok, true);
    assert.equal(res.url, URL_);
    assert.equal(res.headers.get("x-kind"), "test");
    body.push("line one\nline ");
    body.push(new Uint8Array(0)); // an empty chunk is skipped
    body.push("two\n");
    body.end();
    assert.equal(yield* res.body.readLine(), "line one");
    assert.equal(yield* res.body.readLine(), "line two");
    assert.equal(yield* res.body.readLine(), undefined);
    assert.equal(init.signal?.aborted, false);
    res.close();
  }),
);

test("ok is false outside 200-299", LIMIT, () =>
  runVirtual(function* () {
    const { res } = yield* fetched({ status: 404, noBody: true });
    assert.equal(res.ok, false);
    assert.equal(yield* res.text(), ""); // no body: empty
  }),
);

test("text(), json() and bytes() read the whole body and close it", LIMIT, () =>
  runVirtual(function* () {
    const a = yield* fetched();
    a.body.push('{"n":');
    a.body.push("1}");
    a.body.end();
    assert.deepEqual(yield* a.res.json(), { n: 1 });
    const again = yield* thrown(() => a.res.text());
    assert.ok(again instanceof WeftUsageError, String(again));
    const b = yield* fetched();
    b.body.push("héllo");
    b.body.end();
    assert.equal(yield* b.res.text(), "héllo");
    const c = yield* fetched();
    c.body.push(Uint8Array.of(1, 2));
    c.body.push(Uint8Array.of(3));
    c.body.end();
    assert.deepEqual(yield* c.res.bytes(), Uint8Array.of(1, 2, 3));
  }),
);

test("cancelling the task while the request is in flight aborts it with Cancelled as the reason", LIMIT, () =>
  runVirtual(function* () {
    const fake = fakeFetch();
    const result = yield* withTimeoutOpt(50, () => fetchResponse(URL_, undefined, { fetch: fake.fetch }));
    assert.equal(result, undefined);
    const signal = lastCall(fake.calls).init.signal!;
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof Cancelled, String(signal.reason));
    lastCall(fake.calls).reject(new Error("aborted")); // the platform's late rejection goes nowhere
  }),
);

test("init.signal aborts the request too: before the call, and while it is in flight", LIMIT, () =>
  runVirtual(function* () {
    const before = new AbortController();
    before.abort("stop");
    const fake = fakeFetch();
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        const call = lastCall(fake.calls);
        assert.equal(call.init.signal?.aborted, true);
        assert.equal(call.init.signal?.reason, "stop");
        call.reject(new Error("AbortError"));
      });
      const error = yield* thrown(() => fetchResponse(URL_, { signal: before.signal }, { fetch: fake.fetch }));
      assert.equal((error as Error).message, "AbortError");
    });

    const during = new AbortController();
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(5);
        during.abort("later");
        const call = lastCall(fake.calls);
        assert.equal(call.init.signal?.aborted, true);
        assert.equal(call.init.signal?.reason, "later");
        call.reject(new Error("AbortError"));
      });
      const error = yield* thrown(() => fetchResponse(URL_, { signal: during.signal }, { fetch: fake.fetch }));
      assert.equal((error as Error).message, "AbortError");
    });
  }),
);

test("init.signal keeps following until the body ends, then lets go", LIMIT, () =>
  runVirtual(function* () {
    const outer = new AbortController();
    const { res, body, init } = yield* fetched({}, { signal: outer.signal });
    body.push("x");
    body.end();
    assert.equal(yield* res.text(), "x");
    outer.abort("too late");
    assert.equal(init.signal?.aborted, false);

    const outer2 = new AbortController();
    const second = yield* fetched({}, { signal: outer2.signal });
    outer2.abort("mid-body");
    assert.equal(second.init.signal?.aborted, true); // the platform would fail the body's reads now
    second.res.close();
  }),
);

test("a cancelled body read loses nothing: the chunk that arrives later goes to the next read", LIMIT, () =>
  runVirtual(function* () {
    const { res, body } = yield* fetched();
    assert.equal(yield* withTimeoutOpt(10, () => res.body.readSome()), undefined);
    assert.equal(body.reads, 1);
    body.push("kept");
    const chunk = yield* res.body.readSome();
    assert.equal(new TextDecoder().decode(chunk), "kept");
    assert.equal(body.reads, 1); // the same platform read, not a second one
    res.close();
  }),
);

test("the body may be read after the task that fetched it ended", LIMIT, () =>
  runVirtual(function* () {
    const fake = fakeFetch();
    let body: FakeBody | undefined;
    const res = yield* withTaskGroup<WebResponse>(function* (group) {
      const task = group.spawn(() => fetchResponse(URL_, undefined, { fetch: fake.fetch }));
      yield* sleep(1);
      body = lastCall(fake.calls).respond();
      return yield* task.wait();
    });
    assert.equal(lastCall(fake.calls).init.signal?.aborted, false);
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(10);
        body!.push("later");
        body!.end();
      });
      assert.equal(yield* res.text(), "later");
    });
  }),
);

test("close() cancels the body stream; reading a closed body is a WeftUsageError", LIMIT, () =>
  runVirtual(function* () {
    const { res, body } = yield* fetched();
    {
      using _ = res;
    }
    assert.equal(body.cancelled, true);
    const error = yield* thrown(() => res.body.readSome());
    assert.ok(error instanceof WeftUsageError, String(error));
    res.close(); // idempotent
  }),
);

test("a close() while another task waits for a chunk ends that read", LIMIT, () =>
  runVirtual(function* () {
    const { res, body } = yield* fetched();
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(5);
        res.close();
      });
      assert.equal(yield* res.body.readSome(), undefined);
    });
    assert.equal(body.cancelled, true);
  }),
);

test("a body that fails raises the platform's error", LIMIT, () =>
  runVirtual(function* () {
    const { res, body } = yield* fetched();
    body.push("part");
    body.error(new TypeError("network error"));
    const error = yield* thrown(() => res.text());
    assert.ok(error instanceof TypeError && error.message === "network error", String(error));
  }),
);

test("a chunk that is not bytes is a TypeError", LIMIT, () =>
  runVirtual(function* () {
    const { res, body } = yield* fetched();
    body.pushRaw("a string chunk");
    const error = yield* thrown(() => res.body.readSome());
    assert.ok(error instanceof TypeError && /Uint8Array/.test(error.message), String(error));
    assert.equal(body.cancelled, true);
  }),
);

test("maxSize: a Content-Length over it fails at once; a streamed body over it fails when it gets there", LIMIT, () =>
  runVirtual(function* () {
    const a = yield* fetched({ headers: { "content-length": "11" } });
    const early = yield* thrown(() => a.res.bytes({ maxSize: 10 }));
    assert.ok(early instanceof HttpBodyTooLarge && early instanceof ReadLimitExceeded, String(early));
    assert.equal(early.maxSize, 10);
    assert.equal(a.body.reads, 0);
    assert.equal(a.body.cancelled, true);

    const b = yield* fetched();
    b.body.push("12345");
    b.body.push("678901");
    const late = yield* thrown(() => b.res.text({ maxSize: 10 }));
    assert.ok(late instanceof HttpBodyTooLarge, String(late));
    assert.equal(b.body.cancelled, true);

    const c = yield* fetched();
    c.body.push("1234567890");
    c.body.end();
    assert.equal(yield* c.res.text({ maxSize: 10 }), "1234567890");
  }),
);

test("bad input is a TypeError or RangeError naming the argument", LIMIT, () =>
  runVirtual(function* () {
    const fake = fakeFetch();
    const cases: Array<[() => Operation<unknown>, ErrorConstructor, RegExp]> = [
      [() => fetchResponse(5 as unknown as string, undefined, { fetch: fake.fetch }), TypeError, /url/],
      [() => fetchResponse(URL_, "GET" as unknown as RequestInit, { fetch: fake.fetch }), TypeError, /init/],
      [() => fetchResponse(URL_, undefined, 3 as unknown as object), TypeError, /options/],
      [() => fetchResponse(URL_, undefined, { fetch: "no" as unknown as undefined }), TypeError, /options\.fetch/],
      [() => fetchResponse(URL_, { signal: {} as AbortSignal }, { fetch: fake.fetch }), TypeError, /init\.signal/],
    ];
    for (const [call, type, pattern] of cases) {
      const error = yield* thrown(call);
      assert.ok(error instanceof type && pattern.test((error as Error).message), String(error));
    }
    assert.equal(fake.calls.length, 0);
    const { res } = yield* fetched();
    for (const [options, type] of [
      [{ maxSize: -1 }, RangeError],
      [{ maxSize: 1.5 }, RangeError],
      [{ maxSize: "1" }, TypeError],
      ["big", TypeError],
    ] as const) {
      const error = yield* thrown(() => res.bytes(options as never));
      assert.ok(error instanceof type && /options/.test((error as Error).message), String(error));
    }
    res.close();
  }),
);
