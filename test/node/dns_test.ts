/**
 * resolveHost: the system resolver through dns.lookup, IP literals, the
 * family filter, and abandoning a lookup on cancellation. Only names in
 * /etc/hosts and literals are looked up (no DNS traffic).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Cancelled, run, pause, withTaskGroup, type Operation } from "../../src/index.ts";
import { resolveHost } from "../../src/node.ts";
import { settleResources, socketResources } from "./net_support.ts";

type OsError = Error & { code?: string; hostname?: string };

function* failure(body: () => Operation<unknown>): Operation<OsError> {
  try {
    yield* body();
  } catch (error) {
    return error as OsError;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

test("localhost resolves to loopback addresses with their family", async () => {
  const addresses = await run(() => resolveHost("localhost"));
  assert.ok(addresses.length > 0);
  for (const { address, family } of addresses) {
    assert.ok(address === "::1" ? family === 6 : family === 4 && address.startsWith("127."), `${address} (IPv${family})`);
  }
  const v4 = await run(() => resolveHost("localhost", { family: 4 }));
  assert.ok(v4.length > 0 && v4.every((a) => a.family === 4));
});

test("an IP literal resolves to itself; asking for the other family is ENOTFOUND", async () => {
  await run(function* () {
    assert.deepEqual(yield* resolveHost("127.0.0.1"), [{ address: "127.0.0.1", family: 4 }]);
    assert.deepEqual(yield* resolveHost("::1"), [{ address: "::1", family: 6 }]);
    const error = yield* failure(() => resolveHost("::1", { family: 4 }));
    assert.equal(error.code, "ENOTFOUND");
    assert.ok(error.message.startsWith("resolveHost(): "), error.message);
  });
});

test("resolveHost in an already-cancelled task throws Cancelled, even for a literal", async () => {
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() => resolveHost("127.0.0.1"), { allowFailure: true });
      task.cancel();
      assert.ok((yield* failure(() => task.wait())) instanceof Cancelled);
    });
  });
});

test("a cancelled lookup is abandoned at once: the task does not wait for the resolver", async (t) => {
  // Occupy every thread of libuv's pool with opens of a FIFO that has no
  // writer yet, so the lookup cannot even start until they are released.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "weft-dns-"));
  const fifo = path.join(dir, "fifo");
  try {
    execFileSync("mkfifo", [fifo]);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    t.skip("mkfifo is not available");
    return;
  }
  const threads = Number(process.env["UV_THREADPOOL_SIZE"] ?? 4);
  const opened: Promise<number>[] = [];
  for (let i = 0; i < threads; i++) opened.push(fs.promises.open(fifo, "r").then((handle) => handle.close().then(() => i)));
  try {
    let inFlight = false;
    const outcome = await run(function* () {
      return yield* withTaskGroup<unknown>(function* (group) {
        const lookup = group.spawn(() => resolveHost("localhost"), { allowFailure: true });
        yield* pause(); // the lookup task starts and waits
        yield* pause();
        inFlight = socketResources().includes("GetAddrInfoReqWrap");
        lookup.cancel();
        try {
          return yield* lookup.wait();
        } catch (error) {
          return error;
        }
      });
    });
    assert.ok(inFlight, "the lookup was in flight when it was cancelled");
    assert.ok(outcome instanceof Cancelled, `the task ended with Cancelled, not ${String(outcome)}`);
    assert.ok(socketResources().includes("GetAddrInfoReqWrap"), "the abandoned lookup is still pending");
  } finally {
    // The writer stays open until every reader's open has returned: a pool
    // thread that reaches its open only after the writer closed (a stalled
    // host) would block forever and hang the file.
    const writer = fs.openSync(fifo, "w"); // releases the blocked opens
    try {
      await Promise.all(opened);
    } finally {
      fs.closeSync(writer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const left = await settleResources([]);
  assert.ok(!left.includes("GetAddrInfoReqWrap"), "the abandoned lookup finished in the background");
});

test("bad input: TypeError or RangeError naming the function and the argument", async () => {
  await run(function* () {
    for (const [body, cls, pattern] of [
      [() => resolveHost(5 as never), TypeError, /resolveHost\(\): name must be a string/],
      [() => resolveHost(""), RangeError, /resolveHost\(\): name must not be empty/],
      [() => resolveHost("localhost", { family: 5 as never }), RangeError, /resolveHost\(\): options\.family/],
      [() => resolveHost("localhost", "x" as never), TypeError, /resolveHost\(\): options must be an object/],
    ] as const) {
      const error = yield* failure(body);
      assert.ok(error instanceof cls && pattern.test(error.message), `${String(error)} should match ${pattern}`);
    }
  });
});
