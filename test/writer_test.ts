/**
 * `WriterBase` / `WriteGate` (weft/io `Writer`): `write` of strings and bytes,
 * `writeReader`, bad input, the one-writer rule, closed writers, and the
 * cancellation entry check.
 */
import { test } from "node:test";
import "./unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, withTaskGroup } from "../src/index.ts";
import { runVirtual } from "../src/testing.ts";
import { CollectingWriter } from "./io_support.ts";

test("a write started in an already-cancelled task throws Cancelled and writes nothing, even an empty one", async () => {
  const { outcomes, written } = await runVirtual(function* () {
    const w = new CollectingWriter();
    const outcomes: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      for (const data of ["abc", new Uint8Array(0)]) {
        const task = group.spawn(function* () {
          try {
            yield* w.write(data);
            outcomes.push("ran");
          } catch (e) {
            outcomes.push(e instanceof Cancelled ? "Cancelled" : String(e));
          }
        });
        task.cancel();
      }
    });
    return { outcomes, written: w.chunks.length };
  });
  assert.deepEqual(outcomes, ["Cancelled", "Cancelled"]);
  assert.equal(written, 0);
});
