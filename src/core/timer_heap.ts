/**
 * The scheduler's timers: a binary min-heap ordered by (deadline, creation
 * order), with lazy deletion. A cancelled entry is only marked dead and is
 * skipped when it surfaces; when dead entries outnumber live ones the heap is
 * rebuilt, so timeouts that are set and cancelled in a loop cannot pile up.
 */

let nextSeq = 0;

/** One armed deadline. Subclasses say what firing means. */
export abstract class TimerEntry {
  deadline = 0;
  seq = 0;
  /** True once cancelled or fired; a dead entry never fires. */
  dead = false;
  /** Called once, between scheduling rounds, when the deadline has passed. */
  abstract fire(): void;
}

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

export class TimerHeap {
  private heap: TimerEntry[] = [];
  private deadCount = 0;

  /** Number of entries in the heap, dead ones included. */
  get size(): number {
    return this.heap.length;
  }

  /** Number of entries that can still fire. */
  get liveCount(): number {
    return this.heap.length - this.deadCount;
  }

  add(entry: TimerEntry, deadline: number): void {
    entry.deadline = deadline;
    entry.seq = nextSeq++;
    entry.dead = false;
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Marks an entry dead; it stays in the heap until it surfaces. */
  remove(entry: TimerEntry): void {
    if (entry.dead) return;
    entry.dead = true;
    this.deadCount++;
    if (this.deadCount > 64 && this.deadCount * 2 > this.heap.length) this.compact();
  }

  /** The earliest live deadline, or undefined when no live entry remains. */
  nextDeadline(): number | undefined {
    this.dropDeadTop();
    return this.heap.length === 0 ? undefined : this.heap[0]!.deadline;
  }

  /**
   * Fires, in (deadline, creation) order, every live entry whose deadline is at
   * or before `now`. Entries added while firing are considered too.
   */
  fireDue(now: number): void {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      if (!top.dead && top.deadline > now) return;
      this.popTop();
      if (top.dead) {
        this.deadCount--;
        continue;
      }
      top.dead = true;
      top.fire();
    }
  }

  private dropDeadTop(): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.dead) {
      this.popTop();
      this.deadCount--;
    }
  }

  private popTop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!before(child, last)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
  }

  private compact(): void {
    const live = this.heap.filter((e) => !e.dead);
    live.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    this.heap = live;
    this.deadCount = 0;
  }
}
