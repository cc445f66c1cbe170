/**
 * Many tasks sharing one File through tiny timeouts and retries: every line
 * is read exactly once and every record is written exactly once. A timeout
 * either cut an operation off before it had any effect (then the retry does
 * it) or the operation completed and its value is returned.
 *
 * These need both halves of the rule: File operations that are either
 * without effect or complete (src/node/fs), and withTimeoutOpt returning
 * the value of a body that returned (the composites).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { Cancelled, Mutex, run, sleep, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { openFile } from "../../src/node.ts";
import { scratch } from "./fs_support.ts";

const END = Symbol("end of file");
const LIMIT = { timeout: 120_000 };

type TimeoutOpt = <T>(ms: number, body: () => Operation<T>) => Operation<T | undefined>;

/**
 * A minimal timeout with the rule the composites follow: a body that
 * returned wins, even if the deadline cancelled it meanwhile. It isolates
 * the File's own half of the rule from withTimeoutOpt's.
 */
function* bodyWinsTimeout<T>(ms: number, body: () => Operation<T>): Operation<T | undefined> {
  let result: { value: T } | undefined;
  yield* withTaskGroup<void>(function* (group) {
    const worker = group.spawn(
      function* () {
        result = { value: yield* body() };
      },
      { allowFailure: true },
    );
    group.spawn(
      function* () {
        yield* sleep(ms);
        worker.cancel();
      },
      { daemon: true },
    );
    try {
      yield* worker.wait();
    } catch (error) {
      if (!(error instanceof Cancelled)) throw error;
    }
  });
  return result?.value;
}

/**
 * The tests run with both timeouts: with `bodyWinsTimeout` they check the
 * File alone; with `withTimeoutOpt` they also check the composite's half of
 * the rule (a body that returned is the outcome, docs/semantics.md).
 */
const TIMEOUTS: [string, TimeoutOpt, { todo?: string }][] = [
  ["a timeout where a returned body wins", bodyWinsTimeout, {}],
  ["withTimeoutOpt", withTimeoutOpt, {}],
];

for (const [timeoutName, timeoutOpt, marks] of TIMEOUTS) {
  test(`50 tasks reading lines of one File through ${timeoutName} of 1 ms, with retries, read every line exactly once`, {
    ...LIMIT,
    ...marks,
  }, async () => {
    const { dir, cleanup } = scratch();
    try {
      const path = join(dir, "lines.txt");
      const LINES = 6_000;
      fs.writeFileSync(path, Array.from({ length: LINES }, (_, i) => `line ${i}\n`).join(""));
      let timeouts = 0;
      const seen = await run(function* () {
        using file = yield* openFile(path);
        // One reader at a time, as for every weft stream; the lock is part of
        // what the timeout may cut off.
        const lock = new Mutex();
        const lines: string[] = [];
        yield* withTaskGroup<void>(function* (group) {
          for (let t = 0; t < 50; t++) {
            group.spawn(function* () {
              for (;;) {
                const got = yield* timeoutOpt(1, () =>
                  lock.withLock(function* () {
                    const line = yield* file.readLine();
                    return line === undefined ? END : line;
                  }),
                );
                if (got === undefined) {
                  timeouts++;
                  continue;
                }
                if (got === END) return;
                lines.push(got);
              }
            });
          }
        });
        return lines;
      });
      const counts = new Map<string, number>();
      for (const line of seen) counts.set(line, (counts.get(line) ?? 0) + 1);
      const missing = LINES - counts.size;
      const duplicated = [...counts.values()].filter((n) => n > 1).length;
      assert.equal(missing, 0, `${missing} of ${LINES} lines were lost (${timeouts} timeouts)`);
      assert.equal(duplicated, 0, `${duplicated} lines were read twice`);
      assert.equal(seen.length, LINES);
    } finally {
      cleanup();
    }
  });

  for (const shape of ["one shared File", "a File per task"] as const) {
    test(`50 writers appending records (${shape}) through ${timeoutName} of 1 ms, with retries, write each record exactly once`, {
      ...LIMIT,
      ...marks,
    }, async () => {
      const { dir, cleanup } = scratch();
      try {
        const path = join(dir, "records.txt");
        const TASKS = 50;
        const RECORDS = 40;
        let timeouts = 0;
        await run(function* () {
          const shared = shape === "one shared File" ? yield* openFile(path, "a") : undefined;
          const lock = new Mutex();
          try {
            yield* withTaskGroup<void>(function* (group) {
              for (let t = 0; t < TASKS; t++) {
                group.spawn(function* () {
                  const own = shared ?? (yield* openFile(path, "a"));
                  try {
                    for (let i = 0; i < RECORDS; i++) {
                      const record = `w${t}-${i}\n`;
                      const write = shared === undefined ? () => own.write(record) : () => lock.withLock(() => own.write(record));
                      while (
                        (yield* timeoutOpt(1, function* () {
                          yield* write();
                          return true;
                        })) === undefined
                      ) {
                        timeouts++;
                      }
                    }
                  } finally {
                    if (own !== shared) own.close();
                  }
                });
              }
            });
          } finally {
            shared?.close();
          }
        });
        const records = fs.readFileSync(path, "utf8").split("\n").slice(0, -1);
        const counts = new Map<string, number>();
        for (const r of records) counts.set(r, (counts.get(r) ?? 0) + 1);
        const duplicated = [...counts.values()].filter((n) => n > 1).length;
        assert.equal(duplicated, 0, `${duplicated} records were written twice (${timeouts} timeouts)`);
        assert.equal(counts.size, TASKS * RECORDS, "every record was written");
        assert.equal(records.length, TASKS * RECORDS);
      } finally {
        cleanup();
      }
    });
  }
}
