/**
 * The event-loop driver runs a task woken from a host callback right after
 * that callback (docs/semantics.md, «Drivers»), up to eight times between
 * two macrotask drains; later wake-ups wait for the macrotask, which runs
 * them together, and a macrotask that finds more than eight tasks ready
 * leaves none to run at once until the host is quiet again.
 *
 * The host callbacks here are `setImmediate` callbacks queued together, so
 * they run in one check phase, and Node runs what a callback scheduled with
 * `process.nextTick` before the next one: every order asserted is Node's
 * event loop order, not a race. A task woken by a socket's data runs inside
 * the 'data' listener that delivered it, on the same allowance: listeners
 * of one event run in the order they were added, so that order is no race
 * either.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { PassThrough } from "node:stream";
import { action, call, run, withTaskGroup, type Operation } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { TcpConnection } from "../../src/node.ts";
import { ReadPort } from "../../src/node/stream_port.ts";
import { resumeInMacrotask, wakeFromCallbacks } from "./event_loop_support.ts";
import { rawServer } from "./net_support.ts";

const LIMIT = { timeout: 10_000 };

test("a task woken from a host callback runs right after that callback, before the host's next one", LIMIT, async () => {
  assert.deepEqual(await wakeFromCallbacks([2]), ["c1", "t1", "c2", "t2"]);
});

test("past eight wake-ups from host callbacks, the rest wait for the macrotask and run together", LIMIT, async () => {
  const order = await wakeFromCallbacks([10]);
  const eager = Array.from({ length: 8 }, (_, i) => [`c${i + 1}`, `t${i + 1}`]).flat();
  assert.deepEqual(order, [...eager, "c9", "c10", "t9", "t10"]);
});

test("the macrotask gives the allowance back: the next turn's wake-ups run at once again", LIMIT, async () => {
  const order = await wakeFromCallbacks([10, 2]);
  assert.deepEqual(order.slice(-4), ["c11", "t11", "c12", "t12"]);
});

test("a macrotask that finds more than eight tasks ready leaves none to run at once in the next turn", LIMIT, async () => {
  // Turn 1: eight at once, then twelve batched (more than eight ready when their macrotask drains).
  // Turn 2: the host is busy, so both wake-ups are batched; their macrotask finds two ready and gives the allowance back.
  // Turn 3: at once again.
  const order = await wakeFromCallbacks([20, 2, 1]);
  const tail = order.slice(order.indexOf("c21"));
  assert.deepEqual(tail, ["c21", "c22", "t21", "t22", "c23", "t23"]);
});

test("a woken task runs after the nextTick callbacks its host callback queued, and before the next callback", LIMIT, async () => {
  // The drain is a promise reaction (src/drivers/after_callback.ts), and Node runs its whole tick queue before the
  // microtasks: the tick queued after the wake-up runs first. With process.nextTick the task ran before it.
  const order: string[] = [];
  let nextCallbackRan: Promise<void> | undefined;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      let wake: (() => void) | undefined;
      group.startSoon(function* () {
        yield* action<void>((resolve) => {
          wake = () => resolve();
        });
        order.push("task");
      });
      // The child parks, and the allowance is whole.
      yield* resumeInMacrotask();
      setImmediate(() => {
        order.push("callback");
        wake!();
        process.nextTick(() => order.push("tick"));
      });
      nextCallbackRan = new Promise((resolve) =>
        setImmediate(() => {
          order.push("next callback");
          resolve();
        }),
      );
    });
  });
  await nextCallbackRan;
  assert.deepEqual(order, ["callback", "tick", "task", "next callback"]);
});

/** A task body that reads one chunk (of the one byte written) with `read`, then records `name`. */
function readsOneByte(read: () => Operation<Uint8Array | undefined>, order: string[], name: string): () => Operation<void> {
  return function* () {
    const chunk = yield* read();
    assert.equal(chunk?.length, 1);
    order.push(name);
  };
}

/**
 * A weft connection over a socket whose later 'data' listener records
 * "listener", with one task parked reading it that records "task"; once it
 * is parked, `beforeData` runs in a macrotask drain (the allowance whole)
 * and the peer then writes one byte. Returns the order of the two.
 */
async function socketDataOrder(beforeData: () => Operation<void>): Promise<string[]> {
  const order: string[] = [];
  let peer: net.Socket | undefined;
  const server = await rawServer((socket) => {
    peer = socket;
  });
  try {
    await run(function* () {
      const socket = net.connect(server.port, "127.0.0.1");
      yield* call(
        () =>
          new Promise<void>((resolve, reject) => {
            socket.once("connect", resolve);
            socket.once("error", reject);
          }),
      );
      using conn = new TcpConnection(socket);
      socket.on("data", () => order.push("listener"));
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(readsOneByte(() => conn.readSome(), order, "task"));
        yield* resumeInMacrotask();
        yield* beforeData();
        peer!.write("x");
      });
    });
  } finally {
    server.stop();
  }
  return order;
}

test("a task woken by a socket's data runs inside the listener that delivered it, before the socket's later listeners", LIMIT, async () => {
  // Before, it ran after the callback (a promise reaction), so after every listener of the event.
  assert.deepEqual(await socketDataOrder(function* () {}), ["task", "listener"]);
});

test("a socket's data past the allowance: its task waits for the macrotask, after the socket's later listeners", LIMIT, async () => {
  const order = await socketDataOrder(function* () {
    // Eight tasks woken from eight host callbacks of one turn spend the allowance; no macrotask drain gives it back
    // before the data comes.
    yield* withTaskGroup<void>(function* (group) {
      const wakers: Array<() => void> = [];
      for (let i = 0; i < 8; i++) {
        group.startSoon(function* () {
          yield* action<void>((resolve) => {
            wakers.push(() => resolve());
          });
        });
      }
      yield* resumeInMacrotask();
      for (const wake of wakers) setImmediate(wake);
    });
  });
  assert.deepEqual(order, ["listener", "task"]);
});

test("a stream written by a task of another scheduler wakes its reader for later: no drain runs nested inside a task", LIMIT, async () => {
  // A flowing port over a stream that a task writes: the 'data' listener runs inside that task's write.
  const order: string[] = [];
  const stream = new PassThrough();
  const port = new ReadPort(stream, { flowing: true });
  const host = createHost({ now: () => 0 });
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(readsOneByte(() => port.read(), order, "reader"));
      yield* resumeInMacrotask();
      // From a host callback, outside any drain of the event loop's scheduler: a task of the host's writes.
      setImmediate(() => {
        host.spawn(function* () {
          stream.write("x");
          order.push("writer");
        });
        host.pump();
      });
    });
  });
  assert.deepEqual(order, ["writer", "reader"]);
});
