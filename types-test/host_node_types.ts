/**
 * Type tests for `weft/host`, `weft/testing` and a few `weft/node`
 * signatures. Compiled, never run.
 */
import { createHost, type Host, type PumpResult } from "../src/host.ts";
import type { Operation, Task } from "../src/index.ts";
import { openFile, readDir, runProcess, withTmpdir } from "../src/node.ts";
import { runVirtual } from "../src/testing.ts";
import { expectType } from "./expect.ts";

declare function op<T>(value: T): Operation<T>;

export function hosts(): void {
  const host = createHost();
  expectType<Host>()(host);
  const task = host.spawn(() => op(7));
  expectType<Task<number>>()(task);
  expectType<PumpResult>()(host.pump());
  expectType<number>()(host.now());
  // @ts-expect-error spawn takes a body function, not an operation
  host.spawn(op(7));
}

export function virtualTime(): void {
  expectType<Promise<string>>()(runVirtual(() => op("v")));
}

export function* nodeApis(): Operation<void> {
  const size = yield* withTmpdir(function* (dir) {
    expectType<string>()(dir);
    const file = yield* openFile(`${dir}/a`, "w+");
    void file;
    const entries = yield* readDir(dir, { sort: true });
    return entries.length;
  });
  expectType<number>()(size);
  const output = yield* runProcess("echo", ["hi"]);
  void output;
  // @ts-expect-error the arguments are a list of strings
  yield* runProcess("echo", "hi");
}
