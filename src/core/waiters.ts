/**
 * A FIFO of waiter records in which a waiter that gives up leaves a tombstone
 * (its record's `task` cleared) instead of being searched for and removed.
 * Tombstones are skipped when they reach the front, and the list is compacted
 * when they outnumber the live waiters, so a loop of timed-out waits on an
 * idle primitive cannot grow memory without bound.
 */
import type { Coroutine } from "./coroutine.ts";
import { Ring } from "./ring.ts";

/** Compact only past this many tombstones (and when they are the majority). */
const COMPACT_AFTER = 32;

export class WaiterList<W extends { task: Coroutine | null }> {
  private readonly ring = new Ring<W>();
  private tombstones = 0;

  /** Entries, tombstones included. */
  get size(): number {
    return this.ring.size;
  }

  push(waiter: W): void {
    this.ring.push(waiter);
  }

  /** Removes and returns the oldest live waiter (its task still set), or null. */
  shiftLive(): W | null {
    const ring = this.ring;
    while (ring.size > 0) {
      const waiter = ring.shift();
      if (waiter.task !== null) return waiter;
      this.tombstones--;
    }
    return null;
  }

  /**
   * Marks `waiter` as given up. A record whose task is already cleared was
   * taken off the list by a waker (a close, say) and is left alone.
   */
  tombstone(waiter: W): void {
    if (waiter.task === null) return;
    waiter.task = null;
    if (++this.tombstones > COMPACT_AFTER && this.tombstones * 2 > this.ring.size) {
      this.ring.retain((w) => w.task !== null);
      this.tombstones = 0;
    }
  }
}
