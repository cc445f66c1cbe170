/**
 * A growable FIFO ring buffer: O(1) push and shift, no `Array.shift`, no
 * allocation once it has grown to the working size.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private mask: number;
  private head = 0;
  /** Number of items in the ring. */
  size = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.items = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  push(item: T): void {
    if (this.size > this.mask) this.grow();
    this.items[(this.head + this.size) & this.mask] = item;
    this.size++;
  }

  /** Removes and returns the oldest item; the ring must not be empty. */
  shift(): T {
    const i = this.head;
    const item = this.items[i] as T;
    this.items[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.size--;
    return item;
  }

  /** Keeps only the items for which `keep` is true, in order. */
  retain(keep: (item: T) => boolean): void {
    const n = this.size;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const item = this.items[(this.head + i) & this.mask] as T;
      if (keep(item)) this.items[(this.head + kept++) & this.mask] = item;
    }
    for (let i = kept; i < n; i++) this.items[(this.head + i) & this.mask] = undefined;
    this.size = kept;
  }

  private grow(): void {
    const old = this.items;
    const cap = old.length;
    const next = new Array<T | undefined>(cap * 2).fill(undefined);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.head = 0;
    this.mask = cap * 2 - 1;
  }
}
