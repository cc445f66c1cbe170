/**
 * Property-based tests of `Queue` (docs/semantics.md, «Queue», «Outcomes»): random
 * producers (put / tryPut), consumers (get / tryGet), cancellations of either
 * at random times, outside tryPut/tryGet calls, and one close (soft or with
 * `clear`, default or custom error) at a random time, on every kind with
 * capacities 0..4 and unbounded. Two schedules: virtual time (`runVirtual`,
 * sleeps and pauses) and a host pump stepped one round at a time (outside
 * actions land exactly between two rounds). Whatever happens:
 *
 *  (a) every item is received at most once (no duplicates, counting the items
 *      still buffered after the run);
 *  (b) only items whose put returned (or tryPut returned true) are ever
 *      received: a put that threw — cancelled, or woken by the close — gave
 *      its value to nobody (no phantoms: docs/semantics.md, «Queue»), and neither did a failed tryPut;
 *  (c) nothing is lost: items put = received + still buffered + cleared by the
 *      close + dropped by a discard kind (drops counted from the queue's state
 *      right before each put), so a cancelled get never consumed an item;
 *  (d) one producer's items reach each consumer, and the buffer, in the order
 *      they were put, and the items left buffered come after every item of the
 *      same producer that was received;
 *  (e) `Cancelled` comes only out of tasks that were cancelled, and every
 *      other error is the close error (the very object given to `close`);
 *  (f) after the close every task ends, and a drained closed queue throws the
 *      close error from tryGet.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Cancelled,
  Queue,
  QueueClosed,
  isBeingCancelled,
  pause,
  sleep,
  withTaskGroup,
  type Operation,
  type QueueKind,
  type Task,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { createHost } from "../../src/host.ts";
import { Boom } from "../support.ts";

// ── plans ────────────────────────────────────────────────────────────────────

interface ProducerPlan {
  /** One step per item: wait `delay`, then put the item with `via`. */
  steps: Array<{ delay: number; via: "put" | "tryPut" }>;
}

interface ConsumerPlan {
  via: "get" | "tryGet";
  /** Waits before each attempt, used in turn. */
  delays: number[];
}

type Action =
  | { type: "cancelProducer"; index: number }
  | { type: "cancelConsumer"; index: number }
  /** An outside tryPut, then (same instant) maybe cancel a consumer it may have handed the item to. */
  | { type: "tryPut"; thenCancelConsumer: number | undefined }
  /** An outside tryGet, then (same instant) maybe cancel a producer whose blocked put it may have taken. */
  | { type: "tryGet"; thenCancelProducer: number | undefined }
  | { type: "close"; clear: boolean | undefined; custom: boolean };

interface Plan {
  kind: QueueKind;
  producers: ProducerPlan[];
  consumers: ConsumerPlan[];
  /** Done in order by the controller, each after waiting `delay`; exactly one close. */
  control: Array<{ delay: number; action: Action }>;
}

const delayArb = fc.nat({ max: 3 });

const kindArb: fc.Arbitrary<QueueKind> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<QueueKind>({ kind: "unbounded" }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("blocking" as const), capacity: fc.nat({ max: 4 }) }).map((k): QueueKind => k),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ kind: fc.constantFrom("discardOldest" as const, "discardLatest" as const), capacity: fc.nat({ max: 4 }) })
      .map((k): QueueKind => k),
  },
);

