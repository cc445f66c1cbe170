/**
 * Deadlocks on JavaScript hosts (docs/semantics.md,
 * «Drivers»): on Node a deadlock is reported when the event loop is about
 * to exit with tasks still blocked; the report goes to stderr (or to the
 * handler from `setDeadlockHandler`) and the `run` promise rejects with
 * `DeadlockError`, so a deadlocked program neither hangs nor ends silently.
 * Under virtual time it is reported when nothing is ready, no timer is set
 * and no host operation is pending.
 *
 * The event-loop cases run in child Node processes (the check is tied to the
 * process's `beforeExit`), executing small ES-module scripts that import the
 * built library by file URL.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DeadlockError, Semaphore, action, setDeadlockHandler, sleep, withTaskGroup, type DeadlockReport } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

// From dist/test/node/deadlock_test.js these are dist/src/index.js and dist/src/testing.js.
const LIB = new URL("../../src/index.js", import.meta.url).href;

const CHILD_TIMEOUT_MS = 20_000;

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "weft-deadlock-"));
});
after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

interface ChildResult {
  stdout: string;
  stderr: string;
  status: number | null;
  /** The script's file URL, as it appears in stack frames. */
  url: string;
  /** The script as written. */
  source: string;
}

/** Writes `source` (with `@LIB@` replaced by the library's URL) to a script and runs it. */
function runScript(name: string, source: string, env: Record<string, string> = {}): ChildResult {
  const file = join(dir, `${name}.mjs`);
  const text = source.replaceAll("@LIB@", LIB);
  writeFileSync(file, text);
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  if (!("WEFT_DEBUG" in env)) delete childEnv["WEFT_DEBUG"];
  delete childEnv["NODE_TEST_CONTEXT"];
  delete childEnv["NODE_OPTIONS"];
  const result = spawnSync(process.execPath, [file], {
    env: childEnv,
    encoding: "utf8",
    timeout: CHILD_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  if (result.error !== undefined) {
    assert.fail(`child ${name} did not complete (${result.error.message}): it hung or could not start\n${result.stderr ?? ""}`);
  }
  assert.equal(result.signal, null, `child ${name} was killed by ${result.signal} (hung?)\nstderr:\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr, status: result.status, url: pathToFileURL(file).href, source: text };
}

/** The lines of `text` that start with `prefix`, without it. */
function tagged(text: string, prefix: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

/** Two tasks that take two one-permit semaphores in opposite order. */
const CROSSED_LOCKS = `
function crossedLocks() {
  const a = new Semaphore(1);
  const b = new Semaphore(1);
  return function* () {
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* takeAThenB() {
        yield* a.acquire();
        yield* sleep(20);
        yield* b.acquire();
        console.log("OUT: first task got both locks");
      });
      group.startSoon(function* takeBThenA() {
        yield* b.acquire();
        yield* sleep(20);
        yield* a.acquire();
        console.log("OUT: second task got both locks");
      });
    });
  };
}
`;

test("two tasks taking two locks in opposite order: no hang, a report on stderr, run rejects with DeadlockError", () => {
  const child = runScript(
    "crossed_locks",
    `
import { run, withTaskGroup, Semaphore, sleep, DeadlockError } from "@LIB@";
${CROSSED_LOCKS}
try {
  await run(crossedLocks());
  console.log("OUT: resolved");
} catch (e) {
  console.log("OUT: rejected " + (e instanceof DeadlockError ? "DeadlockError" : String(e)));
  console.log("OUT: blocked " + e.blocked + " locations " + e.locations.length);
}
`,
  );
  const out = tagged(child.stdout, "OUT: ");
  assert.deepEqual(out, ["rejected DeadlockError", "blocked 3 locations 3"], `stdout:\n${child.stdout}\nstderr:\n${child.stderr}`);
  assert.match(child.stderr, /deadlock detected/);
  assert.match(child.stderr, /3 task\(s\) are blocked/);
  // Without debug mode the report names tasks by id and says how to get locations.
  assert.match(child.stderr, /WEFT_DEBUG=1/);
  assert.equal(child.status, 0);
});

test("an unhandled deadlock ends the process with an error, never silently", () => {
  const child = runScript(
    "crossed_locks_unhandled",
    `
import { run, withTaskGroup, Semaphore, sleep } from "@LIB@";
${CROSSED_LOCKS}
await run(crossedLocks());
console.log("OUT: after run (wrong)");
`,
  );
  assert.deepEqual(tagged(child.stdout, "OUT: "), []);
  assert.notEqual(child.status, 0, "a deadlocked program must not exit with status 0");
  assert.match(child.stderr, /deadlock detected/);
  assert.match(child.stderr, /DeadlockError/);
});

/** The 1-based line of the script that contains `marker`. */
function lineOf(child: ChildResult, marker: string): number {
  const index = child.source.split("\n").findIndex((line) => line.includes(marker));
  assert.ok(index >= 0, `marker ${marker} not in the script`);
  return index + 1;
}

/** The line number at the end of a location ("…/script.mjs:12:7" or "…(…/script.mjs:12:7)"). */
function lineIn(location: string, url: string): number | undefined {
  const at = location.indexOf(url + ":");
  if (at < 0) return undefined;
  return Number(/^:(\d+):\d+/.exec(location.slice(at + url.length))?.[1]);
}

const REPORT_LOCATIONS = `
import { run, withTaskGroup, Semaphore, sleep, DeadlockError } from "@LIB@";
${CROSSED_LOCKS}
try {
  await run(crossedLocks()@OPTIONS@); // ROOT-SPAWN
} catch (e) {
  console.log("OUT: " + (e instanceof DeadlockError ? "DeadlockError" : String(e)));
  for (const location of e.locations) console.log("LOC: " + location);
}
`;

test("with WEFT_DEBUG=1 the report gives the spawn locations of the blocked tasks in the script", () => {
  const child = runScript("crossed_locks_debug", REPORT_LOCATIONS.replace("@OPTIONS@", ""), { WEFT_DEBUG: "1" });
  assert.deepEqual(tagged(child.stdout, "OUT: "), ["DeadlockError"], child.stderr);
  const locations = tagged(child.stdout, "LOC: ");
  assert.equal(locations.length, 3, child.stdout);
  const lines = locations.map((l) => lineIn(l, child.url));
  // The two lock-taking tasks point at their startSoon calls.
  assert.ok(lines.includes(lineOf(child, "startSoon(function* takeAThenB")), `locations: ${locations.join(" | ")}`);
  assert.ok(lines.includes(lineOf(child, "startSoon(function* takeBThenA")), `locations: ${locations.join(" | ")}`);
  // The printed report carries them too, and no "set WEFT_DEBUG" hint.
  assert.ok(child.stderr.includes(`${child.url}:${lineOf(child, "takeAThenB")}:`), child.stderr);
  assert.ok(child.stderr.includes(`${child.url}:${lineOf(child, "takeBThenA")}:`), child.stderr);
  assert.doesNotMatch(child.stderr, /set WEFT_DEBUG=1/);
});

test("run(body, { debug: true }) also records spawn locations for the report", () => {
  const child = runScript("crossed_locks_debug_option", REPORT_LOCATIONS.replace("@OPTIONS@", ", { debug: true }"));
  assert.deepEqual(tagged(child.stdout, "OUT: "), ["DeadlockError"], child.stderr);
  const locations = tagged(child.stdout, "LOC: ");
  assert.equal(locations.length, 3, child.stdout);
  const lines = locations.map((l) => lineIn(l, child.url));
  assert.ok(lines.includes(lineOf(child, "startSoon(function* takeAThenB")), `locations: ${locations.join(" | ")}`);
  assert.ok(lines.includes(lineOf(child, "startSoon(function* takeBThenA")), `locations: ${locations.join(" | ")}`);
});

test("in debug mode the root task's location is the run() call in the script", () => {
  for (const [name, options, env] of [
    ["root_location_env", "", { WEFT_DEBUG: "1" }],
    ["root_location_option", ", { debug: true }", {}],
  ] as Array<[string, string, Record<string, string>]>) {
    const child = runScript(name, REPORT_LOCATIONS.replace("@OPTIONS@", options), env);
    const locations = tagged(child.stdout, "LOC: ");
    assert.equal(locations.length, 3, child.stdout);
    const lines = locations.map((l) => lineIn(l, child.url));
    assert.ok(
      lines.includes(lineOf(child, "ROOT-SPAWN")),
      `${name}: no location points at the run() call (line ${lineOf(child, "ROOT-SPAWN")}): ${locations.join(" | ")}`,
    );
  }
});

test("setDeadlockHandler receives { blocked, locations }; setDeadlockHandler(undefined) restores the default", () => {
  const child = runScript(
    "handler",
    `
import { run, withTaskGroup, Semaphore, sleep, setDeadlockHandler, DeadlockError } from "@LIB@";
${CROSSED_LOCKS}
const reports = [];
setDeadlockHandler((report) => reports.push(report));
try {
  await run(crossedLocks());
} catch (e) {
  console.log("OUT: first " + (e instanceof DeadlockError ? "DeadlockError" : String(e)));
}
console.log("REPORT: " + JSON.stringify(reports));
console.error("MARKER: default handler restored");
setDeadlockHandler(undefined);
try {
  await run(function* () { yield* new Semaphore(1, 0).acquire(); });
} catch (e) {
  console.log("OUT: second " + (e instanceof DeadlockError ? "DeadlockError" : String(e)));
}
console.log("OUT: handler calls " + reports.length);
`,
  );
  assert.deepEqual(tagged(child.stdout, "OUT: "), ["first DeadlockError", "second DeadlockError", "handler calls 1"], child.stderr);
  const [json] = tagged(child.stdout, "REPORT: ");
  const reports = JSON.parse(json!) as DeadlockReport[];
  assert.equal(reports.length, 1);
  const report = reports[0]!;
  assert.equal(report.blocked, 3);
  assert.equal(report.locations.length, 3);
  for (const location of report.locations) assert.equal(typeof location, "string");
  // The custom handler replaced the printed report; the restored default prints again.
  const marker = child.stderr.indexOf("MARKER: default handler restored");
  assert.ok(marker >= 0, child.stderr);
  assert.doesNotMatch(child.stderr.slice(0, marker), /deadlock detected/);
  assert.match(child.stderr.slice(marker), /deadlock detected/);
});

test("a deadlock handler that throws still lets run reject with DeadlockError", () => {
  const child = runScript(
    "throwing_handler",
    `
import { run, Semaphore, setDeadlockHandler, DeadlockError } from "@LIB@";
setDeadlockHandler(() => { throw new Error("handler blew up"); });
try {
  await run(function* () { yield* new Semaphore(1, 0).acquire(); });
} catch (e) {
  console.log("OUT: " + (e instanceof DeadlockError ? "DeadlockError" : String(e)));
}
`,
  );
  assert.deepEqual(tagged(child.stdout, "OUT: "), ["DeadlockError"], child.stderr);
  assert.match(child.stderr, /handler blew up/);
});

test("a program that is not deadlocked (a task sleeping 200 ms) is not reported", () => {
  const child = runScript(
    "sleeper",
    `
import { run, sleep, setDeadlockHandler } from "@LIB@";
let reported = false;
setDeadlockHandler(() => { reported = true; });
const started = Date.now();
const value = await run(function* () { yield* sleep(200); return "woke"; });
console.log("OUT: " + value + " reported=" + reported + " slept=" + (Date.now() - started >= 190));
`,
  );
  assert.deepEqual(tagged(child.stdout, "OUT: "), ["woke reported=false slept=true"], child.stderr);
  assert.doesNotMatch(child.stderr, /deadlock/i);
  assert.equal(child.status, 0);
});

test("a task released by a host callback (no task can see it coming) is not a deadlock", () => {
  const child = runScript(
    "host_release",
    `
import { run, Semaphore } from "@LIB@";
const gate = new Semaphore(1, 0);
setTimeout(() => gate.release(), 100);
const value = await run(function* () { yield* gate.acquire(); return "released"; });
console.log("OUT: " + value);
`,
  );
  assert.deepEqual(tagged(child.stdout, "OUT: "), ["released"], child.stderr);
  assert.doesNotMatch(child.stderr, /deadlock/i);
  assert.equal(child.status, 0);
});

test("a task waiting on an action whose executor holds a host interval is not reported while the host runs", () => {
  const child = runScript(
    "interval_action",
    `
import { run, action, Cancelled } from "@LIB@";
let ticks = 0;
let cleaned = false;
const controller = new AbortController();
const promise = run(function* () {
  // Never settles; the interval keeps the host's event loop alive.
  yield* action(() => {
    const id = setInterval(() => { ticks++; }, 10);
    return () => { clearInterval(id); cleaned = true; };
  });
}, { signal: controller.signal });
promise.then(
  () => console.log("OUT: resolved (wrong)"),
  (e) => console.log("OUT: settled " + (e instanceof Cancelled ? "Cancelled" : e?.name) + " cleaned=" + cleaned),
);
// Let it wait well past the point where a naive check would call it stuck
// (and, on a loaded host that stalls the process, until the interval did tick).
const started = Date.now();
const check = setInterval(() => {
  if (Date.now() - started < 400 || ticks <= 3) return;
  clearInterval(check);
  console.log("OUT: still waiting after 400 ms ticks>3=" + (ticks > 3));
  controller.abort();
}, 20);
`,
  );
  assert.deepEqual(
    tagged(child.stdout, "OUT: "),
    ["still waiting after 400 ms ticks>3=true", "settled Cancelled cleaned=true"],
    child.stderr,
  );
  assert.doesNotMatch(child.stderr, /deadlock/i);
  assert.equal(child.status, 0);
});

// ── in process ───────────────────────────────────────────────────────────────

test("setDeadlockHandler rejects a value that is not a function or undefined", () => {
  assert.throws(() => setDeadlockHandler(42 as unknown as undefined), TypeError);
  setDeadlockHandler(undefined);
});

test("runVirtual: a task blocked forever with no timer rejects with DeadlockError", async () => {
  const reports: DeadlockReport[] = [];
  setDeadlockHandler((report) => reports.push(report));
  try {
    const promise = runVirtual(function* () {
      yield* new Semaphore(1, 0).acquire();
    });
    const error = await promise.then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DeadlockError, `expected DeadlockError, got ${String(error)}`);
    assert.equal(error.blocked, 1);
    assert.equal(error.locations.length, 1);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.blocked, 1);
  } finally {
    setDeadlockHandler(undefined);
  }
});

test("runVirtual: a deadlock is found once the last timer has fired, not before", async () => {
  const reports: DeadlockReport[] = [];
  setDeadlockHandler((report) => reports.push(report));
  const log: string[] = [];
  try {
    await assert.rejects(
      runVirtual(function* () {
        const never = new Semaphore(1, 0);
        yield* withTaskGroup<void>(function* (group) {
          group.startSoon(function* () {
            yield* sleep(5_000);
            log.push("sleeper woke");
          });
          group.startSoon(function* () {
            yield* never.acquire();
            log.push("acquired (wrong)");
          });
        });
      }),
      DeadlockError,
    );
    assert.deepEqual(log, ["sleeper woke"]);
    assert.equal(reports.length, 1);
    // The root (waiting on its group) and the task on the semaphore.
    assert.equal(reports[0]!.blocked, 2);
  } finally {
    setDeadlockHandler(undefined);
  }
});

test("runVirtual: a pending host operation is not a deadlock", async () => {
  const reports: DeadlockReport[] = [];
  setDeadlockHandler((report) => reports.push(report));
  try {
    const value = await runVirtual(function* () {
      return yield* action<string>((resolve) => {
        const id = setTimeout(() => resolve("from the host"), 30);
        return () => clearTimeout(id);
      });
    });
    assert.equal(value, "from the host");
    assert.equal(reports.length, 0);
  } finally {
    setDeadlockHandler(undefined);
  }
});
