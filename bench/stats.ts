/** The statistics the report gives for a cell's samples. */

export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median(): xs is empty");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** A group of processes of one cell that settled at about the same speed. */
export interface Mode {
  /** The median of those processes' own medians, ns/op. */
  median: number;
  processes: number;
}

/**
 * Two process medians further apart than this belong to different modes: V8
 * sometimes settles a whole process on slower machine code (about 1.8× on
 * cond_var_signal), while run-to-run noise within a mode stays well below it.
 */
export const MODE_GAP = 1.35;

/**
 * The speeds a cell's processes settled at, fastest first, when they fell
 * into more than one mode (sorted process medians split where one is more
 * than {@link MODE_GAP} times the one before); undefined for a single mode.
 */
export function processModes(samplesByProcess: readonly (readonly number[])[]): Mode[] | undefined {
  const medians = samplesByProcess.filter((s) => s.length > 0).map((s) => median(s));
  if (medians.length < 2) return undefined;
  medians.sort((a, b) => a - b);
  const modes: number[][] = [[medians[0]!]];
  for (let i = 1; i < medians.length; i++) {
    if (medians[i]! > medians[i - 1]! * MODE_GAP) modes.push([]);
    modes[modes.length - 1]!.push(medians[i]!);
  }
  return modes.length < 2 ? undefined : modes.map((m) => ({ median: median(m), processes: m.length }));
}
