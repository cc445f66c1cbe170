/**
 * Property tests of `Semaphore` (docs/semantics.md, «Semaphore», «Outcomes»): random schedules
 * of tasks that acquire (plainly, under a timeout, or with tryAcquire), hold
 * the permit for a while (pauses or a sleep) and release it, while the main
 * task cancels tasks at random moments and hands out extra permits, on random
 * sizes and initial values. Runs deterministically on virtual time and on a
 * host pump with a hand-driven clock.
 *
 * A reference model of the semaphore is kept next to the real one, updated at
 * each call: free permits, the line of waiters, and the waiters a released
 * permit was handed to. Checked at every step:
 *  - permits are conserved: holders + handed-over + free = permits in
 *    circulation (initial + extra releases), and holders <= size;
 *  - `available` equals the model's free count;
 *  - an acquire that returns after waiting was handed a permit by the model;
 *    one that throws was not, and holds nothing (all-or-nothing: docs/semantics.md, «Outcomes»);
 *  - FIFO: a wait is served only when no earlier wait is still in line;
 * and at the end: nobody holds or waits, and available = initial + extra.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Cancelled,
  Semaphore,
  isBeingCancelled,
  useAbortSignal,
  pause,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
  type Task,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { runVirtual } from "../../src/testing.ts";

// ── plans ────────────────────────────────────────────────────────────────────

type Hold = { kind: "pause"; n: number } | { kind: "sleep"; ms: number };
type Mode = { kind: "plain" } | { kind: "timeout"; ms: number } | { kind: "try" };
interface Round {
  mode: Mode;
  hold: Hold;
}
interface TaskPlan {
  delay: Hold;
  rounds: Round[];
}
type MainAction = { kind: "cancel"; task: number } | { kind: "release" };
interface MainStep {
  wait: Hold;
  /** Done synchronously, in one go (so a cancel and a release can share a round). */
  actions: MainAction[];
}
interface Scenario {
  size: number;
  initial: number;
  tasks: TaskPlan[];
  main: MainStep[];
  /** Release every external permit at the end (forced when no permit would circulate). */
  topUp: boolean;
}

const hold: fc.Arbitrary<Hold> = fc.oneof(
  fc.nat({ max: 3 }).map((n): Hold => ({ kind: "pause", n })),
  fc.nat({ max: 6 }).map((ms): Hold => ({ kind: "sleep", ms })),
);
const mode: fc.Arbitrary<Mode> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mode>({ kind: "plain" }) },
  { weight: 2, arbitrary: fc.nat({ max: 6 }).map((ms): Mode => ({ kind: "timeout", ms })) },
  { weight: 1, arbitrary: fc.constant<Mode>({ kind: "try" }) },
);
const taskPlan: fc.Arbitrary<TaskPlan> = fc.record({
  delay: hold,
  rounds: fc.array(fc.record({ mode, hold }), { minLength: 1, maxLength: 3 }),
});
const mainAction: fc.Arbitrary<MainAction> = fc.oneof(
  { weight: 2, arbitrary: fc.nat({ max: 5 }).map((task): MainAction => ({ kind: "cancel", task })) },
  { weight: 1, arbitrary: fc.constant<MainAction>({ kind: "release" }) },
);
const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 4 }).chain((size) =>
  fc.record({
    size: fc.constant(size),
    initial: fc.integer({ min: 0, max: size }),
    tasks: fc.array(taskPlan, { minLength: 1, maxLength: 6 }),
    main: fc.array(fc.record({ wait: hold, actions: fc.array(mainAction, { minLength: 1, maxLength: 3 }) }), {
      maxLength: 6,
    }),
    topUp: fc.boolean(),
  }),
);

/** How often the interesting cases happened, to check the generators reach them. */
const stats = { servedAfterWaiting: 0, gaveUp: 0, keptUnderCancel: 0 };

function assertCoverage(): void {
  assert.ok(stats.servedAfterWaiting > 100, `only ${stats.servedAfterWaiting} acquires were served after waiting`);
  assert.ok(stats.gaveUp > 50, `only ${stats.gaveUp} acquires gave up`);
  assert.ok(stats.keptUnderCancel > 5, `only ${stats.keptUnderCancel} hand-offs kept under cancellation`);
  stats.servedAfterWaiting = stats.gaveUp = stats.keptUnderCancel = 0;
}

