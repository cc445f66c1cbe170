/**
 * Property-based tests of structured concurrency on virtual time: random trees
 * of nested task groups whose tasks pause, sleep, fail, end their group early,
 * cancel siblings and protect sleeps from cancellation. Whatever happens:
 *
 *  (a) no task outlives its group (docs/semantics.md, «Groups»), and every
 *      spawned task starts (docs/semantics.md, «Groups», «Shielding»);
 *  (b) every finally block of every started task runs exactly once, before
 *      its group returns;
 *  (c) the root's outcome is its value or the first failure that reached it,
 *      always an error the scenario threw, and no error is lost (docs/semantics.md, «Errors»): each
 *      thrown error left some group, or is in `suppressedErrors` of one that
 *      did, or ended an `allowFailure` task.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Cancelled,
  isBeingCancelled,
  pause,
  protectFromCancel,
  sleep,
  suppressedErrors,
  withTaskGroup,
  type Operation,
  type Task,
  type TaskGroup,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

// ── plans ────────────────────────────────────────────────────────────────────

type Step =
  | { kind: "pause" }
  | { kind: "sleep"; ms: number }
  | { kind: "protectedSleep"; ms: number }
  | { kind: "fail" }
  | { kind: "returnImmediately" }
  | { kind: "cancelSibling"; index: number }
  | { kind: "group"; group: GroupPlan };

interface TaskPlan {
  steps: Step[];
  allowFailure: boolean;
  daemon: boolean;
}

interface GroupPlan {
  /** What the group's body does after spawning the children. */
  body: Step[];
  children: TaskPlan[];
}

const MAX_DEPTH = 4;
const MAX_FAN_OUT = 4;
const MAX_STEPS = 5;

/** Arbitraries for plans whose groups are nested at most MAX_DEPTH deep. */
function planArbitraries(): { group: fc.Arbitrary<GroupPlan> } {
  const leafSteps: fc.WeightedArbitrary<Step>[] = [
    { weight: 3, arbitrary: fc.constant<Step>({ kind: "pause" }) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }).map((ms): Step => ({ kind: "sleep", ms })) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }).map((ms): Step => ({ kind: "protectedSleep", ms })) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: "fail" }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: "returnImmediately" }) },
    { weight: 1, arbitrary: fc.nat({ max: MAX_FAN_OUT - 1 }).map((index): Step => ({ kind: "cancelSibling", index })) },
  ];
  const groupAt = (depth: number): fc.Arbitrary<GroupPlan> => {
    const choices = [...leafSteps];
    if (depth < MAX_DEPTH) {
      const nested = groupAt(depth + 1);
      choices.push({ weight: 2, arbitrary: nested.map((group): Step => ({ kind: "group", group })) });
    }
    const step = fc.oneof(...choices);
    const steps = fc.array(step, { maxLength: MAX_STEPS });
    const task = fc.record({ steps, allowFailure: fc.boolean(), daemon: fc.boolean() });
    return fc.record({ body: steps, children: fc.array(task, { maxLength: MAX_FAN_OUT }) });
  };
  return { group: groupAt(1) };
}

const { group: groupPlan } = planArbitraries();

// ── execution with a record of everything that happened ─────────────────────

/** An error the scenario throws on purpose. */
class PlannedError extends Error {
  constructor(readonly task: number) {
    super(`planned failure in task ${task}`);
    this.name = "PlannedError";
  }
}

interface GroupRecord {
  id: number;
  /** The value the group should return: whoever set it first (body return or returnImmediately). */
  value: string | undefined;
  handles: Task<void>[];
  handle: TaskGroup<string> | null;
  /** Errors that ended a child as a failure of this group, in order. */
  failures: unknown[];
  returnedAt: number | undefined;
  outcome: { ok: true; value: string } | { ok: false; error: unknown } | undefined;
}

interface TaskRecord {
  id: number;
  group: number;
  startedAt: number;
  endedAt: number | undefined;
}

class Recorder {
  private clock = 0;
  private nextTask = 1;
  private nextGroup = 1;
  spawned = 0;
  readonly tasks = new Map<number, TaskRecord>();
  readonly groups = new Map<number, GroupRecord>();
  /** Finally blocks entered, and how many times each ran (with when it last ran). */
  readonly finallyEntered = new Set<string>();
  readonly finallyRuns = new Map<string, { count: number; at: number; group: number }>();
  readonly thrown: PlannedError[] = [];
  readonly leftGroups = new Set<unknown>();
  readonly allowedFailures = new Set<unknown>();

  tick(): number {
    return ++this.clock;
  }

  newGroup(): GroupRecord {
    const record: GroupRecord = {
      id: this.nextGroup++,
      value: undefined,
      handles: [],
      handle: null,
      failures: [],
      returnedAt: undefined,
      outcome: undefined,
    };
    this.groups.set(record.id, record);
    return record;
  }

  startTask(group: number): TaskRecord {
    const record: TaskRecord = { id: this.nextTask++, group, startedAt: this.tick(), endedAt: undefined };
    this.tasks.set(record.id, record);
    return record;
  }

