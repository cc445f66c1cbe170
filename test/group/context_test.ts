/**
 * Task-local `Context` (docs/semantics.md, «Context»): `with` sets a value for
 * its body and restores the previous one however the body ends; children
 * inherit the spawner's values at spawn time and keep them; a child's value
 * never reaches its parent or its siblings; `get` falls back to the default,
 * or throws a WeftUsageError naming the context.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Boom, testOnEveryDriver } from "../support.ts";
import { Lazy, WeftUsageError, createContext, pause, sleep, withTaskGroup } from "../../src/index.ts";

testOnEveryDriver("with sets the value for its body and restores the previous one, nested or after a throw", async (run) => {
  const RequestId = createContext<string>("requestId");
  const seen: Array<string | undefined> = [];
  await run(function* () {
    seen.push(RequestId.find());
    yield* RequestId.with("outer", function* () {
      seen.push(RequestId.get());
      yield* RequestId.with("inner", function* () {
        yield* sleep(1);
        seen.push(RequestId.get());
      });
      seen.push(RequestId.get());
      try {
        yield* RequestId.with("failing", function* () {
          yield* pause();
          throw new Boom();
        });
      } catch {
        seen.push(RequestId.get());
      }
    });
    seen.push(RequestId.find());
  });
  assert.deepEqual(seen, [undefined, "outer", "inner", "outer", "outer", undefined]);
});

testOnEveryDriver("children inherit the spawner's values at spawn time, and keep them after the spawner's with ended", async (run) => {
  const Ctx = createContext<string>("ctx", "default");
  const seen: string[] = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        seen.push(`before ${Ctx.get()}`);
      });
      yield* Ctx.with("a", function* () {
        group.startSoon(function* () {
          yield* sleep(5); // runs after the with below has ended
          seen.push(`child ${Ctx.get()}`);
          yield* withTaskGroup<void>(function* (inner) {
            inner.startSoon(function* () {
              seen.push(`grandchild ${Ctx.get()}`);
            });
          });
        });
      });
      seen.push(`parent ${Ctx.get()}`);
    });
  });
  assert.deepEqual(seen.sort(), ["before default", "child a", "grandchild a", "parent default"]);
});

testOnEveryDriver("a value set in a child reaches neither its parent nor its siblings", async (run) => {
  const Ctx = createContext<number>("ctx", 0);
  const seen: string[] = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() =>
        Ctx.with(1, function* () {
          yield* sleep(5);
          seen.push(`child ${Ctx.get()}`);
        }),
      );
      group.startSoon(function* () {
        yield* sleep(2);
        seen.push(`sibling ${Ctx.get()}`);
      });
      yield* sleep(3);
      seen.push(`parent ${Ctx.get()}`);
    });
  });
  assert.deepEqual(seen.sort(), ["child 1", "parent 0", "sibling 0"]);
});

testOnEveryDriver("a Lazy's run inherits the values of the task whose wait started it", async (run) => {
  const Ctx = createContext<string>("ctx", "none");
  const seen = await run(function* () {
    const lazy = new Lazy(function* () {
      return Ctx.get();
    });
    return yield* Ctx.with("first waiter", () => lazy.wait());
  });
  assert.equal(seen, "first waiter");
});

testOnEveryDriver("two contexts are independent, and a default of undefined counts as a default", async (run) => {
  const A = createContext<string>("a");
  const B = createContext<string | undefined>("b", undefined);
  await run(function* () {
    yield* A.with("x", function* () {
      assert.equal(B.get(), undefined);
      yield* B.with("y", function* () {
        assert.equal(A.get(), "x");
        assert.equal(B.get(), "y");
      });
    });
  });
});

testOnEveryDriver("get with no value and no default throws a WeftUsageError naming the context", async (run) => {
  const Missing = createContext<string>("traceId");
  const error = await run(function* () {
    try {
      Missing.get();
    } catch (e) {
      return e;
    }
    return undefined;
  });
  assert.ok(error instanceof WeftUsageError);
  assert.match(error.message, /traceId/);
});

test("outside a task: get is a WeftUsageError, find gives the default; bad arguments are TypeErrors", { timeout: 10_000 }, () => {
  const Ctx = createContext("ctx", 7);
  assert.throws(() => Ctx.get(), WeftUsageError);
  assert.equal(Ctx.find(), 7);
  assert.throws(() => createContext(5 as never), TypeError);
  assert.throws(
    () => Ctx.with(1, "nope" as never).next(),
    (e: unknown) => e instanceof TypeError && /body/.test(e.message),
  );
  assert.throws(() => Ctx.with(1, function* () {}).next(), WeftUsageError);
});
