/**
 * Property-based hunt for stale handles: the scheduler reuses the records of
 * ended `startSoon` tasks (see `Scheduler.release`), and no one who ever held
 * a task must be able to tell. Random trees of groups whose tasks are started
 * by `spawn` (a handle) or `startSoon` (none), pause, sleep, fail, cancel any
 * handle ever made (stale ones included), and capture their own record the
 * way a report or a `currentTask()`-like API would (asking its id). The plan
 * runs several times in one scheduler, so later rounds reuse earlier records.
 * Whatever happens:
 *
 *  (a) every handle, and every captured record, keeps reporting its own
 *      task's end (`done`, and the value or error `tryWait` gives), checked
 *      at every step of every task and after the run; captured ids stay
 *      unique and unchanged;
 *  (b) a record that user code could reach (a `spawn` handle, a captured
 *      record) never serves another task;
 *  (c) no task outlives its group, and every finally block runs exactly once.
 *
 * Records are peeked at through the scheduler's `current` (internal) only to
 * check (b) and to see that reuse does happen.
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Coroutine } from "../../src/core/coroutine.ts";
import { current } from "../../src/core/scheduler.ts";
import { pause, sleep, withTaskGroup, type Operation, type Task } from "../../src/index.ts";
import { testOnEveryDriver } from "../support.ts";

// ── plans ────────────────────────────────────────────────────────────────────

type Step =
  | { kind: "pause" }
  | { kind: "sleep"; ms: number }
  | { kind: "fail" }
  | { kind: "cancelAny"; index: number }
  | { kind: "capture" }
  | { kind: "group"; group: GroupPlan };

interface TaskPlan {
  steps: Step[];
  /** Started by `spawn` (its handle is kept) or by `startSoon`. */
  spawned: boolean;
  allowFailure: boolean;
}

interface GroupPlan {
  body: Step[];
  children: TaskPlan[];
}

interface Plan {
  group: GroupPlan;
  /** How many times the root runs the group, one after the other. */
  rounds: number;
}

const MAX_DEPTH = 3;

function groupAt(depth: number): fc.Arbitrary<GroupPlan> {
  const choices: fc.WeightedArbitrary<Step>[] = [
    { weight: 3, arbitrary: fc.constant<Step>({ kind: "pause" }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((ms): Step => ({ kind: "sleep", ms })) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: "fail" }) },
    { weight: 2, arbitrary: fc.nat({ max: 64 }).map((index): Step => ({ kind: "cancelAny", index })) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: "capture" }) },
  ];
  if (depth < MAX_DEPTH) choices.push({ weight: 2, arbitrary: groupAt(depth + 1).map((group): Step => ({ kind: "group", group })) });
  const steps = fc.array(fc.oneof(...choices), { maxLength: 4 });
  const task = fc.record({ steps, spawned: fc.boolean(), allowFailure: fc.boolean() });
  return fc.record({ body: steps, children: fc.array(task, { maxLength: 5 }) });
}

const planArb: fc.Arbitrary<Plan> = fc.record({ group: groupAt(1), rounds: fc.integer({ min: 2, max: 4 }) });

// ── execution ────────────────────────────────────────────────────────────────

type End = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Seen {
  task: number;
  /** Set when the task's body has ended. */
  end: End | undefined;
}

interface Handle extends Seen {
  handle: Task<string>;
}

interface Capture extends Seen {
  record: Coroutine;
  id: number;
}

/** Ended tasks reused records: counted over a whole property run, to show the hunt meets the pool. */
let reuses = 0;

class World {
  private nextTask = 1;
  private clock = 0;
  readonly handles: Handle[] = [];
  readonly captures: Capture[] = [];
  readonly idOwner = new Map<number, number>();
  /** Which tasks each record served, and whether user code could reach it. */
  readonly records = new Map<Coroutine, { tasks: number[]; exposed: boolean }>();
  readonly finallyRuns = new Map<number, number>();
  readonly ends: { task: number; at: number; group: number }[] = [];
  readonly groupReturned = new Map<number, number>();
  private nextGroup = 1;

  tick(): number {
    return ++this.clock;
  }

  newTask(): number {
    return this.nextTask++;
  }

  newGroup(): number {
    return this.nextGroup++;
  }

  /** Notes that `record` serves `task`; (b): a record someone could reach serves no one else. */
  serve(record: Coroutine, task: number, exposed: boolean): void {
    const seen = this.records.get(record);
    if (seen === undefined) {
      this.records.set(record, { tasks: [task], exposed });
      return;
    }
    assert.ok(!seen.exposed, `the record of task ${seen.tasks.at(-1)}, which user code could reach, was reused for task ${task}`);
    reuses++;
    seen.tasks.push(task);
    seen.exposed = exposed;
  }

  expose(record: Coroutine): void {
    this.records.get(record)!.exposed = true;
  }

