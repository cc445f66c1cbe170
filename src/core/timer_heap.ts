/**
 * The scheduler's timers: a binary min-heap ordered by (deadline, creation
 * order), with lazy deletion. A cancelled entry is only marked dead and is
 * skipped when it surfaces; when dead entries outnumber live ones the heap is
 * rebuilt, so timeouts that are set and cancelled in a loop cannot pile up.
 *
 * The keys live in two typed arrays beside the array of entries, so a sift
 * compares numbers laid out side by side instead of chasing a pointer to an
 * entry object per comparison (with 100k timers, that is the difference
 * between cache hits and misses).
 */

let nextSeq = 0;

/** One armed deadline. Subclasses say what firing means. */
export abstract class TimerEntry {
  /** True once cancelled or fired; a dead entry never fires. */
  dead = false;
  /** Called once, between scheduling rounds, when the deadline has passed. */
  abstract fire(): void;
}

export class TimerHeap {
  private entries: (TimerEntry | undefined)[] = [];
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

  /** Arms `entry` for `deadline`. The entry must not be in the heap already. */
  add(entry: TimerEntry, deadline: number): void {
    entry.dead = false;
    if (this.count === this.deadlines.length) this.grow();
    this.siftUp(this.count++, entry, deadline, nextSeq++);
  }

  /** Marks an entry dead; it stays in the heap until it surfaces. */
  remove(entry: TimerEntry): void {
    if (entry.dead) return;
    entry.dead = true;
    this.deadCount++;
    if (this.deadCount > 64 && this.deadCount * 2 > this.count) this.compact();
  }

  /** The earliest live deadline, or undefined when no live entry remains. */
  nextDeadline(): number | undefined {
    while (this.count > 0 && this.entries[0]!.dead) {
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
      if (!top.dead && this.deadlines[0]! > now) return;
      this.popTop();
      if (top.dead) {
        this.deadCount--;
        continue;
      }
      top.dead = true;
      top.fire();
    }
  }

  private siftUp(index: number, entry: TimerEntry, deadline: number, seq: number): void {
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
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    const last = entries[n]!;
    const lastDeadline = deadlines[n]!;
    const lastSeq = seqs[n]!;
    entries[n] = undefined;
    if (n === 0) return;
    let i = 0;
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
      if (cd > lastDeadline || (cd === lastDeadline && seqs[c]! > lastSeq)) break;
      entries[i] = entries[c];
      deadlines[i] = cd;
      seqs[i] = seqs[c]!;
      i = c;
    }
    entries[i] = last;
    deadlines[i] = lastDeadline;
    seqs[i] = lastSeq;
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

  private compact(): void {
    const live: { entry: TimerEntry; deadline: number; seq: number }[] = [];
    for (let i = 0; i < this.count; i++) {
      const entry = this.entries[i]!;
      if (!entry.dead) live.push({ entry, deadline: this.deadlines[i]!, seq: this.seqs[i]! });
    }
    // A sorted array is a valid heap.
    live.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
    this.entries = live.map((x) => x.entry);
    for (let i = 0; i < live.length; i++) {
      this.deadlines[i] = live[i]!.deadline;
      this.seqs[i] = live[i]!.seq;
    }
    this.count = live.length;
    this.deadCount = 0;
  }
}
