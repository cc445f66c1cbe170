/**
 * `on` / `once` (docs/semantics.md, «Interop»): events of an EventTarget or an
 * emitter buffered for a task, in order, bounded with a policy; the listener
 * is removed when the subscribing task ends, on close, on overflow, and when a
 * `once` is cancelled. A cancelled `get` takes no event.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  EventOverflow,
  QueueClosed,
  on,
  once,
  pause,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type EventEmitterLike,
  type Operation,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { Boom, nameOf, testOnEveryDriver } from "../support.ts";

/** An EventTarget that counts its listeners, so a test can see none is left behind. */
class CountingTarget extends EventTarget {
  listeners = 0;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: unknown): void {
    this.listeners++;
    super.addEventListener(type, listener, options as boolean);
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: unknown): void {
    this.listeners--;
    super.removeEventListener(type, listener, options as boolean);
  }
  fire(type: string, detail: number): void {
    const event = new Event(type) as Event & { detail: number };
    event.detail = detail;
    this.dispatchEvent(event);
  }
}

type Detail = Event & { detail: number };

/** A minimal emitter, as any library's: listeners by name, called with all the arguments of `emit`. */
class TinyEmitter implements EventEmitterLike {
  readonly #listeners = new Map<string | symbol, Array<(...args: unknown[]) => void>>();
  on(name: string | symbol, listener: (...args: never[]) => void): this {
    const list = this.#listeners.get(name) ?? [];
    list.push(listener as (...args: unknown[]) => void);
    this.#listeners.set(name, list);
    return this;
  }
  off(name: string | symbol, listener: (...args: never[]) => void): this {
    const list = this.#listeners.get(name) ?? [];
    const index = list.indexOf(listener as (...args: unknown[]) => void);
    if (index >= 0) list.splice(index, 1);
    return this;
  }
  emit(name: string | symbol, ...args: unknown[]): void {
    for (const listener of [...(this.#listeners.get(name) ?? [])]) listener(...args);
  }
  count(name: string | symbol): number {
    return this.#listeners.get(name)?.length ?? 0;
  }
}

testOnEveryDriver(
  "on: events dispatched before and while the task waits arrive in order; the listener goes when the task ends",
  async (run) => {
    const target = new CountingTarget();
    const got = await run(function* () {
      const seen: number[] = [];
      yield* withTaskGroup<void>(function* (group) {
        const sub = yield* on<Detail>(target, "n");
        target.fire("n", 1);
        target.fire("n", 2);
        group.startSoon(function* () {
          yield* sleep(5);
          target.fire("n", 3);
          yield* pause();
          target.fire("n", 4);
        });
        for (let i = 0; i < 4; i++) seen.push((yield* sub.get()).detail);
        assert.equal(target.listeners, 1);
      });
      // A group's body is a task of its own: its subscription ended with it.
      assert.equal(target.listeners, 0);
      return seen;
    });
    assert.deepEqual(got, [1, 2, 3, 4]);
    assert.equal(target.listeners, 0);
  },
);

testOnEveryDriver("on: a subscription made by a cancelled child task loses its listener when that task ends", async (run) => {
  const target = new CountingTarget();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const child = group.spawn(function* () {
        const sub = yield* on(target, "x");
        yield* sub.get();
      });
      yield* sleep(1);
      assert.equal(target.listeners, 1);
      child.cancel();
      assert.equal(nameOf(yield* thrown(() => child.wait())), "Cancelled");
    });
  });
  assert.equal(target.listeners, 0);
});

testOnEveryDriver("on: close() removes the listener; the buffered events are still taken, then get throws QueueClosed", async (run) => {
  const target = new CountingTarget();
  await run(function* () {
    const sub = yield* on<Detail>(target, "n");
    target.fire("n", 1);
    sub.close();
    sub.close();
    assert.equal(target.listeners, 0);
    assert.equal(sub.closed, true);
    target.fire("n", 2);
    assert.equal((yield* sub.get()).detail, 1);
    assert.equal(nameOf(yield* thrown(() => sub.get())), "QueueClosed");
    assert.throws(() => sub.tryGet(), QueueClosed);
  });
});

testOnEveryDriver("on: `using` ends the subscription at the end of the block", async (run) => {
  const target = new CountingTarget();
  await run(function* () {
    {
      using sub = yield* on(target, "n");
      assert.equal(sub.size, 0);
      assert.equal(target.listeners, 1);
    }
    assert.equal(target.listeners, 0);
  });
});

testOnEveryDriver("on: a cancelled get takes no event: the next get receives it", async (run) => {
  const target = new CountingTarget();
  await run(function* () {
    const sub = yield* on<Detail>(target, "n");
    const missed = yield* withTimeoutOpt(5, () => sub.get());
    assert.equal(missed, undefined);
    target.fire("n", 7);
    assert.equal((yield* sub.get()).detail, 7);
    sub.close();
  });
});

testOnEveryDriver(
  "on: with policy fail (the default) an event that finds the buffer full closes the subscription with EventOverflow after the buffered ones",
  async (run) => {
    const target = new CountingTarget();
    await run(function* () {
      const sub = yield* on<Detail>(target, "n", { capacity: 2 });
      for (let i = 1; i <= 4; i++) target.fire("n", i);
      assert.equal(target.listeners, 0);
      assert.equal((yield* sub.get()).detail, 1);
      assert.equal((yield* sub.get()).detail, 2);
      const error = yield* thrown(() => sub.get());
      assert.ok(error instanceof EventOverflow);
      assert.match(error.message, /^on\(\): an event "n" found the buffer full \(capacity 2\)/);
    });
  },
);