  enterFinally(key: string): void {
    this.finallyEntered.add(key);
  }

  ranFinally(key: string, group: number): void {
    const previous = this.finallyRuns.get(key);
    this.finallyRuns.set(key, { count: (previous?.count ?? 0) + 1, at: this.tick(), group });
  }
}

function* runStep(rec: Recorder, group: GroupRecord, task: TaskRecord, index: number, step: Step): Operation<void> {
  switch (step.kind) {
    case "pause":
      yield* pause();
      return;
    case "sleep":
    case "protectedSleep": {
      const key = `${task.id}.${index}`;
      rec.enterFinally(key);
      try {
        if (step.kind === "sleep") yield* sleep(step.ms);
        else yield* protectFromCancel(() => sleep(step.ms));
      } finally {
        rec.ranFinally(key, group.id);
      }
      return;
    }
    case "fail": {
      const error = new PlannedError(task.id);
      rec.thrown.push(error);
      throw error;
    }
    case "returnImmediately": {
      const value = `returnImmediately:${group.id}`;
      if (group.value === undefined) group.value = value;
      group.handle!.returnImmediately(value);
      return;
    }
    case "cancelSibling": {
      const handles = group.handles;
      if (handles.length > 0) handles[step.index % handles.length]!.cancel();
      return;
    }
    case "group": {
      const key = `${task.id}.${index}`;
      rec.enterFinally(key);
      try {
        yield* runGroup(rec, step.group);
      } finally {
        rec.ranFinally(key, group.id);
      }
      return;
    }
  }
}

/** A task of `group` (its body when `isBody`) that runs `steps` and records its life. */
function* runTask(rec: Recorder, group: GroupRecord, steps: Step[], isBody: boolean, allowFailure: boolean): Operation<string> {
  const task = rec.startTask(group.id);
  const key = `${task.id}`;
  rec.enterFinally(key);
  try {
    for (let i = 0; i < steps.length; i++) yield* runStep(rec, group, task, i, steps[i]!);
    if (!isBody) return "child";
    const value = `body:${group.id}`;
    if (group.value === undefined) group.value = value;
    return value;
  } catch (error) {
    // How the group will classify this end (docs/semantics.md, «Groups»): a Cancelled that leaves a
    // task being cancelled is a normal end; allowFailure keeps it from the group.
    const normalCancel = error instanceof Cancelled && isBeingCancelled();
    if (allowFailure) rec.allowedFailures.add(error);
    else if (!normalCancel) group.failures.push(error);
    throw error;
  } finally {
    rec.ranFinally(key, group.id);
    task.endedAt = rec.tick();
  }
}

function* runGroup(rec: Recorder, plan: GroupPlan): Operation<string> {
  const group = rec.newGroup();
  try {
    const value = yield* withTaskGroup<string>(function* (handle) {
      group.handle = handle;
      for (const child of plan.children) {
        rec.spawned++;
        group.handles.push(handle.spawn(() => runTaskVoid(rec, group, child), { allowFailure: child.allowFailure, daemon: child.daemon }));
      }
      rec.spawned++; // the body
      return yield* runTask(rec, group, plan.body, true, false);
    });
    group.returnedAt = rec.tick();
    group.outcome = { ok: true, value };
    return value;
  } catch (error) {
    group.returnedAt = rec.tick();
    group.outcome = { ok: false, error };
    rec.leftGroups.add(error);
    throw error;
  }
}

function* runTaskVoid(rec: Recorder, group: GroupRecord, plan: TaskPlan): Operation<void> {
  yield* runTask(rec, group, plan.steps, false, plan.allowFailure);
}

interface Outcome {
  rec: Recorder;
  result: { ok: true; value: unknown } | { ok: false; error: unknown };
}

async function execute(plan: GroupPlan): Promise<Outcome> {
  const rec = new Recorder();
  const result = await runVirtual(() => runGroup(rec, plan)).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { rec, result };
}

// ── invariants ───────────────────────────────────────────────────────────────

function checkNoOrphan({ rec }: Outcome): void {
  assert.equal(rec.tasks.size, rec.spawned, "every spawned task must start");
  for (const group of rec.groups.values()) {
    assert.notEqual(group.returnedAt, undefined, `group ${group.id} never returned`);
  }
  for (const task of rec.tasks.values()) {
    assert.notEqual(task.endedAt, undefined, `task ${task.id} started but never ended`);
    const group = rec.groups.get(task.group)!;
    assert.ok(
      task.endedAt! < group.returnedAt!,
      `task ${task.id} ended at ${task.endedAt}, after its group ${group.id} returned at ${group.returnedAt}`,
    );
  }
}

