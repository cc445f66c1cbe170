/**
 * The model behind the cancellation property test: random task trees that mix
 * task groups, timeouts, `retry`, `all`/`any`, `Task.wait`, cancellation from
 * outside and from siblings, around `Queue` (all four kinds), `Semaphore`,
 * `Mutex`, `CondVar`, `Lazy` and a fake IO action completed by a host callback.
 *
 * Everything that matters is recorded as it happens and checked when the tree
 * has ended (the rule under test: an outcome is decided by what the body did;
 * a cancellation the body never observed changes nothing):
 *
 *  - items: every item a `put`/`tryPut` delivered, and every value a fake IO
 *    completed with, reaches a body exactly once (recorded right after the
 *    `yield*` that returned it), is still queued, or was dropped by a
 *    discarding queue; a `put` that threw delivered nothing;
 *  - composites: a `withTimeout`, `withTimeoutOpt`, `withTaskGroup`, `retry`,
 *    `all`, `any`, `Lazy.wait` or `Task.wait` whose body returned a value
 *    returns that value (a timeout is never reported for a body that
 *    returned, and the caller's cancellation does not discard it); for
 *    `withTaskGroup`, when every task it waits for returned too;
 *  - permits are conserved and never exceeded; a `CondVar` waiter returns
 *    normally exactly when a signal reached it;
 *  - every task's `finally` and every composite's `finally` runs exactly once,
 *    and no task outlives the group (or composite) it belongs to;
 *  - the run ends.
 *
 * The bodies are well-behaved: none catches an error while its task is being
 * cancelled, so a body that reached its `return` never observed a
 * cancellation. It may still have been cancelled: in the round its `get`,
 * read or awaited task completed, before it started (a body that never
 * suspends runs to its end), or inside `protectFromCancel`. In every such
 * case the rule says its value is owed to the composite's caller.
 *
 * Exported for the property test and for a soak runner: `checkTaskTrees`.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Cancelled,
  CondVar,
  Lazy,
  Mutex,
  Queue,
  Semaphore,
  TimeoutError,
  action,
  all,
  any,
  isBeingCancelled,
  pause,
  protectFromCancel,
  retry,
  run,
  sleep,
  useAbortSignal,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type Operation,
  type QueueKind,
  type Task,
  type TaskGroup,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { runVirtual } from "../../src/testing.ts";

// ── plans ────────────────────────────────────────────────────────────────────

/** A step that never blocks for good: allowed inside `protectFromCancel` and in the `Lazy` body. */
type SafeStep =
  | { k: "pause" }
  | { k: "sleep"; ms: number }
  /** A fake IO read: `ms` < 0 completes inside the executor; `micro` completes from a host microtask. */
  | { k: "io"; ms: number; micro: boolean };

type Step =
  | SafeStep
  | { k: "put"; q: number }
  | { k: "tryPut"; q: number }
  | { k: "get"; q: number }
  | { k: "tryGet"; q: number }
  /** Holds the mutex (with `withLock`) or a semaphore permit while sleeping `hold` ms. */
  | { k: "acquire"; mutex: boolean; hold: number }
  | { k: "condWait" }
  | { k: "signal"; broadcast: boolean }
  | { k: "lazy" }
  | { k: "fail" }
  | { k: "cancelSibling"; index: number }
  | { k: "returnImmediately" }
  | { k: "protect"; steps: SafeStep[] }
  | { k: "group"; group: GroupPlan }
  | { k: "timeout"; ms: number; opt: boolean; body: Step[] }
  | { k: "retry"; fails: number; maxRetry: number; delay: number; body: Step[] }
  | { k: "all"; bodies: Step[][] }
  | { k: "any"; bodies: Step[][]; allowFailure: boolean }
  | { k: "spawnWait"; body: Step[] };

interface ChildPlan {
  steps: Step[];
  allowFailure: boolean;
  daemon: boolean;
}

interface GroupPlan {
  body: Step[];
  children: ChildPlan[];
}

/** One random tree: the shared primitives it runs around, and its root group. */
export interface TreePlan {
  queues: QueueKind[];
  semaphoreSize: number;
  lazy: SafeStep[];
  /** The outer `withTimeout` around the whole tree: it also bounds the run. */
  outer: number;
  /** Host pump only: host callbacks due at a deadline run before (true) or after the timers due then. */
  callbacksFirst: boolean;
  root: GroupPlan;
}

const MAX_DEPTH = 3;
const MAX_STEPS = 5;
const MAX_CHILDREN = 3;
const MAX_BODIES = 3;
/** Deadlines are small and equal often, so hand-offs and cancellations land in the same round. */
const ms = fc.integer({ min: 0, max: 2 });

