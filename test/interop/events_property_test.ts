/**
 * Property test of `on` (docs/semantics.md, «Interop»): a producer dispatches
 * events with random pauses and sleeps, a consumer takes them with random
 * waits, some of its gets cut short by a timeout (cancelled gets), and the
 * subscription is made on an EventTarget or on an emitter, unbounded or with a
 * small capacity under the "fail" policy. Whatever happens:
 *
 *  (a) the consumer receives the events in dispatch order, none twice and none
 *      lost: all of them when the buffer is unbounded, a prefix of them
 *      followed by `EventOverflow` when a bounded one overflowed;
 *  (b) a cancelled get takes no event (it shows as a gap in (a) otherwise);
 *  (c) once the subscribing task has ended, no listener is left on the target.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EventOverflow, on, pause, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

/** The override, where the host has an environment (browsers have none). */
const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];

function runs(defaultRuns: number): number {
  if (override === undefined || override === "") return defaultRuns;
  const n = Number(override);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`WEFT_PROPERTY_RUNS must be an integer >= 1, got ${JSON.stringify(override)}`);
  return n;
}

const soak = override !== undefined && override !== "";

/** A target of either kind that counts the listeners it holds. */
interface Source {
  readonly target: EventTarget | { on(name: string, l: (v: number) => void): unknown; off(name: string, l: (v: number) => void): unknown };
  fire(value: number): void;
  listeners(): number;
}

function eventTargetSource(): Source {
  const target = new EventTarget();
  let count = 0;
  const add = target.addEventListener.bind(target);
  const remove = target.removeEventListener.bind(target);
  target.addEventListener = (type: string, listener: EventListenerOrEventListenerObject | null) => {
    count++;
    add(type, listener);
  };
  target.removeEventListener = (type: string, listener: EventListenerOrEventListenerObject | null) => {
    count--;
    remove(type, listener);
  };
  return {
    target,
    fire: (value) => {
      const event = new Event("n") as Event & { value: number };
      event.value = value;
      target.dispatchEvent(event);
    },
    listeners: () => count,
  };
}

function emitterSource(): Source {
  const listeners = new Map<string, Array<(v: number) => void>>();
  const list = (name: string) => listeners.get(name) ?? (listeners.set(name, []).get(name) as Array<(v: number) => void>);
  return {
    target: {
      on: (name, l) => list(name).push(l),
      off: (name, l) => {
        const at = list(name).indexOf(l);
        if (at >= 0) list(name).splice(at, 1);
      },
    },
    fire: (value) => {
      for (const l of [...list("n")]) l(value);
    },
    listeners: () => [...listeners.values()].reduce((n, l) => n + l.length, 0),
  };
}

/** A wait: 0 is a pause (same instant), k > 0 a sleep of k ms. */
function* wait(k: number): Operation<void> {
  if (k === 0) yield* pause();
  else yield* sleep(k);
}

const plan = fc.record({
  emitter: fc.boolean(),
  capacity: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 3 })),
  producer: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }),
  consumer: fc.array(fc.record({ wait: fc.integer({ min: 0, max: 3 }), timeout: fc.option(fc.integer({ min: 1, max: 3 })) }), {
    minLength: 1,
    maxLength: 30,
  }),
});

test("on loses no event, duplicates none, keeps their order, and leaves no listener: random producers and consumers on virtual time", {
  timeout: soak ? 24 * 3_600_000 : 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(plan, async (p) => {
      const source = p.emitter ? emitterSource() : eventTargetSource();
      const total = p.producer.length;
      const { received, overflow } = await runVirtual(function* () {
        const received: number[] = [];
        let overflow = false;
        yield* withTaskGroup<void>(function* (group) {
          const sub = yield* on<number | (Event & { value: number })>(source.target, "n", { capacity: p.capacity });
          group.startSoon(function* () {
            for (let i = 0; i < total; i++) {
              yield* wait(p.producer[i] as number);
              source.fire(i);
            }
          });
          try {
            for (let step = 0; received.length < total; step++) {
              const { wait: w, timeout } = p.consumer[step % p.consumer.length] as { wait: number; timeout: number | null };
              yield* wait(w);
              const got = timeout === null ? yield* sub.get() : yield* withTimeoutOpt(timeout, () => sub.get());
              if (got !== undefined) received.push(typeof got === "number" ? got : got.value);
            }
          } catch (error) {
            if (!(error instanceof EventOverflow)) throw error;
            overflow = true;
          }
        });
        return { received, overflow };
      });
      const prefix = Array.from({ length: received.length }, (_, i) => i);
      assert.deepEqual(received, prefix, "in order, none lost before the end, none twice");
      if (p.capacity === Infinity) assert.equal(overflow, false);
      assert.equal(overflow || received.length === total, true, "every event arrived, or the subscription overflowed");
      assert.equal(source.listeners(), 0, "no listener left");
    }),
    { numRuns: runs(300) },
  );
});
