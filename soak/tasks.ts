/**
 * Section "tasks": many tasks of one group parked in `sleep` with a `finally`;
 * what each costs in heap, and how long cancelling them all takes.
 */
import { pause, run, sleep, withTaskGroup, type Operation } from "../src/index.ts";
import { heapUsed, Section } from "./report.ts";

let started = 0;
/** How many times each task's finally ran, by start order. */
let cleanups = new Uint8Array(0);

// One body shared by every task, so the figure is weft's cost per task and not
// the cost of a closure the caller chose to allocate.
function* sleeper(): Operation<void> {
  const id = started++;
  try {
    yield* sleep(1e9);
  } finally {
    cleanups[id]!++;
  }
}

/**
 * The same task written inline, as a `function*` expression per spawn: V8 then
 * gives every task its own closure, generator prototype and object map, which
 * stay alive with the generator. That cost is V8's, not weft's.
 */
function inlineBody(): () => Operation<void> {
  return function* () {
    const id = started++;
    try {
      yield* sleep(1e9);
    } finally {
      cleanups[id]!++;
    }
  };
}

export async function soakTasks(n: number): Promise<boolean> {
  const section = new Section("tasks");
  section.figure("count", n, "tasks");
  await measure(section, n, "");
  await measure(section, n, "inline_body.");
  return section.verdict();
}

async function measure(section: Section, n: number, prefix: "" | "inline_body."): Promise<void> {
  started = 0;
  cleanups = new Uint8Array(n);
  const baseline = heapUsed();
  let parked = 0;
  let spawnMs = 0;
  let unwindMs = 0;
  let unwindCpuMs = 0;
  await run(function* () {
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < n; i++) group.startSoon(prefix === "" ? sleeper : inlineBody());
      // Spawned tasks start in a later round: wait until every one is parked.
      while (started < n) yield* pause();
      spawnMs = performance.now() - t0;
      parked = heapUsed() - baseline;
      t0 = performance.now();
      cpu0 = process.cpuUsage();
      // Called in the group's body this throws Cancelled here; the group
      // then returns once every task has run its finally.
      group.returnImmediately(undefined);
    });
    unwindMs = performance.now() - t0;
    // CPU time too: on a shared machine the wall time mostly measures the neighbours.
    const cpu = process.cpuUsage(cpu0);
    unwindCpuMs = (cpu.user + cpu.system) / 1000;
  });
  const after = heapUsed() - baseline;
  let once = 0;
  let never = 0;
  let twice = 0;
  for (let i = 0; i < n; i++) {
    const c = cleanups[i]!;
    if (c === 1) once++;
    else if (c === 0) never++;
    else twice++;
  }
  cleanups = new Uint8Array(0);
  section.figure(`${prefix}spawn_and_park_time`, spawnMs, "ms");
  section.figure(`${prefix}heap_per_task`, parked / n, "B");
  section.figure(`${prefix}cancel_time`, unwindMs, "ms");
  section.figure(`${prefix}cancel_cpu_time`, unwindCpuMs, "ms");
  section.figure(`${prefix}finally_ran_once`, once, "tasks");
  section.figure(`${prefix}finally_never_ran`, never, "tasks");
  section.figure(`${prefix}finally_ran_twice_or_more`, twice, "tasks");
  section.figure(`${prefix}heap_after_per_task`, after / n, "B");
  section.check(started === n, `${started} of ${n} tasks started`);
  section.check(once === n, `finally ran once in ${once} of ${n} tasks (never: ${never}, more than once: ${twice})`);
  // Back near the baseline: the ready ring and the timer heap may keep their
  // grown capacity, but no task, generator or timer entry may stay.
  section.check(after < parked / 10 + 4 * 1024 * 1024, `heap after the run is ${(after / n).toFixed(1)} B/task above the baseline`);
}