const maybeIndex = fc.option(fc.nat({ max: 2 }), { nil: undefined });

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    kind: kindArb,
    producers: fc.array(
      fc.record({
        steps: fc.array(fc.record({ delay: delayArb, via: fc.constantFrom("put" as const, "put" as const, "tryPut" as const) }), {
          maxLength: 8,
        }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    consumers: fc.array(
      fc.record({
        via: fc.constantFrom("get" as const, "get" as const, "tryGet" as const),
        delays: fc.array(delayArb, { minLength: 1, maxLength: 4 }),
      }),
      { maxLength: 3 },
    ),
    others: fc.array(
      fc.record({
        delay: delayArb,
        action: fc.oneof(
          fc.nat({ max: 2 }).map((index): Action => ({ type: "cancelProducer", index })),
          fc.nat({ max: 2 }).map((index): Action => ({ type: "cancelConsumer", index })),
          maybeIndex.map((thenCancelConsumer): Action => ({ type: "tryPut", thenCancelConsumer })),
          maybeIndex.map((thenCancelProducer): Action => ({ type: "tryGet", thenCancelProducer })),
        ),
      }),
      { maxLength: 8 },
    ),
    close: fc.record({
      delay: fc.nat({ max: 8 }),
      clear: fc.constantFrom(undefined, false, true),
      custom: fc.boolean(),
    }),
    closeAt: fc.nat({ max: 8 }),
  })
  .map(({ kind, producers, consumers, others, close, closeAt }): Plan => {
    const control = [...others];
    const at = Math.min(closeAt, control.length);
    control.splice(at, 0, {
      delay: close.delay,
      action: { type: "close", clear: close.clear, custom: close.custom },
    });
    return { kind, producers, consumers, control };
  });

// ── one run ──────────────────────────────────────────────────────────────────

/** How a schedule waits: `delay(n)` before steps, `idle()` when tryGet found nothing. */
interface Waits {
  delay(n: number): Operation<void>;
  idle(): Operation<void>;
}

/** Everything a run observed. */
class Observed {
  readonly putOk = new Set<string>();
  readonly putThrew = new Set<string>();
  readonly tryPutFailed = new Set<string>();
  /** Items a discard kind dropped (its own item); evictions by discardOldest are only counted. */
  readonly droppedItems = new Set<string>();
  dropped = 0;
  cleared = 0;
  /** One list per consumer; the last one is the controller's tryGet. */
  readonly received: string[][];
  buffered: string[] = [];
  readonly cancelledProducers = new Set<number>();
  readonly cancelledConsumers = new Set<number>();
  readonly problems: string[] = [];
  closed = false;
  closeError: unknown = undefined;
  customError: Boom | undefined = undefined;

  constructor(consumers: number) {
    this.received = Array.from({ length: consumers + 1 }, () => []);
  }

  isCloseError(e: unknown): boolean {
    if (!this.closed) return false;
    return this.customError !== undefined ? e === this.customError : e instanceof QueueClosed;
  }
}

/**
 * The scenario's task bodies and outside actions over one queue. Task handles
 * are filled in by the schedule once spawned.
 */
class Scenario {
  readonly q: Queue<string>;
  readonly seen: Observed;
  readonly producerTasks: Array<Task<void> | undefined> = [];
  readonly consumerTasks: Array<Task<void> | undefined> = [];
  /**
   * The consumers waiting in `get` on a capacity-0 discard queue, oldest
   * first, as the test tracks them: a hand-off serves the oldest; a consumer
   * cancelled while waiting leaves at once (it is passed over from then on).
   */
  private readonly waitingReaders: number[] = [];
  private outsideItems = 0;
  private readonly discard: boolean;
  private readonly capacity: number;

  constructor(
    readonly plan: Plan,
    private readonly waits: Waits,
  ) {
    this.q = new Queue<string>(plan.kind);
    this.seen = new Observed(plan.consumers.length);
    this.discard = plan.kind.kind === "discardOldest" || plan.kind.kind === "discardLatest";
    this.capacity = plan.kind.kind === "unbounded" ? Infinity : plan.kind.capacity;
  }

  /** Counts what a discarding `put` of `item` is about to drop, from the state right before it. */
  private accountDiscardPut(item: string): void {
    if (!this.discard || this.seen.closed) return;
    const q = this.q;
    if (this.capacity > 0) {
      if (q.size === this.capacity) {
        this.seen.dropped++;
        if (this.plan.kind.kind === "discardLatest") this.seen.droppedItems.add(item);
      }
    } else if (this.waitingReaders.length > 0) {
      this.waitingReaders.shift(); // handed to the oldest waiting reader
    } else {
      this.seen.dropped++;
      this.seen.droppedItems.add(item);
    }
  }

  /** Consumer `c`, if it waits in `get`, stops being a reader a hand-off can reach. */
  private withdraw(c: number): void {
    const i = this.waitingReaders.indexOf(c);
    if (i >= 0) this.waitingReaders.splice(i, 1);
  }

  /** A successful tryPut on a capacity-0 queue was a hand-off to the oldest waiting reader. */
  private accountTryPut(ok: boolean): void {
    if (ok && this.discard && this.capacity === 0) this.waitingReaders.shift();
  }

  private classify(who: string, e: unknown, cancelled: boolean): "closed" | "cancelled" {
    if (this.seen.isCloseError(e)) return "closed";
    if (e instanceof Cancelled) {
      if (!cancelled) this.seen.problems.push(`${who}: Cancelled in a task that was not cancelled`);
      return "cancelled";
    }
    this.seen.problems.push(`${who}: unexpected error ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return "closed";
  }

  producer(p: number): () => Operation<void> {
    const self = this;
    const { q, seen } = this;
    return function* () {
      const steps = self.plan.producers[p]!.steps;
      for (let k = 0; k < steps.length; k++) {
        const step = steps[k]!;
        const item = `${p}:${k}`;
        try {
          yield* self.waits.delay(step.delay);
        } catch (e) {
          self.classify(`producer ${p} delay`, e, seen.cancelledProducers.has(p));
          return;
        }
        if (step.via === "tryPut") {
          let ok: boolean;
          try {
            ok = q.tryPut(item);
          } catch (e) {
            if (!seen.isCloseError(e)) seen.problems.push(`producer ${p}: tryPut threw ${String(e)}`);
            seen.putThrew.add(item);
            return;
          }
          self.accountTryPut(ok);
          (ok ? seen.putOk : seen.tryPutFailed).add(item);
          continue;
        }
        self.accountDiscardPut(item);
        try {
          yield* q.put(item);
        } catch (e) {
          seen.putThrew.add(item);
          self.classify(`producer ${p} put ${item}`, e, seen.cancelledProducers.has(p));
          return;
        }
        seen.putOk.add(item);
      }
    };
  }

  consumer(c: number): () => Operation<void> {
    const self = this;
    const { q, seen } = this;
    const zeroDiscard = this.discard && this.capacity === 0;
    return function* () {
      const { via, delays } = self.plan.consumers[c]!;
      for (let n = 0; ; n++) {
        try {
          yield* self.waits.delay(delays[n % delays.length]!);
        } catch (e) {
          self.classify(`consumer ${c} delay`, e, seen.cancelledConsumers.has(c));
          return;
        }
        if (via === "get") {
          // A capacity-0 discard queue's get always waits while open, unless already cancelled.
          const registers = zeroDiscard && !seen.closed && !isBeingCancelled();
          if (registers) self.waitingReaders.push(c);
          try {
            seen.received[c]!.push(yield* q.get());
          } catch (e) {
            const why = self.classify(`consumer ${c} get`, e, seen.cancelledConsumers.has(c));
            if (why === "cancelled") self.withdraw(c);
            return;
          }
          continue;
        }
        let item: string | undefined;
        try {
          item = q.tryGet();
        } catch (e) {
          if (!seen.isCloseError(e)) seen.problems.push(`consumer ${c}: tryGet threw ${String(e)}`);
          return;
        }
        if (item !== undefined) {
          seen.received[c]!.push(item);
          continue;
        }
        try {
          yield* self.waits.idle();
        } catch (e) {
          self.classify(`consumer ${c} idle`, e, seen.cancelledConsumers.has(c));
          return;
        }
      }
    };
  }

  /** An outside action, run by the controller (a task, or the host between rounds). */
  act(action: Action): void {
    const { q, seen, plan } = this;
    switch (action.type) {
      case "cancelProducer": {
        const p = action.index % plan.producers.length;
        seen.cancelledProducers.add(p);
        this.producerTasks[p]!.cancel();
        return;
      }
      case "cancelConsumer": {
        if (plan.consumers.length === 0) return;
        const c = action.index % plan.consumers.length;
        seen.cancelledConsumers.add(c);
        this.withdraw(c);
        this.consumerTasks[c]!.cancel();
        return;
      }
      case "tryPut": {
        const item = `${plan.producers.length}:${this.outsideItems++}`;
        let ok: boolean;
        try {
          ok = q.tryPut(item);
        } catch (e) {
          if (!seen.isCloseError(e)) seen.problems.push(`outside tryPut threw ${String(e)}`);
          seen.putThrew.add(item);
          return;
        }
        this.accountTryPut(ok);
        (ok ? seen.putOk : seen.tryPutFailed).add(item);
        if (action.thenCancelConsumer !== undefined) this.act({ type: "cancelConsumer", index: action.thenCancelConsumer });
        return;
      }
      case "tryGet": {
        let item: string | undefined;
        try {
          item = q.tryGet();
        } catch (e) {
          if (!seen.isCloseError(e)) seen.problems.push(`outside tryGet threw ${String(e)}`);
          return;
        }
        if (item !== undefined) seen.received[plan.consumers.length]!.push(item);
        if (action.thenCancelProducer !== undefined) this.act({ type: "cancelProducer", index: action.thenCancelProducer });
        return;
      }
      case "close": {
        if (action.clear === true) seen.cleared = q.size;
        seen.customError = action.custom ? new Boom("closed on purpose") : undefined;
        seen.closed = true;
        this.waitingReaders.length = 0;
        const options = action.clear === undefined ? undefined : { clear: action.clear };
        q.close(seen.customError, options);
        return;
      }
    }
  }

  /** After every task ended: drains the queue with tryGet and checks (a)–(f). */
  check(): void {
    const { q, seen, plan } = this;
    assert.deepEqual(seen.problems, []);
    assert.equal(q.closed, true);
    for (let guard = 0; ; guard++) {
      assert.ok(guard <= 1000, "tryGet never threw on a closed queue");
      let item: string | undefined;
      try {
        item = q.tryGet();
      } catch (e) {
        assert.ok(seen.isCloseError(e), `drain: tryGet threw ${String(e)} instead of the close error`);
        break;
      }
      assert.notEqual(item, undefined, "tryGet returned undefined on a closed queue");
      seen.buffered.push(item!);
    }
    assert.equal(q.size, 0);

    // (a) at most once
    const all = [...seen.received.flat(), ...seen.buffered];
    const unique = new Set(all);
    assert.equal(unique.size, all.length, `an item was received twice: ${JSON.stringify(all)}`);
    // (b) only items whose put returned; never a dropped one
    for (const item of all) {
      assert.ok(
        seen.putOk.has(item),
        seen.putThrew.has(item)
          ? `${item} was received although its put threw (a phantom)`
          : `${item} was received although it was never put successfully`,
      );
      assert.ok(!seen.droppedItems.has(item), `${item} was received although the queue dropped it`);
    }
    // (c) nothing lost
    assert.equal(
      seen.putOk.size,
      all.length + seen.cleared + seen.dropped,
      `put ${seen.putOk.size} = received ${all.length - seen.buffered.length} + buffered ${seen.buffered.length}` +
        ` + cleared ${seen.cleared} + dropped ${seen.dropped}`,
    );
    // (d) per-producer order
    const producers = plan.producers.length + 1;
    const index = (item: string): [number, number] => {
      const [p, k] = item.split(":");
      return [Number(p), Number(k)];
    };
    for (const list of [...seen.received, seen.buffered]) {
      const last = new Array<number>(producers).fill(-1);
      for (const item of list) {
        const [p, k] = index(item);
        assert.ok(k > last[p]!, `producer ${p}'s items out of order in ${JSON.stringify(list)}`);
        last[p] = k;
      }
    }
    const maxReceived = new Array<number>(producers).fill(-1);
    for (const item of seen.received.flat()) {
      const [p, k] = index(item);
      maxReceived[p] = Math.max(maxReceived[p]!, k);
    }
    for (const item of seen.buffered) {
      const [p, k] = index(item);
      assert.ok(k > maxReceived[p]!, `${item} stayed buffered although a later item of producer ${p} was received`);
    }
  }
}

// ── schedules ────────────────────────────────────────────────────────────────

const virtualWaits: Waits = {
  *delay(n) {
    if (n === 1) yield* pause();
    else if (n >= 2) yield* sleep(n - 1);
  },
  *idle() {
    yield* sleep(1);
  },
};

async function runOnVirtualTime(plan: Plan): Promise<void> {
  const s = new Scenario(plan, virtualWaits);
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      plan.producers.forEach((_, p) => (s.producerTasks[p] = group.spawn(s.producer(p))));
      plan.consumers.forEach((_, c) => (s.consumerTasks[c] = group.spawn(s.consumer(c))));
      group.startSoon(function* () {
        for (const { delay, action } of plan.control) {
          yield* virtualWaits.delay(delay);
          s.act(action);
        }
      });
    });
  });
  s.check();
}

