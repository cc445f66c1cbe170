/**
 * Section "files": tasks reading lines of one file, and tasks appending
 * records to one file, every operation under a 1 ms timeout and retried when
 * it timed out. Every line must be read exactly once and every record must be
 * in the file exactly once, whatever the timeouts cut.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mutex, run, withTaskGroup, withTimeout, withTimeoutOpt, type Operation } from "../src/index.ts";
import { openFile, type File } from "../src/node.ts";
import { Section } from "./report.ts";

/** Tells end of file from a timeout: withTimeoutOpt gives undefined for both otherwise. */
const EOF = Symbol("eof");
const WROTE = true;

/** Gives up on a scenario that livelocks (every retry timing out) instead of hanging. */
const SCENARIO_LIMIT_MS = 120_000;

interface Tally {
  expected: number;
  seen: Map<string, number>;
  foreign: number;
  retries: number;
  complete: boolean;
}

function tally(expected: number): Tally {
  return { expected, seen: new Map(), foreign: 0, retries: 0, complete: false };
}

function report(section: Section, name: string, what: string, t: Tally, ids: Iterable<string>): void {
  let once = 0;
  let lost = 0;
  let duplicated = 0;
  for (const id of ids) {
    const c = t.seen.get(id) ?? 0;
    if (c === 0) lost++;
    else {
      once++;
      duplicated += c - 1;
    }
  }
  section.figure(`${name}.${what}`, once, what);
  section.figure(`${name}.lost`, lost, what);
  section.figure(`${name}.duplicated`, duplicated, what);
  section.figure(`${name}.corrupt`, t.foreign, what);
  section.figure(`${name}.timeouts_retried`, t.retries, "timeouts");
  section.check(t.complete, `${name}: did not finish within ${SCENARIO_LIMIT_MS} ms`);
  section.check(lost === 0, `${name}: ${lost} ${what} lost`);
  section.check(duplicated === 0, `${name}: ${duplicated} ${what} duplicated`);
  section.check(t.foreign === 0, `${name}: ${t.foreign} ${what} that were never written`);
}

function* readLineRetrying(file: File, t: Tally): Operation<string | undefined> {
  for (;;) {
    const got = yield* withTimeoutOpt(1, function* (): Operation<string | typeof EOF> {
      const line = yield* file.readLine();
      return line === undefined ? EOF : line;
    });
    if (got === EOF) return undefined;
    if (got !== undefined) return got;
    t.retries++;
  }
}

function* writeRetrying(file: File, record: string, t: Tally): Operation<void> {
  for (;;) {
    const done = yield* withTimeoutOpt(1, function* (): Operation<boolean> {
      yield* file.write(record);
      return WROTE;
    });
    if (done === WROTE) return;
    t.retries++;
  }
}

/**
 * A write abandoned by a timeout is still in the thread pool and may land
 * after its task has moved on: wait until Node has no file request left
 * before reading the file back, so a late duplicate is counted, not missed.
 */
async function fileRequestsSettled(): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (process.getActiveResourcesInfo().includes("FSReqCallback") && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function count(t: Tally, id: string, valid: Set<string>): void {
  if (!valid.has(id)) t.foreign++;
  else t.seen.set(id, (t.seen.get(id) ?? 0) + 1);
}

/** One File shared by every reader: each line goes to one of them, so each must be read once in all. */
function* sharedReaders(path: string, tasks: number, lines: Set<string>, t: Tally): Operation<void> {
  using file = yield* openFile(path, "r");
  // A File has one reader at a time; the lock takes turns, the timeout still cuts reads.
  const lock = new Mutex();
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < tasks; i++) {
      group.startSoon(function* () {
        for (;;) {
          const line = yield* lock.withLock(() => readLineRetrying(file, t));
          if (line === undefined) return;
          count(t, line, lines);
        }
      });
    }
  });
}

/** A File per reader on the same path: each must read every line once. */
function* ownReaders(path: string, tasks: number, lines: Set<string>, t: Tally): Operation<void> {
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < tasks; i++) {
      group.startSoon(function* () {
        using file = yield* openFile(path, "r");
        for (;;) {
          const line = yield* readLineRetrying(file, t);
          if (line === undefined) return;
          count(t, `${i}:${line}`, lines);
        }
      });
    }
  });
}

/** Appenders on one File (taking turns) or on a File each. */
function* writers(path: string, tasks: number, records: number, shared: boolean, t: Tally): Operation<void> {
  const common = shared ? yield* openFile(path, "a") : undefined;
  const lock = new Mutex();
  try {
    yield* withTaskGroup<void>(function* (group) {
      for (let w = 0; w < tasks; w++) {
        group.startSoon(function* () {
          using own = common === undefined ? yield* openFile(path, "a") : undefined;
          const file = own ?? common!;
          for (let k = 0; k < records; k++) {
            const record = `w${w}-r${k}\n`;
            if (shared) yield* lock.withLock(() => writeRetrying(file, record, t));
            else yield* writeRetrying(file, record, t);
          }
        });
      }
    });
  } finally {
    common?.close();
  }
}

function* limited(t: Tally, body: () => Operation<void>): Operation<void> {
  yield* withTimeout(SCENARIO_LIMIT_MS, body);
  t.complete = true;
}

export async function soakFiles(options: {
  readers: number;
  lines: number;
  ownLines: number;
  writers: number;
  records: number;
}): Promise<boolean> {
  const section = new Section("files");
  const dir = mkdtempSync(join(tmpdir(), "weft-soak-"));
  try {
    const { readers, lines, ownLines, writers: writerTasks, records } = options;
    section.figure("reader_tasks", readers, "tasks");
    section.figure("writer_tasks", writerTasks, "tasks");

    const linePath = join(dir, "lines.txt");
    const lineIds: string[] = [];
    for (let i = 0; i < lines; i++) lineIds.push(`line-${String(i).padStart(7, "0")}`);
    writeFileSync(linePath, lineIds.map((l) => `${l}\n`).join(""));
    const shared = tally(lines);
    await run(() => limited(shared, () => sharedReaders(linePath, readers, new Set(lineIds), shared))).catch(() => undefined);
    report(section, "shared_reader", "lines", shared, lineIds);

    // Longer than File's smallest read (16 KiB), so reads in the middle of the
    // file can be cut too, not only the first one and the one at the end.
    const ownPath = join(dir, "own_lines.txt");
    const ownIds = lineIds.slice(0, ownLines);
    writeFileSync(ownPath, ownIds.map((l) => `${l}\n`).join(""));
    const expectedOwn: string[] = [];
    for (let i = 0; i < readers; i++) for (const l of ownIds) expectedOwn.push(`${i}:${l}`);
    const own = tally(expectedOwn.length);
    await run(() => limited(own, () => ownReaders(ownPath, readers, new Set(expectedOwn), own))).catch(() => undefined);
    report(section, "own_readers", "lines", own, expectedOwn);

    const recordIds: string[] = [];
    for (let w = 0; w < writerTasks; w++) for (let k = 0; k < records; k++) recordIds.push(`w${w}-r${k}`);
    const valid = new Set(recordIds);
    for (const shape of ["shared_writer", "own_writers"] as const) {
      const path = join(dir, `${shape}.txt`);
      writeFileSync(path, "");
      const t = tally(recordIds.length);
      await run(() => limited(t, () => writers(path, writerTasks, records, shape === "shared_writer", t))).catch(() => undefined);
      await fileRequestsSettled();
      const text = readFileSync(path, "utf8");
      for (const line of text.split("\n")) if (line !== "") count(t, line, valid);
      report(section, shape, "records", t, recordIds);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return section.verdict();
}