const safeStepArb: fc.Arbitrary<SafeStep> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<SafeStep>({ k: "pause" }) },
  { weight: 3, arbitrary: ms.map((n): SafeStep => ({ k: "sleep", ms: n })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ ms: fc.integer({ min: -1, max: 3 }), micro: fc.boolean() })
      .map(({ ms: n, micro }): SafeStep => ({ k: "io", ms: n, micro })),
  },
);

const queueKindArb: fc.Arbitrary<QueueKind> = fc.oneof(
  fc.constant<QueueKind>({ kind: "unbounded" }),
  fc.integer({ min: 0, max: 2 }).map((capacity): QueueKind => ({ kind: "blocking", capacity })),
  fc.integer({ min: 1, max: 2 }).map((capacity): QueueKind => ({ kind: "discardOldest", capacity })),
  fc.integer({ min: 1, max: 2 }).map((capacity): QueueKind => ({ kind: "discardLatest", capacity })),
);

function stepsAt(depth: number): fc.Arbitrary<Step[]> {
  const q = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });
  const choices: fc.WeightedArbitrary<Step>[] = [
    { weight: 7, arbitrary: safeStepArb },
    { weight: 6, arbitrary: q.map((i): Step => ({ k: "put", q: i })) },
    { weight: 1, arbitrary: q.map((i): Step => ({ k: "tryPut", q: i })) },
    { weight: 6, arbitrary: q.map((i): Step => ({ k: "get", q: i })) },
    { weight: 1, arbitrary: q.map((i): Step => ({ k: "tryGet", q: i })) },
    {
      weight: 3,
      arbitrary: fc.record({ mutex: fc.boolean(), hold: ms }).map(({ mutex, hold }): Step => ({ k: "acquire", mutex, hold })),
    },
    { weight: 2, arbitrary: fc.constant<Step>({ k: "condWait" }) },
    { weight: 2, arbitrary: fc.boolean().map((broadcast): Step => ({ k: "signal", broadcast })) },
    { weight: 1, arbitrary: fc.constant<Step>({ k: "lazy" }) },
    { weight: 1, arbitrary: fc.constant<Step>({ k: "fail" }) },
    { weight: 2, arbitrary: fc.nat({ max: MAX_CHILDREN }).map((index): Step => ({ k: "cancelSibling", index })) },
    { weight: 1, arbitrary: fc.constant<Step>({ k: "returnImmediately" }) },
    { weight: 1, arbitrary: fc.array(safeStepArb, { minLength: 1, maxLength: 2 }).map((steps): Step => ({ k: "protect", steps })) },
  ];
  if (depth < MAX_DEPTH) {
    const inner = stepsAt(depth + 1);
    const bodies = fc.array(inner, { minLength: 1, maxLength: MAX_BODIES });
    choices.push(
      { weight: 2, arbitrary: groupAt(depth + 1).map((group): Step => ({ k: "group", group })) },
      {
        weight: 4,
        arbitrary: fc
          .record({ ms, opt: fc.boolean(), body: inner })
          .map(({ ms: n, opt, body }): Step => ({ k: "timeout", ms: n, opt, body })),
      },
      {
        weight: 1,
        arbitrary: fc
          .record({ fails: fc.nat({ max: 2 }), maxRetry: fc.nat({ max: 2 }), delay: fc.integer({ min: -1, max: 2 }), body: inner })
          .map((r): Step => ({ k: "retry", ...r })),
      },
      { weight: 2, arbitrary: bodies.map((b): Step => ({ k: "all", bodies: b })) },
      {
        weight: 2,
        arbitrary: fc.record({ bodies, allowFailure: fc.boolean() }).map((r): Step => ({ k: "any", ...r })),
      },
      { weight: 2, arbitrary: inner.map((body): Step => ({ k: "spawnWait", body })) },
    );
  }
  return fc.array(fc.oneof(...choices), { maxLength: MAX_STEPS });
}

function groupAt(depth: number): fc.Arbitrary<GroupPlan> {
  const steps = stepsAt(depth);
  const child = fc.record({ steps, allowFailure: fc.boolean(), daemon: fc.boolean() });
  return fc.record({ body: steps, children: fc.array(child, { maxLength: MAX_CHILDREN }) });
}

/** Random task trees. */
export const treePlanArb: fc.Arbitrary<TreePlan> = fc.record({
  queues: fc.tuple(queueKindArb, queueKindArb),
  semaphoreSize: fc.integer({ min: 1, max: 3 }),
  lazy: fc.array(safeStepArb, { maxLength: 3 }),
  outer: fc.integer({ min: 1, max: 25 }),
  callbacksFirst: fc.boolean(),
  root: groupAt(1),
});