// ── the reference model and the checks ───────────────────────────────────────

class Checked {
  readonly sem: Semaphore;
  free: number;
  /** Waits (by sequence number) in line, not yet handed a permit. */
  readonly line: number[] = [];
  /** Each wait's view of its task's cancellation. */
  readonly cancelSignals = new Map<number, AbortSignal>();
  /** Waits a release passed over because their task was already cancelled. */
  readonly passedOver = new Set<number>();
  /** Waits that were handed a permit and have not resumed yet. */
  readonly handed = new Set<number>();
  /** Tasks holding a permit. */
  readonly holders = new Set<number>();
  extra = 0;
  nextSeq = 0;
  readonly violations: string[] = [];

  constructor(
    readonly size: number,
    readonly initial: number,
  ) {
    this.sem = new Semaphore(size, initial);
    this.free = initial;
    this.check("start");
  }

  check(where: string): void {
    const circulating = this.initial + this.extra;
    const v = (msg: string): void => {
      this.violations.push(`${where}: ${msg}`);
    };
    if (this.sem.available !== this.free) v(`available ${this.sem.available}, model says ${this.free}`);
    if (this.holders.size > this.size) v(`${this.holders.size} holders > size ${this.size}`);
    if (this.holders.size + this.handed.size + this.free !== circulating) {
      v(`permits not conserved: ${this.holders.size} held + ${this.handed.size} handed + ${this.free} free != ${circulating}`);
    }
    if (this.free > 0 && this.line.length > 0) v(`a permit is free while ${this.line.length} wait`);
    if (this.violations.length > 0) throw new Error(this.violations.join("\n"));
  }

  /** acquire(), checked against the model. */
  *acquire(id: number): Operation<void> {
    if (this.holders.has(id)) throw new Error(`task ${id} acquires while holding`);
    if (this.free > 0) {
      // Fast path: takes a free permit at once, cancelled or not.
      this.free--;
      yield* this.sem.acquire();
      this.holders.add(id);
      this.check(`task ${id} fast acquire`);
      return;
    }
    const cancelDue = isBeingCancelled();
    const seq = this.nextSeq++;
    if (!cancelDue) this.line.push(seq);
    // Aborts the moment this task is cancelled: a release from then on passes
    // this wait over (it must not be handed a permit its caller may drop).
    this.cancelSignals.set(seq, useAbortSignal());
    try {
      yield* this.sem.acquire();
    } catch (error) {
      stats.gaveUp++;
      if (!(error instanceof Cancelled)) this.violations.push(`task ${id}: acquire threw ${String(error)}`);
      if (this.handed.has(seq)) this.violations.push(`task ${id}: acquire threw although a permit was handed to it`);
      const i = this.line.indexOf(seq);
      if (i >= 0) this.line.splice(i, 1);
      else if (!cancelDue && !this.passedOver.delete(seq)) this.violations.push(`task ${id}: wait ${seq} not in line when it gave up`);
      this.check(`task ${id} acquire threw`);
      throw error;
    }
    if (cancelDue) this.violations.push(`task ${id}: acquire with no free permit in a cancelled task did not throw`);
    if (!this.handed.delete(seq)) this.violations.push(`task ${id}: acquire returned without being handed a permit`);
    // FIFO: no wait that started earlier may still be in line. (Earlier waits
    // that were handed a permit may resume after this one: resumption follows
    // wake order, and a cancellation can wake a task before its hand-off.)
    for (const waiting of this.line) {
      if (waiting < seq) this.violations.push(`task ${id}: wait ${seq} served while earlier wait ${waiting} still waits`);
    }
    if (isBeingCancelled()) stats.keptUnderCancel++;
    stats.servedAfterWaiting++;
    this.holders.add(id);
    this.check(`task ${id} acquired after waiting`);
  }

  tryAcquire(id: number): boolean {
    const expected = this.free > 0;
    const got = this.sem.tryAcquire();
    if (got !== expected) this.violations.push(`task ${id}: tryAcquire ${got}, expected ${expected}`);
    if (got) {
      this.free--;
      this.holders.add(id);
    }
    this.check(`task ${id} tryAcquire`);
    return got;
  }

