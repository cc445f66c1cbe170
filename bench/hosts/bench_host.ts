/**
 * A host the benchmark runs cells on. `start` finds out whether the host can
 * run at all (and its version); each `runCell` is one fresh process, page or
 * engine; `close` releases whatever `start` started.
 */
import type { HostId } from "../catalog.ts";
import type { CellOutcome, CellSpec } from "../measure.ts";

export type HostStart = { version: string } | { unavailable: string };

export interface BenchHost {
  readonly id: HostId;
  start(): Promise<HostStart>;
  runCell(spec: CellSpec, timeoutMs: number): Promise<CellOutcome>;
  close(): Promise<void>;
}

/** The `CELL {...}` line a cell prints, or a failure that says what the process did instead. */
export function parseCellOutput(output: string, code: number | null): CellOutcome {
  const line = output
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("CELL "));
  if (line !== undefined) return JSON.parse(line.slice(5)) as CellOutcome;
  const tail = output.trim().split("\n").slice(-6).join(" | ").slice(0, 600);
  return { status: "failed", error: `the cell process exited with ${code} and no result${tail === "" ? "" : `: ${tail}`}` };
}
