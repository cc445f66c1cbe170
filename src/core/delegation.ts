/**
 * `Delegation`: a hand-written operation that runs another operation inside
 * itself, as `yield*` would, with steps of its own before it starts, when it
 * completes, and however else it ends.
 *
 * The hot IO operations (`Reader.readSome()`, `Writer.write()`) are written
 * this way instead of as generators: a task resuming through a generator
 * level pays for restoring and saving its frame, while a delegation is one
 * method call and a few field reads. Every `yield*` level between a task's
 * body and the operation it waits on is walked on each resume, so the levels
 * a read or a write adds are paid on every message a server handles.
 */
import { DONE_VOID, SuspensionPoint, type Operation } from "./operation.ts";

export abstract class Delegation<T> extends SuspensionPoint<T> {
  /** The operation delegated to; null before the start and once it has ended. */
  protected inner: Operation<unknown> | null = null;
  #started = false;

  /**
   * The first step: checks and takes what the operation needs, then returns
   * {@link Delegation.delegate} (or a result of its own, having delegated
   * nothing).
   */
  protected abstract start(): IteratorResult<unknown, T>;

  /** The operation to delegate to now (called by {@link Delegation.delegate}; it may throw). */
  protected abstract open(): Operation<unknown>;

  /**
   * A step of the inner operation, passed up while it has not completed (its
   * value is the scheduler's marker); once it has, the delegation's own
   * result, after its own steps (which must clear `inner`).
   */
  protected abstract took(result: IteratorResult<unknown, unknown>): IteratorResult<unknown, T>;

  /** The inner operation threw or was closed: undo what {@link Delegation.start} took, and clear `inner`. */
  protected abstract finish(): void;

  /** Delegates to what {@link Delegation.open} gives: its first step, through {@link Delegation.took}. */
  protected delegate(): IteratorResult<unknown, T> {
    let inner: Operation<unknown>;
    try {
      inner = this.open();
    } catch (error) {
      this.finish();
      throw error;
    }
    this.inner = inner;
    return this.#step(inner, undefined, false);
  }

  next(value?: unknown): IteratorResult<unknown, T> {
    const inner = this.inner;
    if (inner === null) {
      // Run once, as a generator: finished, it stays finished.
      if (this.#started) return DONE_VOID as IteratorResult<unknown, T>;
      this.#started = true;
      return this.start();
    }
    return this.#step(inner, value, false);
  }

  throw(error: unknown): IteratorResult<unknown, T> {
    const inner = this.inner;
    if (inner === null) {
      // Before the start or after the end: as a generator would, it is finished now and throws.
      this.#started = true;
      throw error;
    }
    return this.#step(inner, error, true);
  }

  override return(value: T): IteratorResult<unknown, T> {
    const inner = this.inner;
    this.#started = true;
    if (inner !== null) {
      try {
        inner.return(undefined);
      } finally {
        this.finish();
      }
    }
    return { done: true, value };
  }

  /** Resumes the inner operation with `sent` (thrown into it when `throwing`); finishes if it throws. */
  #step(inner: Operation<unknown>, sent: unknown, throwing: boolean): IteratorResult<unknown, T> {
    let result: IteratorResult<unknown, unknown>;
    try {
      result = throwing ? inner.throw(sent) : inner.next(sent);
    } catch (error) {
      this.finish();
      throw error;
    }
    return this.took(result);
  }
}