  /** release() by a holder (id) or by the main task (id = -1, an extra permit). */
  release(id: number): void {
    if (id >= 0) {
      if (!this.holders.delete(id)) this.violations.push(`task ${id} releases without holding`);
    } else {
      this.extra++;
    }
    this.sem.release();
    let next = this.line.shift();
    while (next !== undefined && this.cancelSignals.get(next)?.aborted === true) {
      this.passedOver.add(next);
      next = this.line.shift();
    }
    if (next === undefined) this.free++;
    else this.handed.add(next);
    this.check(id >= 0 ? `task ${id} release` : "main release");
  }
}

// ── running a scenario ───────────────────────────────────────────────────────

function* doHold(h: Hold): Operation<void> {
  if (h.kind === "sleep") yield* sleep(h.ms);
  else for (let k = 0; k < h.n; k++) yield* pause();
}

function* taskBody(model: Checked, id: number, plan: TaskPlan, errors: unknown[]): Operation<void> {
  try {
    yield* doHold(plan.delay);
    for (const round of plan.rounds) {
      let holding = false;
      try {
        if (round.mode.kind === "try") {
          holding = model.tryAcquire(id);
        } else if (round.mode.kind === "plain") {
          yield* model.acquire(id);
          holding = true;
        } else {
          // The permit may arrive in the same round as the timeout: `holding`
          // (set the moment acquire returns) is the truth, not the result.
          yield* withTimeoutOpt(round.mode.ms, function* () {
            yield* model.acquire(id);
            holding = true;
          });
        }
        if (holding) yield* doHold(round.hold);
      } finally {
        if (holding) model.release(id);
      }
    }
  } catch (error) {
    if (!(error instanceof Cancelled)) errors.push(error);
  }
}

function mainBody(s: Scenario, model: Checked): () => Operation<void> {
  return function* () {
    const errors: unknown[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const tasks: Task<void>[] = s.tasks.map((plan, id) => group.spawn(() => taskBody(model, id, plan, errors)));
      const external = s.size - s.initial;
      for (const step of s.main) {
        yield* doHold(step.wait);
        for (const action of step.actions) {
          if (action.kind === "cancel") tasks[action.task % tasks.length]!.cancel();
          else if (model.extra < external) model.release(-1);
        }
      }
      if (s.topUp || s.initial === 0) while (model.extra < external) model.release(-1);
    });
    if (errors.length > 0) throw errors[0];
    model.check("end");
    assert.equal(model.holders.size, 0, "somebody still holds a permit");
    assert.equal(model.handed.size, 0, "a handed-over permit was never taken");
    assert.deepEqual(model.line, [], "somebody is still waiting");
    assert.equal(model.sem.available, s.initial + model.extra);
  };
}

/** Runs the main body on a host pump, jumping a fake clock to each next deadline. */
function runOnPump(body: () => Operation<void>): void {
  let t = 0;
  const host = createHost({ now: () => t });
  const main = host.spawn(body);
  for (let i = 0; i < 100_000; i++) {
    const { nextDeadline } = host.pump();
    if (main.done) {
      main.tryWait(); // throws the body's error, if any
      return;
    }
    if (nextDeadline === undefined) assert.fail("deadlock: tasks blocked with no timer (a permit was lost?)");
    t = Math.max(t, nextDeadline);
  }
  assert.fail("the scenario did not finish");
}

test("semaphore property: permits conserved, all-or-nothing, FIFO (virtual time)", async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const model = new Checked(s.size, s.initial);
      await runVirtual(mainBody(s, model));
    }),
    { numRuns: 700 },
  );
  assertCoverage();
});

test("semaphore property: permits conserved, all-or-nothing, FIFO (host pump)", () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const model = new Checked(s.size, s.initial);
      runOnPump(mainBody(s, model));
    }),
    { numRuns: 300 },
  );
  assertCoverage();
});

test("semaphore property: the model notices a wrong count (self-check)", () => {
  // The checks above must be able to fail: a permit taken behind the model's back is caught.
  const model = new Checked(2, 2);
  assert.equal(model.sem.tryAcquire(), true);
  assert.throws(() => model.check("tampered"), /available 1, model says 2/);
});
