/**
 * The scheduler's timers: a binary min-heap ordered by (deadline, creation
 * order), with lazy deletion. A cancelled entry is only marked dead and is
 * skipped when it surfaces; when dead entries outnumber live ones the heap is
 * rebuilt, so timeouts that are set and cancelled in a loop cannot pile up.
 *
 * Each arming gets a sequence number, kept in the heap beside the deadline
 * and on the entry as its `timerKey`; a slot is live while the two agree. So
 * an entry can be armed again while a dead copy of it is still in the heap
 * (a sleeping task is its own entry, and sleeps again after a cancelled
 * sleep): the old copy no longer matches and is skipped.
 *
 * The keys live in two typed arrays beside the array of entries, so a sift
 * compares numbers laid out side by side instead of chasing a pointer to an
 * entry object per comparison (with 100k timers, that is the difference
 * between cache hits and misses).
 */

let nextSeq = 0;
/** Added to the sequence number of a late entry: far above any count of armings, still exact in a double. */
const LATE = 2 ** 50;

/**
 * What the heap holds: anything with a `timerKey` slot and a `fire` method
 * (a task in `sleep` is one itself, see `Coroutine`).
 */
export interface TimerTarget {
  /**
   * The sequence number of the entry's current arming; anything else
   * (negative, or not a number) means it is not armed. Written by the heap.
   */
  timerKey: unknown;
  /** Called once, between scheduling rounds, when the deadline has passed. */
  fire(): void;
}

/** One armed deadline. Subclasses say what firing means. */
export abstract class TimerEntry implements TimerTarget {
  timerKey: unknown = -1;
  abstract fire(): void;
}

/** Whether `entry` is armed (in the heap as a live slot). */
export function isArmed(entry: TimerTarget): boolean {
  const key = entry.timerKey;
  return typeof key === "number" && key >= 0;
}

export class TimerHeap {
  private entries: (TimerTarget | undefined)[] = [];
  private deadlines = new Float64Array(64);
  private seqs = new Float64Array(64);
  private count = 0;
  private deadCount = 0;

  /** Number of entries in the heap, dead ones included. */
  get size(): number {
    return this.count;
  }

  /** Number of entries that can still fire. */
  get liveCount(): number {
    return this.count - this.deadCount;
  }

  /**
   * Arms `entry` for `deadline`. The entry must not be armed already. A
   * `late` entry fires after every other entry due at the same time, even
   * one armed after it (a timeout's deadline: what the body waits for at that
   * very instant comes first).
   */
  add(entry: TimerTarget, deadline: number, late = false): void {
    const seq = late ? LATE + nextSeq++ : nextSeq++;
    entry.timerKey = seq;
    if (this.count === this.deadlines.length) this.grow();
    this.siftUp(this.count++, entry, deadline, seq);
  }

  /** Disarms an entry; its slot stays in the heap, dead, until it surfaces. */
  remove(entry: TimerTarget): void {
    if (!isArmed(entry)) return;
    entry.timerKey = -1;
    this.deadCount++;
    if (this.deadCount > 64 && this.deadCount * 2 > this.count) this.compact();
  }

  /** The earliest live deadline, or undefined when no live entry remains. */
  nextDeadline(): number | undefined {
    while (this.count > 0 && this.entries[0]!.timerKey !== this.seqs[0]) {
      this.popTop();
      this.deadCount--;
    }
    return this.count === 0 ? undefined : this.deadlines[0];
  }

  /**
   * Fires, in (deadline, creation) order, every live entry whose deadline is at
   * or before `now`. Entries added while firing are considered too.
   */
  fireDue(now: number): void {
    while (this.count > 0) {
      const top = this.entries[0]!;
      const live = top.timerKey === this.seqs[0];
      if (live && this.deadlines[0]! > now) return;
      this.popTop();
      if (!live) {
        this.deadCount--;
        continue;
      }
      top.timerKey = -1;
      top.fire();
    }
  }

  private siftUp(index: number, entry: TimerTarget, deadline: number, seq: number): void {
    const entries = this.entries;
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pd = deadlines[parent]!;
      if (pd < deadline || (pd === deadline && seqs[parent]! < seq)) break;
      entries[i] = entries[parent];
      deadlines[i] = pd;
      seqs[i] = seqs[parent]!;
      i = parent;
    }
    entries[i] = entry;
    deadlines[i] = deadline;
    seqs[i] = seq;
  }

  private popTop(): void {
    const n = --this.count;
    const entries = this.entries;
    const last = entries[n]!;
    entries[n] = undefined;
    if (n !== 0) this.siftDown(0, last, this.deadlines[n]!, this.seqs[n]!);
  }

  private grow(): void {
    const size = this.deadlines.length * 2;
    const deadlines = new Float64Array(size);
    deadlines.set(this.deadlines);
    const seqs = new Float64Array(size);
    seqs.set(this.seqs);
    this.deadlines = deadlines;
    this.seqs = seqs;
  }

  /**
   * Drops the dead slots: the live ones move to the front (in place, no
   * allocation per entry) and the heap is rebuilt bottom-up in O(n), instead
   * of sorting, so cancelling a million sleeps does not pay n log n again at
   * each halving.
   */
  private compact(): void {
    const entries = this.entries;
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    const count = this.count;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const entry = entries[i]!;
      if (entry.timerKey !== seqs[i]) continue;
      entries[n] = entry;
      deadlines[n] = deadlines[i]!;
      seqs[n] = seqs[i]!;
      n++;
    }
    // Free the tail so dropped entries can be collected, and let the array shrink.
    entries.length = n;
    this.count = n;
    this.deadCount = 0;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, entries[i]!, deadlines[i]!, seqs[i]!);
  }

  /** Puts (entry, deadline, seq) at `index` or below it, where it belongs among the first `count` slots. */
  private siftDown(index: number, entry: TimerTarget, deadline: number, seq: number): void {
    const n = this.count;
    const entries = this.entries;
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    let i = index;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let cd = deadlines[l]!;
      if (r < n) {
        const rd = deadlines[r]!;
        if (rd < cd || (rd === cd && seqs[r]! < seqs[l]!)) {
          c = r;
          cd = rd;
        }
      }
      if (cd > deadline || (cd === deadline && seqs[c]! > seq)) break;
      entries[i] = entries[c];
      deadlines[i] = cd;
      seqs[i] = seqs[c]!;
      i = c;
    }
    entries[i] = entry;
    deadlines[i] = deadline;
    seqs[i] = seq;
  }
}