  /** (a): every handle and capture of an ended task reports that task's end. */
  check(): void {
    for (const h of this.handles) {
      if (h.end === undefined) continue;
      assert.equal(h.handle.done, true, `the handle of task ${h.task} no longer reports its end`);
      assertEnd(() => h.handle.tryWait(), h.end, `the handle of task ${h.task}`);
    }
    for (const c of this.captures) {
      assert.equal(c.record.id, c.id, `the id of task ${c.task} changed`);
      if (c.end === undefined) continue;
      assert.equal(c.record.done, true, `the captured record of task ${c.task} no longer reports its end`);
      assertEnd(() => c.record.tryWait(), c.end, `the captured record of task ${c.task}`);
    }
  }
}

function assertEnd(tryWait: () => unknown, end: End, what: string): void {
  let got: End;
  try {
    got = { ok: true, value: tryWait() };
  } catch (error) {
    got = { ok: false, error };
  }
  assert.equal(
    got.ok,
    end.ok,
    `${what} reports ${got.ok ? "a value" : "an error"}, its task ended with ${end.ok ? "a value" : "an error"}`,
  );
  if (got.ok) assert.equal(got.value, (end as { value: unknown }).value, `${what} reports another task's value`);
  else assert.equal(got.error, (end as { error: unknown }).error, `${what} reports another task's error`);
}

class PlannedError extends Error {}

function* runStep(world: World, step: Step, seen: Seen[]): Operation<void> {
  switch (step.kind) {
    case "pause":
      yield* pause();
      break;
    case "sleep":
      yield* sleep(step.ms);
      break;
    case "fail":
      throw new PlannedError("planned");
    case "cancelAny": {
      const handles = world.handles;
      if (handles.length > 0) handles[step.index % handles.length]!.handle.cancel();
      break;
    }
    case "capture": {
      // What a report, or an API handing out the running task, would do.
      const record = current!;
      world.expose(record);
      const capture: Capture = { task: seen[0]!.task, end: undefined, record, id: record.id };
      const owner = world.idOwner.get(capture.id);
      assert.ok(owner === undefined || owner === capture.task, `tasks ${owner} and ${capture.task} have the same id ${capture.id}`);
      world.idOwner.set(capture.id, capture.task);
      world.captures.push(capture);
      seen.push(capture);
      break;
    }
    case "group":
      yield* runGroup(world, step.group);
      break;
  }
  world.check();
}

/** A task's body: runs its steps, and records its end on whatever user code holds of it. */
/** `exposed`: started by `spawn`, so its handle is out, and it returns its value to the record. */
function* runTask(world: World, group: number, task: number, steps: Step[], exposed: boolean, seen: Seen[]): Operation<string> {
  world.serve(current!, task, exposed);
  let end: End | undefined;
  try {
    for (const step of steps) yield* runStep(world, step, seen);
    const value = `task ${task}`;
    end = { ok: true, value };
    return value;
  } catch (error) {
    end = { ok: false, error };
    throw error;
  } finally {
    world.finallyRuns.set(task, (world.finallyRuns.get(task) ?? 0) + 1);
    world.ends.push({ task, at: world.tick(), group });
    // Only a spawned task returns this value; the bodies of the others return nothing.
    const recorded: End = end!.ok && !exposed ? { ok: true, value: undefined } : end!;
    for (const s of seen) s.end = recorded;
  }
}

function* runGroup(world: World, plan: GroupPlan): Operation<void> {
  const group = world.newGroup();
  try {
    yield* withTaskGroup<void>(function* (g) {
      for (const child of plan.children) {
        const task = world.newTask();
        const options = { allowFailure: child.allowFailure };
        if (child.spawned) {
          const seen: Seen[] = [];
          const handle = g.spawn(() => runTask(world, group, task, child.steps, true, seen), options);
          const h: Handle = { task, end: undefined, handle };
          seen.push(h);
          world.handles.push(h);
        } else {
          const seen: Seen[] = [{ task, end: undefined }];
          g.startSoon(function* () {
            yield* runTask(world, group, task, child.steps, false, seen);
          }, options);
        }
      }
      const body = world.newTask();
      yield* runTask(world, group, body, plan.body, false, [{ task: body, end: undefined }]);
    });
  } catch {
    // A planned failure (or a cancellation) ends the group; the checks below still hold.
  } finally {
    world.groupReturned.set(group, world.tick());
  }
}

function* root(world: World, plan: Plan): Operation<void> {
  for (let round = 0; round < plan.rounds; round++) {
    yield* runGroup(world, plan.group);
    world.check();
  }
}

function checkAfter(world: World): void {
  world.check();
  for (const h of world.handles) assert.notEqual(h.end, undefined, `task ${h.task} never ended`);
  for (const [task, runs] of world.finallyRuns) assert.equal(runs, 1, `the finally of task ${task} ran ${runs} times`);
  for (const { task, at, group } of world.ends) {
    const returned = world.groupReturned.get(group);
    assert.ok(returned !== undefined && at < returned, `task ${task} ended after its group ${group} returned`);
  }
}

testOnEveryDriver("property: no handle or captured task ever observes a reused record", async (run) => {
  reuses = 0;
  await fc.assert(
    fc.asyncProperty(planArb, async (plan) => {
      const world = new World();
      await run(() => root(world, plan));
      checkAfter(world);
    }),
    { numRuns: 200 },
  );
  assert.ok(reuses > 0, "no record was ever reused: the hunt did not meet the pool");
});