function checkFinallyOnce({ rec }: Outcome): void {
  for (const key of rec.finallyEntered) {
    const runs = rec.finallyRuns.get(key);
    assert.ok(runs !== undefined, `finally ${key} never ran`);
    assert.equal(runs.count, 1, `finally ${key} ran ${runs.count} times`);
    const group = rec.groups.get(runs.group)!;
    assert.ok(runs.at < group.returnedAt!, `finally ${key} ran after group ${group.id} returned`);
  }
  for (const key of rec.finallyRuns.keys()) assert.ok(rec.finallyEntered.has(key), `finally ${key} ran but was never entered`);
}

function checkOutcome({ rec, result }: Outcome): void {
  // Every group: a failure means it throws; its value is whoever set it first.
  for (const group of rec.groups.values()) {
    for (const failure of group.failures) {
      assert.ok(failure instanceof PlannedError, `group ${group.id} failed with something the scenario did not throw: ${String(failure)}`);
    }
    const outcome = group.outcome!;
    if (outcome.ok) {
      assert.deepEqual(group.failures, [], `group ${group.id} returned a value despite a failure`);
      assert.equal(outcome.value, group.value, `group ${group.id} returned the wrong value`);
    } else if (group.failures.length > 0) {
      // The first failure wins, unless the caller's cancellation came first.
      assert.ok(
        outcome.error === group.failures[0] || outcome.error instanceof Cancelled,
        `group ${group.id} threw ${String(outcome.error)} instead of its first failure ${String(group.failures[0])}`,
      );
    } else {
      assert.ok(outcome.error instanceof Cancelled, `group ${group.id} threw ${String(outcome.error)} with no failure`);
    }
  }

  // The root: exactly its value or its first failure.
  const root = rec.groups.get(1)!;
  if (root.failures.length > 0) {
    assert.equal(result.ok, false, "the root returned a value despite a failure");
    assert.equal((result as { error: unknown }).error, root.failures[0], "the root did not reject with its first failure");
    assert.ok(root.failures[0] instanceof PlannedError);
  } else {
    assert.deepEqual(result, { ok: true, value: root.value });
  }

  // Nothing is lost.
  const suppressed = new Set<unknown>();
  for (const error of rec.leftGroups) for (const s of suppressedErrors(error)) suppressed.add(s);
  for (const error of rec.thrown) {
    assert.ok(
      rec.leftGroups.has(error) || suppressed.has(error) || rec.allowedFailures.has(error),
      `${error.message} was lost: it left no group, is suppressed by none, and no allowFailure task ended with it`,
    );
  }
}

const NUM_RUNS = 500;

test("property (a): no task outlives its group, and every spawned task starts", async () => {
  await fc.assert(
    fc.asyncProperty(groupPlan, async (plan) => checkNoOrphan(await execute(plan))),
    { numRuns: NUM_RUNS },
  );
});

test("property (b): every finally block of every started task runs exactly once, before its group returns", async () => {
  await fc.assert(
    fc.asyncProperty(groupPlan, async (plan) => checkFinallyOnce(await execute(plan))),
    { numRuns: NUM_RUNS },
  );
});

test("property (c): the root ends with its value or its first failure, and no error is lost", async () => {
  await fc.assert(
    fc.asyncProperty(groupPlan, async (plan) => checkOutcome(await execute(plan))),
    { numRuns: NUM_RUNS },
  );
});

// ── fixed scenarios: the harness itself sees what it should ─────────────────

test("harness check: a failing child decides the root, a later cleanup failure is suppressed", async () => {
  const plan: GroupPlan = {
    body: [{ kind: "sleep", ms: 100 }],
    children: [
      { steps: [{ kind: "sleep", ms: 5 }, { kind: "fail" }], allowFailure: false, daemon: false },
      { steps: [{ kind: "protectedSleep", ms: 50 }, { kind: "fail" }], allowFailure: false, daemon: false },
      { steps: [{ kind: "pause" }, { kind: "fail" }], allowFailure: true, daemon: false },
    ],
  };
  const outcome = await execute(plan);
  checkNoOrphan(outcome);
  checkFinallyOnce(outcome);
  checkOutcome(outcome);
  const { rec, result } = outcome;
  assert.equal(rec.thrown.length, 3);
  const [allowed, first, second] = rec.thrown; // the pause comes before the 5 ms sleep
  assert.ok(rec.allowedFailures.has(allowed));
  assert.deepEqual(result, { ok: false, error: first });
  assert.deepEqual(suppressedErrors(first), [second]);
});

test("harness check: returnImmediately from a child sets the value and cancels the rest", async () => {
  const plan: GroupPlan = {
    body: [{ kind: "sleep", ms: 1000 }],
    children: [
      { steps: [{ kind: "sleep", ms: 3 }, { kind: "returnImmediately" }, { kind: "fail" }], allowFailure: false, daemon: false },
      { steps: [{ kind: "sleep", ms: 1000 }, { kind: "fail" }], allowFailure: false, daemon: true },
    ],
  };
  const outcome = await execute(plan);
  checkNoOrphan(outcome);
  checkFinallyOnce(outcome);
  checkOutcome(outcome);
  assert.deepEqual(outcome.result, { ok: true, value: "returnImmediately:1" });
  assert.equal(outcome.rec.thrown.length, 0);
});