testOnEveryDriver("on: discardOldest keeps the latest events, discardLatest the earliest", async (run) => {
  const target = new CountingTarget();
  await run(function* () {
    const oldest = yield* on<Detail>(target, "n", { capacity: 2, policy: "discardOldest" });
    const latest = yield* on<Detail>(target, "n", { capacity: 2, policy: "discardLatest" });
    for (let i = 1; i <= 5; i++) target.fire("n", i);
    assert.deepEqual([oldest.tryGet()?.detail, oldest.tryGet()?.detail, oldest.tryGet()], [4, 5, undefined]);
    assert.deepEqual([latest.tryGet()?.detail, latest.tryGet()?.detail, latest.tryGet()], [1, 2, undefined]);
    assert.equal(target.listeners, 2);
  });
  assert.equal(target.listeners, 0);
});

testOnEveryDriver("on: capacity 0 with a discard policy receives only while a task waits in get", async (run) => {
  const target = new CountingTarget();
  await run(function* () {
    const sub = yield* on<Detail>(target, "n", { capacity: 0, policy: "discardLatest" });
    target.fire("n", 1); // nobody waits: dropped
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        target.fire("n", 2);
      });
      assert.equal((yield* sub.get()).detail, 2);
    });
    assert.equal(sub.tryGet(), undefined);
  });
});

testOnEveryDriver("on: an emitter's value is the first argument; its error event ends the subscription with that error", async (run) => {
  const emitter = new TinyEmitter();
  await run(function* () {
    const sub = yield* on<string>(emitter, "data");
    assert.equal(emitter.count("error"), 1);
    emitter.emit("data", "a", "ignored");
    emitter.emit("error", new Boom());
    assert.equal(emitter.count("data"), 0);
    assert.equal(emitter.count("error"), 0);
    assert.equal(yield* sub.get(), "a");
    assert.equal(nameOf(yield* thrown(() => sub.get())), "Boom");
  });
});

testOnEveryDriver("once: returns the next event and removes its listener", async (run) => {
  const target = new CountingTarget();
  const emitter = new TinyEmitter();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        target.fire("go", 9);
        yield* sleep(1);
        emitter.emit("go", 10, 11);
      });
      assert.equal((yield* once<Detail>(target, "go")).detail, 9);
      assert.equal(yield* once<number>(emitter, "go"), 10);
    });
  });
  assert.equal(target.listeners, 0);
  assert.equal(emitter.count("go") + emitter.count("error"), 0);
});

testOnEveryDriver("once: a cancelled once removes its listener at once; an emitter's error is thrown", async (run) => {
  const target = new CountingTarget();
  const emitter = new TinyEmitter();
  await run(function* () {
    assert.equal(yield* withTimeoutOpt(5, () => once(target, "never")), undefined);
    assert.equal(target.listeners, 0);
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        emitter.emit("error", new Boom("emitter failed"));
      });
      assert.equal(nameOf(yield* thrown(() => once(emitter, "done"))), "Boom");
    });
    assert.equal(emitter.count("done") + emitter.count("error"), 0);
    // Waiting for "error" itself returns it rather than throwing it.
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(1);
        emitter.emit("error", new Boom("as a value"));
      });
      assert.equal(((yield* once<Error>(emitter, "error")) as Error).message, "as a value");
    });
  });
});

test("on and once check their arguments", { timeout: 10_000 }, async () => {
  await runVirtual(function* () {
    const target = new EventTarget();
    const cases: Array<[() => Operation<unknown>, RegExp, string]> = [
      [() => on(5 as unknown as EventTarget, "x"), /^on\(\): target must be an EventTarget/, "TypeError"],
      [() => on({} as unknown as EventTarget, "x"), /^on\(\): target must be an EventTarget/, "TypeError"],
      [() => on(target, 5 as unknown as string), /^on\(\): eventName must be a string, got number 5/, "TypeError"],
      [() => on(target, Symbol("s")), /^on\(\): eventName must be a string, got/, "TypeError"],
      [() => on(target, "x", { capacity: -1 }), /^on\(\): options\.capacity must be an integer >= 0 or Infinity, got -1/, "RangeError"],
      [() => on(target, "x", { capacity: 1.5 }), /^on\(\): options\.capacity/, "RangeError"],
      [() => on(target, "x", { capacity: "2" as unknown as number }), /^on\(\): options\.capacity must be a number/, "TypeError"],
      [
        () => on(target, "x", { policy: "block" as unknown as "fail" }),
        /^on\(\): options\.policy must be "fail", "discardOldest" or "discardLatest"/,
        "TypeError",
      ],
      [() => once(null as unknown as EventTarget, "x"), /^once\(\): target must be an EventTarget/, "TypeError"],
    ];
    for (const [make, message, name] of cases) {
      const error = yield* thrown(make);
      assert.equal(error.name, name);
      assert.match(error.message, message);
    }
  });
});

test("on outside a task is refused with WeftUsageError", { timeout: 10_000 }, () => {
  const op = on(new EventTarget(), "x")[Symbol.iterator]();
  assert.throws(() => op.next(), { name: "WeftUsageError" });
});

/** The error `body` throws, or fails if it returns. */
function* thrown(body: () => Operation<unknown>): Operation<Error> {
  try {
    yield* body();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