// ── the record of one run ───────────────────────────────────────────────────

/** An error a tree throws on purpose. */
export class PlannedError extends Error {
  constructor(where: string) {
    super(`planned failure in ${where}`);
    this.name = "PlannedError";
  }
}

/** How the driver completes fake IO: calls `callback` later, from outside the task; returns a canceller. */
type Later = (ms: number, micro: boolean, callback: () => void) => () => void;

interface QueueRecord {
  queue: Queue<string>;
  capacity: number;
  discard: "oldest" | "latest" | null;
  dropped: number;
}

/** The scope a task belongs to: a user group, or a composite's inner group. */
interface Scope {
  id: number;
  what: string;
  endedAt: number | undefined;
}

interface UserGroup {
  scope: Scope;
  handle: TaskGroup<string> | null;
  handles: Task<unknown>[];
  /** The value the group must return if nothing failed: whoever set it first (the body or returnImmediately). */
  value: string | undefined;
  bodyReturned: string | undefined;
  /** Tasks the group waits for (not daemon), other than the body, and how many of them returned. */
  waitedChildren: number;
  waitedReturned: number;
  /** Errors that ended one of its tasks as a failure of the group. */
  failures: unknown[];
}

interface Context {
  /** The nearest enclosing `withTaskGroup`, where `spawnWait` spawns and siblings are cancelled. */
  group: UserGroup | null;
}

interface CondWaiter {
  signalled: boolean;
  /** Its task was cancelled while it waited: a signal passes over it (the cancellation came first). */
  cancelled: boolean;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

class Tree {
  private events = 0;
  private counter = 0;
  later: Later = () => {
    throw new Error("no driver installed");
  };
  readonly problems: string[] = [];
  readonly queues: QueueRecord[];
  readonly semaphore: Semaphore;
  readonly mutex = new Mutex();
  readonly condVar = new CondVar();
  readonly lazy: Lazy<string>;
  lazyValue: string | undefined = undefined;
  holders = 0;
  mutexHolders = 0;
  readonly condWaiters: CondWaiter[] = [];

  readonly putOk = new Set<string>();
  readonly putThrew = new Set<string>();
  readonly droppedItems = new Set<string>();
  readonly ioCompleted = new Set<string>();
  /** Every item or IO value that reached a body, in order (duplicates kept, to find them). */
  readonly got: string[] = [];

  live = 0;
  private readonly scopes: Scope[] = [];
  private readonly tasks: Array<{ id: number; scope: Scope | null; endedAt: number | undefined }> = [];
  private readonly finallyRuns = new Map<string, number>();

  constructor(readonly plan: TreePlan) {
    this.queues = plan.queues.map((kind) => ({
      queue: new Queue<string>(kind),
      capacity: kind.kind === "unbounded" ? Infinity : kind.capacity,
      discard: kind.kind === "discardOldest" ? "oldest" : kind.kind === "discardLatest" ? "latest" : null,
      dropped: 0,
    }));
    this.semaphore = new Semaphore(plan.semaphoreSize);
    const self = this;
    this.lazy = new Lazy(() =>
      self.asTask(null, "lazy", function* () {
        yield* runSteps(self, { group: null }, plan.lazy);
        const value = self.fresh("lazy");
        self.lazyValue = value;
        return value;
      }),
    );
  }

  tick(): number {
    return ++this.events;
  }