const roundWaits: Waits = {
  *delay(n) {
    for (let i = 0; i < n; i++) yield* pause();
  },
  *idle() {
    yield* pause();
  },
};

function runOnRounds(plan: Plan): void {
  const host = createHost({ now: () => 0 });
  const s = new Scenario(plan, roundWaits);
  const tasks: Array<Task<void>> = [];
  plan.producers.forEach((_, p) => tasks.push((s.producerTasks[p] = host.spawn(s.producer(p)))));
  plan.consumers.forEach((_, c) => tasks.push((s.consumerTasks[c] = host.spawn(s.consumer(c)))));
  for (const { delay, action } of plan.control) {
    for (let i = 0; i < delay; i++) host.pump({ maxRounds: 1 });
    s.act(action);
  }
  // Closed: every task must now finish without outside help.
  const left = host.pump();
  assert.equal(left.ready, 0);
  for (const [i, task] of tasks.entries()) {
    assert.equal(task.done, true, `task ${i} is still ${left.blocked > 0 ? "blocked" : "running"} after the close`);
    task.tryWait(); // every body catches its errors: none may escape
  }
  assert.equal(host.live, 0);
  s.check();
}

// ── properties ───────────────────────────────────────────────────────────────
// Seconds of work each: on a loaded host more than Bun's default 5 s per test.

test("queue invariants hold under random producers, consumers, cancellations and a close (virtual time)", {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(planArb, (plan) => runOnVirtualTime(plan)),
    { numRuns: 3000, includeErrorInReport: true },
  );
});

test("queue invariants hold under random producers, consumers, cancellations and a close (round by round)", { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(planArb, (plan) => runOnRounds(plan)),
    { numRuns: 5000, includeErrorInReport: true },
  );
});
