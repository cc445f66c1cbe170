/**
 * A FIFO of waiter records in which a waiter that gives up leaves a tombstone
 * (its record's `task` cleared) instead of being searched for and removed.
 * Tombstones are skipped when they reach the front, and the list is compacted
 * when they outnumber the live waiters, so a loop of timed-out waits on an
 * idle primitive cannot grow memory without bound.
 *
 * A record that a waker took off the list can be handed back with `recycle`
 * once its waiter has resumed; the next `enqueue` reuses it, so a steady
 * producer/consumer pair allocates nothing per blocked operation. A tombstone
 * is never recycled: the list may still hold it.
 */
import { Flag, type Coroutine } from "./coroutine.ts";
import { Ring } from "./ring.ts";

/** Compact only past this many tombstones (and when they are the majority). */
const COMPACT_AFTER = 32;

/**
 * What a waiter list holds: the waiting task (null once it gave up or was
 * woken), and whether a hand-off (a value, a permit, a signal) reached it.
 * Subclasses add what is handed and extend `reset`.
 */
export class WaiterRecord {
  handed = false;
  constructor(public task: Coroutine | null) {}
  /** Makes a recycled record a fresh one for `task`. */
  reset(task: Coroutine): void {
    this.task = task;
    this.handed = false;
  }
}

/** Makes a plain record, for primitives whose waiters carry nothing but the hand-off. */
export const newWaiterRecord = (task: Coroutine): WaiterRecord => new WaiterRecord(task);

export class WaiterList<W extends WaiterRecord> {
  private readonly ring = new Ring<W>();
  private tombstones = 0;
  private spare: W | null = null;

  /** Entries, tombstones included. */
  get size(): number {
    return this.ring.size;
  }

  /** Entries that have not given up (a cancelled waiter counts until it leaves). */
  get live(): number {
    return this.ring.size - this.tombstones;
  }

  /** Queues a waiter for `task`, in a recycled record if one is kept, else in `create(task)`. */
  enqueue(task: Coroutine, create: (task: Coroutine) => W): W {
    let waiter = this.spare;
    if (waiter === null) waiter = create(task);
    else {
      this.spare = null;
      waiter.reset(task);
    }
    this.ring.push(waiter);
    return waiter;
  }

  /** Keeps `waiter`, which a waker took off the list and whose task has resumed, for reuse. */
  recycle(waiter: W): void {
    this.spare = waiter;
  }

  /**
   * Removes and returns the oldest live waiter, or null. A waiter whose task
   * was cancelled (and is not shielded) before this hand-off is passed over,
   * its record cleared: the cancellation came first, so it must not be handed
   * a value, permit or signal that its caller would then never see (a
   * timeout around it would drop the value and leak the permit). It throws
   * `Cancelled` when it resumes, having taken nothing.
   */
  shiftLive(): W | null {
    const ring = this.ring;
    while (ring.size > 0) {
      const waiter = ring.shift();
      const task = waiter.task;
      if (task === null) this.tombstones--;
      else if ((task.flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED) waiter.task = null;
      else return waiter;
    }
    return null;
  }

  /**
   * Takes the oldest live waiter off the list and wakes it, marked `handed`
   * when `handed` is true (false: woken empty-handed, by a close). The caller
   * fills in what was handed before the waiter runs. Null if none waits.
   */
  wakeFirst(handed: boolean): W | null {
    const waiter = this.shiftLive();
    if (waiter === null) return null;
    const task = waiter.task!;
    waiter.handed = handed;
    waiter.task = null;
    task.scheduler.wake(task);
    return waiter;
  }

  /**
   * The hand-off rule every primitive shares, for a waiting operation's
   * `throw`: a waiter that was handed something in the same round as its
   * cancellation keeps it (the hand-off came first, so the operation
   * completed) and this returns true; any other waiter leaves the list having
   * taken nothing, and this returns false.
   */
  keepsHandOff(waiter: W): boolean {
    if (waiter.handed) return true;
    this.tombstone(waiter);
    return false;
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