  fresh(prefix: string): string {
    return `${prefix}:${++this.counter}`;
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  newScope(what: string): Scope {
    const scope: Scope = { id: this.scopes.length + 1, what, endedAt: undefined };
    this.scopes.push(scope);
    return scope;
  }

  endScope(scope: Scope): void {
    scope.endedAt = this.tick();
  }

  enterFinally(key: string): void {
    if (!this.finallyRuns.has(key)) this.finallyRuns.set(key, 0);
  }

  ranFinally(key: string): void {
    this.finallyRuns.set(key, (this.finallyRuns.get(key) ?? 0) + 1);
  }

  /** Runs `body` as the life of one task of `scope`, recording its start, end and finally. */
  *asTask<T>(scope: Scope | null, what: string, body: () => Operation<T>): Operation<T> {
    const record = { id: this.tasks.length + 1, scope, endedAt: undefined as number | undefined };
    this.tasks.push(record);
    const key = `task ${record.id} (${what})`;
    this.live++;
    this.enterFinally(key);
    try {
      return yield* body();
    } finally {
      this.ranFinally(key);
      record.endedAt = this.tick();
      this.live--;
    }
  }

  gotItem(item: string): void {
    this.got.push(item);
  }

  hold(mutex: boolean): void {
    if (mutex) {
      if (++this.mutexHolders > 1) this.problem(`the mutex has ${this.mutexHolders} holders`);
    } else if (++this.holders > this.plan.semaphoreSize) {
      this.problem(`Semaphore(${this.plan.semaphoreSize}) has ${this.holders} holders`);
    }
  }

  unhold(mutex: boolean): void {
    if (mutex) this.mutexHolders--;
    else this.holders--;
  }

  /** After every task has ended: every invariant of the run, all violations reported together. */
  check(): void {
    const bad = this.problems;
    const expect = (ok: boolean, text: () => string): void => {
      if (!ok) bad.push(text());
    };
    expect(this.live === 0, () => `${this.live} tasks of the tree still running after the run ended`);

    // No task outlives its group; every finally ran exactly once.
    for (const task of this.tasks) {
      const scope = task.scope;
      if (task.endedAt === undefined) bad.push(`task ${task.id} never ended`);
      else if (scope !== null && (scope.endedAt === undefined || task.endedAt > scope.endedAt)) {
        bad.push(`task ${task.id} outlived ${scope.what} ${scope.id}`);
      }
    }
    for (const [key, runs] of this.finallyRuns) expect(runs === 1, () => `the finally of ${key} ran ${runs} times`);

    // Items: drain what is still queued.
    const queued: string[] = [];
    for (const q of this.queues) {
      for (let item = q.queue.tryGet(); item !== undefined; item = q.queue.tryGet()) queued.push(item);
    }
    const seen = new Set<string>();
    for (const item of [...this.got, ...queued]) {
      expect(!seen.has(item), () => `${item} reached a body twice (or reached one and is still queued)`);
      seen.add(item);
      expect(!this.putThrew.has(item), () => `${item} was delivered although its put threw`);
      expect(!this.droppedItems.has(item), () => `${item} was delivered although the queue dropped it`);
      expect(this.putOk.has(item) || this.ioCompleted.has(item), () => `${item} was delivered but never put or completed`);
    }
    for (const item of this.ioCompleted) {
      expect(seen.has(item), () => `fake IO completed with ${item} but the value never reached the body`);
    }
    // Per queue: what a discarding put dropped is exactly what is missing.
    this.queues.forEach((q, i) => {
      const put = [...this.putOk].filter((item) => item.startsWith(`q${i}:`));
      const lost = put.filter((item) => !seen.has(item));
      expect(
        lost.length === q.dropped,
        () => `queue ${i}: ${put.length} items put, ${lost.length} neither got nor queued (${lost.join(", ")}), ${q.dropped} dropped`,
      );
    });

    // Permits are back; nobody waits.
    expect(this.holders === 0 && this.mutexHolders === 0, () => `${this.holders + this.mutexHolders} holders left`);
    expect(
      this.semaphore.available === this.plan.semaphoreSize,
      () => `semaphore permits leaked: ${this.semaphore.available} of ${this.plan.semaphoreSize} free`,
    );
    expect(!this.mutex.locked, () => "the mutex is still locked");
    expect(this.condWaiters.length === 0, () => "a CondVar waiter never left");
    assert.deepEqual(bad, [], "invariants broken (expected no violation)");
  }
}

// ── execution ────────────────────────────────────────────────────────────────

function* runSteps(tree: Tree, ctx: Context, steps: readonly Step[]): Operation<void> {
  for (const step of steps) yield* runStep(tree, ctx, step);
}

/** Runs `steps`, then returns a fresh value, reported to `returned` right before the return. */
function* valueBody(tree: Tree, ctx: Context, steps: readonly Step[], returned: (value: string) => void): Operation<string> {
  yield* runSteps(tree, ctx, steps);
  const value = tree.fresh("v");
  returned(value);
  return value;
}

/** Counts an error that ends a task of a group or composite as its failure (not a normal cancellation). */
function isFailure(error: unknown): boolean {
  return !(error instanceof Cancelled && isBeingCancelled());
}

function* runStep(tree: Tree, ctx: Context, step: Step): Operation<void> {
  switch (step.k) {
    case "pause":
      yield* pause();
      return;
    case "sleep":
      yield* sleep(step.ms);
      return;
    case "io": {
      const value = tree.fresh("io");
      const { ms, micro } = step;
      const got = yield* action<string>((resolve) => {
        if (ms < 0) {
          tree.ioCompleted.add(value);
          resolve(value);
          return;
        }
        let cleaned = false;
        const cancel = tree.later(ms, micro, () => {
          if (cleaned) return;
          tree.ioCompleted.add(value);
          resolve(value);
        });
        return () => {
          cleaned = true;
          cancel();
        };
      });
      tree.gotItem(got);
      if (got !== value) tree.problem(`fake IO ${value} returned ${got}`);
      return;
    }
    case "put": {
      const q = tree.queues[step.q]!;
      const item = tree.fresh(`q${step.q}`);
      // A discarding put never waits: the state right before it says what it drops.
      const full = q.discard !== null && q.queue.size === q.capacity;
      try {
        yield* q.queue.put(item);
      } catch (error) {
        tree.putThrew.add(item);
        throw error;
      }
      tree.putOk.add(item);
      if (full) {
        q.dropped++;
        if (q.discard === "latest") tree.droppedItems.add(item);
      }
      return;
    }
    case "tryPut": {
      const item = tree.fresh(`q${step.q}`);
      if (tree.queues[step.q]!.queue.tryPut(item)) tree.putOk.add(item);
      return;
    }
    case "get":
      tree.gotItem(yield* tree.queues[step.q]!.queue.get());
      return;
    case "tryGet": {
      const item = tree.queues[step.q]!.queue.tryGet();
      if (item !== undefined) tree.gotItem(item);
      return;
    }
    case "acquire": {
      const { mutex, hold } = step;
      if (mutex) {
        yield* tree.mutex.withLock(function* () {
          tree.hold(true);
          try {
            yield* sleep(hold);
          } finally {
            tree.unhold(true);
          }
        });
        return;
      }
      yield* tree.semaphore.acquire();
      tree.hold(false);
      try {
        yield* sleep(hold);
      } finally {
        tree.unhold(false);
        tree.semaphore.release();
      }
      return;
    }
    case "condWait": {
      // wait() registers unless the task is already being cancelled (then it throws at once).
      // The task's abort signal fires synchronously inside cancel(), so the reference
      // knows, at each signal, which waiters were cancelled before it.
      const waiter: CondWaiter = { signalled: false, cancelled: false };
      const abort = useAbortSignal();
      const onAbort = (): void => {
        waiter.cancelled = true;
      };
      if (!isBeingCancelled()) {
        tree.condWaiters.push(waiter);
        abort.addEventListener("abort", onAbort);
      }
      const leave = (): void => {
        abort.removeEventListener("abort", onAbort);
        const i = tree.condWaiters.indexOf(waiter);
        if (i >= 0) tree.condWaiters.splice(i, 1);
      };
      try {
        yield* tree.condVar.wait();
      } catch (error) {
        leave();
        if (waiter.signalled) tree.problem("a CondVar waiter that was signalled threw: the signal was lost");
        throw error;
      }
      leave();
      if (!waiter.signalled) tree.problem("a CondVar wait returned without a signal");
      return;
    }
    case "signal": {
      // The reference: signal reaches the oldest waiter neither signalled nor cancelled, broadcast
      // every such waiter; a cancelled one is passed over (it throws, having taken nothing).
      for (const waiter of tree.condWaiters) {
        if (waiter.signalled || waiter.cancelled) continue;
        waiter.signalled = true;
        if (!step.broadcast) break;
      }
      if (step.broadcast) tree.condVar.broadcast();
      else tree.condVar.signal();
      return;
    }
    case "lazy": {
      // The value is owed when the computation returned before the cancellation
      // reached this waiter; a cancellation that came first may win (docs/semantics.md).
      const watch = cancellationWatch(() => tree.lazyValue !== undefined);
      let value: string;
      try {
        value = yield* tree.lazy.wait();
      } catch (error) {
        watch.stop();
        if (tree.lazyValue !== undefined && !watch.cancelledFirst) {
          tree.problem(`Lazy.wait threw ${nameOf(error)} although the computation had returned ${tree.lazyValue} before the cancellation`);
        }
        throw error;
      }
      watch.stop();
      if (value !== tree.lazyValue) tree.problem(`Lazy.wait returned ${value}, the computation returned ${tree.lazyValue}`);
      return;
    }
    case "fail":
      throw new PlannedError("a step");
    case "cancelSibling": {
      const handles = ctx.group?.handles ?? [];
      if (handles.length > 0) handles[step.index % handles.length]!.cancel();
      return;
    }
    case "returnImmediately": {
      const group = ctx.group;
      if (group === null) return;
      const value = tree.fresh("ri");
      if (group.value === undefined) group.value = value;
      group.handle!.returnImmediately(value);
      return;
    }
    case "protect":
      yield* protectFromCancel(() => runSteps(tree, ctx, step.steps));
      return;
    case "group":
      yield* runGroup(tree, step.group);
      return;
    case "timeout":
      yield* runTimeout(tree, ctx, step);
      return;
    case "retry":
      yield* runRetry(tree, ctx, step);
      return;
    case "all":
    case "any":
      yield* runAllAny(tree, ctx, step);
      return;
    case "spawnWait":
      yield* runSpawnWait(tree, ctx, step.body);
      return;
  }
}

/** Runs a composite's call with its finally recorded once and its scope closed when it ends. */
function* composite<T>(tree: Tree, scope: Scope, body: () => Operation<T>): Operation<T> {
  const key = `${scope.what} ${scope.id}`;
  tree.enterFinally(key);
  try {
    return yield* body();
  } finally {
    tree.endScope(scope);
    tree.ranFinally(key);
  }
}

/** One task of a user group (the body, or a child): failures are recorded as the group will classify them. */
function* groupTask(tree: Tree, group: UserGroup, what: string, allowFailure: boolean, body: () => Operation<string>): Operation<string> {
  return yield* tree.asTask(group.scope, what, function* () {
    try {
      return yield* body();
    } catch (error) {
      if (!allowFailure && isFailure(error)) group.failures.push(error);
      throw error;
    }
  });
}

function* runGroup(tree: Tree, plan: GroupPlan): Operation<string> {
  const group: UserGroup = {
    scope: tree.newScope("withTaskGroup"),
    handle: null,
    handles: [],
    value: undefined,
    bodyReturned: undefined,
    waitedChildren: plan.children.filter((child) => !child.daemon).length,
    waitedReturned: 0,
    failures: [],
  };
  const ctx: Context = { group };
  return yield* composite(tree, group.scope, function* () {
    let result: string;
    try {
      result = yield* withTaskGroup<string>(function* (handle) {
        group.handle = handle;
        for (const [i, child] of plan.children.entries()) {
          const task = handle.spawn(
            () =>
              groupTask(tree, group, `child ${i}`, child.allowFailure, () =>
                valueBody(tree, ctx, child.steps, () => {
                  if (!child.daemon) group.waitedReturned++;
                }),
              ),
            { allowFailure: child.allowFailure, daemon: child.daemon },
          );
          group.handles.push(task);
        }
        return yield* groupTask(tree, group, "group body", false, () =>
          valueBody(tree, ctx, plan.body, (value) => {
            group.bodyReturned = value;
            if (group.value === undefined) group.value = value;
          }),
        );
      });
    } catch (error) {
      // Only the body's own value is owed, and only when the group's work all
      // completed: every task it waits for returned (docs/semantics.md: a
      // cancellation that cut short a task the group waits for is the outcome).
      // A returnImmediately that comes after the caller's cancellation reached
      // the group does not undo that cancellation.
      const allReturned = group.waitedReturned === group.waitedChildren;
      if (group.bodyReturned !== undefined && group.bodyReturned === group.value && allReturned && group.failures.length === 0) {
        tree.problem(
          `withTaskGroup threw ${nameOf(error)} although its body and every task it waits for returned (${group.value}) and no task failed`,
        );
      }
      throw error;
    }
    if (result !== group.value) tree.problem(`withTaskGroup returned ${result}, expected ${group.value}`);
    return result;
  });
}

function* runTimeout(tree: Tree, ctx: Context, step: Extract<Step, { k: "timeout" }>): Operation<void> {
  const api = step.opt ? "withTimeoutOpt" : "withTimeout";
  const scope = tree.newScope(api);
  let returned: string | undefined;
  const body = (): Operation<string> =>
    tree.asTask(scope, `${api} body`, () => valueBody(tree, ctx, step.body, (value) => (returned = value)));
  try {
    yield* composite(tree, scope, function* () {
      let result: string | undefined;
      try {
        result = step.opt ? yield* withTimeoutOpt(step.ms, body) : yield* withTimeout(step.ms, body);
      } catch (error) {
        if (returned !== undefined) tree.problem(`${api}(${step.ms}) threw ${nameOf(error)} although its body returned ${returned}`);
        throw error;
      }
      if (result !== returned) {
        tree.problem(
          returned === undefined
            ? `${api}(${step.ms}) returned ${result} although its body never returned`
            : `${api}(${step.ms}) returned ${result} although its body returned ${returned}`,
        );
      }
    });
  } catch (error) {
    // A timeout is an expected outcome of the step: the tree goes on, unless its task
    // is being cancelled (a body that swallows errors while cancelled would blur the rule).
    if (!(error instanceof TimeoutError) || isBeingCancelled()) throw error;
  }
}

function* runRetry(tree: Tree, ctx: Context, step: Extract<Step, { k: "retry" }>): Operation<void> {
  let attempt = 0;
  let lastReturned: string | undefined;
  const method = step.delay < 0 ? { kind: "immediate" as const } : { kind: "fixedDelay" as const, delayMs: step.delay };
  let result: string;
  try {
    result = yield* retry(
      method,
      function* () {
        const n = attempt++;
        lastReturned = undefined;
        yield* runSteps(tree, ctx, step.body);
        if (n < step.fails) throw new PlannedError(`retry attempt ${n}`);
        const value = tree.fresh("v");
        lastReturned = value;
        return value;
      },
      { maxRetry: step.maxRetry },
    );
  } catch (error) {
    if (lastReturned !== undefined) tree.problem(`retry threw ${nameOf(error)} although its last attempt returned ${lastReturned}`);
    throw error;
  }
  if (result !== lastReturned) tree.problem(`retry returned ${result}, its last attempt returned ${lastReturned}`);
}

function* runAllAny(tree: Tree, ctx: Context, step: Extract<Step, { k: "all" | "any" }>): Operation<void> {
  const api = step.k;
  const scope = tree.newScope(api);
  const returned: Array<string | undefined> = step.bodies.map(() => undefined);
  const failures: unknown[] = [];
  const bodies = step.bodies.map(
    (steps, i) => (): Operation<string> =>
      tree.asTask(scope, `${api} body ${i}`, function* () {
        try {
          return yield* valueBody(tree, ctx, steps, (value) => (returned[i] = value));
        } catch (error) {
          if (isFailure(error)) failures.push(error);
          throw error;
        }
      }),
  );
  yield* composite(tree, scope, function* () {
    if (step.k === "all") {
      let values: string[];
      try {
        values = yield* all(bodies);
      } catch (error) {
        if (returned.every((v) => v !== undefined)) {
          tree.problem(`all threw ${nameOf(error)} although every body returned (${returned.join(", ")})`);
        }
        throw error;
      }
      if (values.join() !== returned.join())
        tree.problem(`all returned [${values.join(", ")}], the bodies returned [${returned.join(", ")}]`);
      return;
    }
    let value: string;
    try {
      value = yield* any(bodies, { allowFailure: step.allowFailure });
    } catch (error) {
      const winner = returned.find((v) => v !== undefined);
      if (winner !== undefined && !failures.includes(error)) {
        tree.problem(`any threw ${nameOf(error)} although a body returned ${winner} and no body failed with it`);
      }
      throw error;
    }
    if (!returned.includes(value)) tree.problem(`any returned ${value}, which no body returned (${returned.join(", ")})`);
  });
}

function* runSpawnWait(tree: Tree, ctx: Context, steps: Step[]): Operation<void> {
  const group = ctx.group;
  if (group === null) return;
  let returned: string | undefined;
  // A task the group waits for, like a planned child.
  group.waitedChildren++;
  const task = group.handle!.spawn(() =>
    groupTask(tree, group, "waited task", false, () =>
      valueBody(tree, ctx, steps, (value) => {
        returned = value;
        group.waitedReturned++;
      }),
    ),
  );
  group.handles.push(task);
  // The value is owed when the task returned before the cancellation reached
  // the waiter; a cancellation that came first may win (docs/semantics.md).
  const watch = cancellationWatch(() => returned !== undefined);
  let value: string;
  try {
    value = yield* task.wait();
  } catch (error) {
    watch.stop();
    if (returned !== undefined && !watch.cancelledFirst) {
      tree.problem(`Task.wait threw ${nameOf(error)} although the task returned ${returned} before the cancellation`);
    }
    // The task's own failure (or cancellation) is its group's business; the waiter goes on unless it is cancelled.
    if (isBeingCancelled()) throw error;
    return;
  }
  watch.stop();
  if (value !== returned) tree.problem(`Task.wait returned ${value}, the task returned ${returned}`);
}

/**
 * Learns whether the current task's cancellation came before `completed()`
 * became true. The task's abort signal fires synchronously inside cancel(),
 * so the order is exact.
 */
function cancellationWatch(completed: () => boolean): { readonly cancelledFirst: boolean; stop(): void } {
  const signal = useAbortSignal();
  const watch = { cancelledFirst: isBeingCancelled() && !completed(), stop: () => signal.removeEventListener("abort", onAbort) };
  const onAbort = (): void => {
    if (!completed()) watch.cancelledFirst = true;
  };
  signal.addEventListener("abort", onAbort);
  return watch;
}

/** The whole tree, inside its outer timeout. Expected outcomes end quietly; anything else is a problem. */
function* runTree(tree: Tree): Operation<void> {
  try {
    yield* withTimeout(tree.plan.outer, () => runGroup(tree, tree.plan.root));
  } catch (error) {
    if (!(error instanceof TimeoutError || error instanceof PlannedError || error instanceof Cancelled)) {
      tree.problem(`the tree ended with an unexpected error: ${nameOf(error)}`);
    }
  }
}

// ── drivers ──────────────────────────────────────────────────────────────────

/**
 * How a tree is run: `runVirtual`, `run` on the host's event loop and real clock, or a
 * hand-written loop pumping `createHost()` on a clock it moves itself.
 */
export type Driver = "virtual time" | "event loop" | "host pump";

/** Waits (polling, with a bound no stalled host reaches) until every task of the tree has ended. */
async function settle(tree: Tree): Promise<void> {
  // A Lazy computation abandoned by its last waiter is cancelled, and ends in a later round.
  const giveUp = Date.now() + 30_000;
  while (tree.live > 0 && Date.now() < giveUp) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function onVirtualTime(tree: Tree): Promise<void> {
  await runVirtual(
    function* () {
      yield* withTaskGroup<void>(function* (host) {
        // Fake IO completes from a task sleeping on the virtual clock (so completions and
        // timeouts share deadlines), or from a real host microtask.
        tree.later = (ms, micro, callback) => {
          if (micro) {
            queueMicrotask(callback);
            return () => {};
          }
          const timer = host.spawn(
            function* () {
              yield* sleep(ms);
              callback();
            },
            { daemon: true },
          );
          return () => timer.cancel();
        };
        yield* runTree(tree);
      });
      // The fake IO is completed by virtual timers, not by the host: the clock must not wait for it.
    },
    { autojumpThreshold: 0 },
  );
  await settle(tree);
}

async function onEventLoop(tree: Tree): Promise<void> {
  tree.later = (ms, micro, callback) => {
    if (micro) {
      queueMicrotask(callback);
      return () => {};
    }
    const id = setTimeout(callback, ms);
    return () => clearTimeout(id);
  };
  await run(() => runTree(tree));
  await settle(tree);
}

function onHostPump(tree: Tree): void {
  let time = 0;
  let seq = 0;
  const pending: Array<{ due: number; seq: number; callback: () => void; cancelled: boolean }> = [];
  tree.later = (ms, micro, callback) => {
    const entry = { due: time + (micro ? 0 : ms), seq: seq++, callback, cancelled: false };
    pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  const fireDue = (): boolean => {
    const due = pending.filter((e) => e.due <= time).sort((a, b) => a.due - b.due || a.seq - b.seq);
    if (due.length === 0) return false;
    for (const e of due) pending.splice(pending.indexOf(e), 1);
    for (const e of due) if (!e.cancelled) e.callback();
    return true;
  };
  const host = createHost({ now: () => time });
  const task = host.spawn(() => runTree(tree));
  for (let turn = 0; ; turn++) {
    assert.ok(turn < 100_000, "the host pump made no progress in 100000 turns");
    if (tree.plan.callbacksFirst && fireDue()) continue;
    const { nextDeadline } = host.pump();
    if (fireDue()) continue;
    if (task.done && host.live === 0) break;
    let next = nextDeadline;
    for (const e of pending) if (!e.cancelled && (next === undefined || e.due < next)) next = e.due;
    assert.ok(next !== undefined, `deadlock under the host pump: ${host.live} tasks blocked with nothing to wake them`);
    if (next > time) time = next;
  }
  task.tryWait();
}

/** Runs one tree on `driver` and checks every invariant. */
export async function checkTree(plan: TreePlan, driver: Driver): Promise<void> {
  const tree = new Tree(plan);
  if (driver === "virtual time") await onVirtualTime(tree);
  else if (driver === "event loop") await onEventLoop(tree);
  else onHostPump(tree);
  tree.check();
}

/**
 * Runs `runs` random task trees on `driver` with fast-check and throws the
 * (shrunk) counterexample if any invariant is broken.
 */
export async function checkTaskTrees(options: { runs: number; driver: Driver; seed?: number }): Promise<void> {
  const { runs, driver, seed } = options;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`checkTaskTrees(): runs must be an integer >= 1, got ${String(runs)}`);
  if (driver !== "virtual time" && driver !== "event loop" && driver !== "host pump") {
    throw new RangeError(`checkTaskTrees(): driver must be "virtual time", "event loop" or "host pump", got ${String(driver)}`);
  }
  await fc.assert(
    fc.asyncProperty(treePlanArb, (plan) => checkTree(plan, driver)),
    { numRuns: runs, includeErrorInReport: true, ...(seed === undefined ? {} : { seed }) },
  );
}
