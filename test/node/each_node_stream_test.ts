/**
 * `each(source, body)` over Node streams (the Node-only part of
 * `test/interop/each_test.ts`): a `Readable` is an async iterable like any
 * other, and leaving the loop early destroys it.
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { TimeoutError, each, sleep, withTimeout, type Operation } from "../../src/index.ts";
import { Log, testOnEveryDriver } from "../support.ts";

const flush = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Collects every item of `source` through `each`. */
function* collect<T>(source: Iterable<T> | AsyncIterable<T>): Operation<T[]> {
  const out: T[] = [];
  yield* each(source, function* (item) {
    out.push(item);
  });
  return out;
}

testOnEveryDriver("each over a Node stream from Readable.from", async (run) => {
  const objects = await run(() => collect(Readable.from([{ n: 1 }, { n: 2 }, { n: 3 }])));
  assert.deepEqual(objects, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  const bytes = await run(function* () {
    let text = "";
    yield* each(Readable.from([Buffer.from("hel"), Buffer.from("lo")], { objectMode: false }), function* (chunk) {
      text += (chunk as Buffer).toString("utf8");
    });
    return text;
  });
  assert.equal(bytes, "hello");
});

// Not on virtual time: its clock jumps past the timeout while the stream's
// promises are still settling; the host pump yields to the host first.
testOnEveryDriver(
  "cancelling each over a Node stream while the body waits destroys the stream",
  async (run) => {
    const stream = Readable.from(["first", "second", "third"]);
    const log = new Log();
    const outcome = await run(function* () {
      try {
        yield* withTimeout(20, () =>
          each(stream, function* (item) {
            log.add(`body ${String(item)}`);
            yield* sleep(60_000);
          }),
        );
        return "no timeout (wrong)";
      } catch (e) {
        return e;
      }
    });
    assert.ok(outcome instanceof TimeoutError);
    for (let i = 0; i < 5 && !stream.destroyed; i++) await flush();
    assert.deepEqual(log.entries, ["body first"]);
    assert.equal(stream.destroyed, true, "return() on a stream's iterator destroys it");
  },
  { except: "virtual time" },
);

// Not on virtual time: its clock jumps past the timeout while the stream's
// promises are still settling; the host pump yields to the host first.
testOnEveryDriver(
  "cancelling each over a Node stream while a read is pending destroys the stream",
  async (run) => {
    // A stream that never produces anything: the read stays pending forever.
    const stream = new Readable({ read() {} });
    const outcome = await run(function* () {
      try {
        yield* withTimeout(20, () => each(stream, function* () {}));
        return "no timeout (wrong)";
      } catch (e) {
        return e;
      }
    });
    assert.ok(outcome instanceof TimeoutError);
    for (let i = 0; i < 5 && !stream.destroyed; i++) await flush();
    assert.equal(stream.destroyed, true);
  },
  { except: "virtual time" },
);
