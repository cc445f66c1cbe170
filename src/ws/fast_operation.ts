/**
 * `FastOperation`: the base of the WebSocket's hand-written operations
 * (receiving a whole message, sending one).
 *
 * A server answering small messages spends much of each message resuming
 * generators: every `yield*` level between the task's body and the read it
 * waits on is walked on each resume, and a large generator saves and
 * restores its whole frame each time. These operations are plain objects
 * instead. Their common case (the next frame already whole, a socket with
 * room) is a few method calls; while it waits, a resume is one call into the
 * transport's own operation (`waiting`). Every other case is handed to a
 * generator that does the whole job (`delegateTo`), from wherever the
 * operation had got to: the generator's steps and result become the
 * operation's.
 *
 * As a generator, it runs once: finished (returned, thrown or closed), it
 * stays finished.
 */
import { DONE_VOID, SuspensionPoint, type Operation } from "../core/operation.ts";

const FRESH = 0;
/** Waiting on an operation of its own (`inner`), stepped by {@link FastOperation.resume}. */
const WAITING = 1;
/** Handed over to a generator (`inner`). */
const DELEGATED = 2;
const FINISHED = 3;

export abstract class FastOperation<T> extends SuspensionPoint<T> {
  #state = FRESH;
  /** The operation waited on or delegated to; null otherwise. */
  #inner: Operation<unknown> | null = null;

  /** The first step: the common case's work, or {@link FastOperation.wait} or {@link FastOperation.delegateTo}. */
  protected abstract start(): IteratorResult<unknown, T>;

  /**
   * Called with the result of the operation being waited on once it has
   * completed; returns the operation's own next step (done, another wait or
   * a delegation).
   */
  protected abstract waited(value: unknown): IteratorResult<unknown, T>;

  /**
   * The operation waited on threw (it is finished): returns the error this
   * operation throws, having released what it holds.
   */
  protected abstract waitFailed(error: unknown): unknown;

  /** The operation was closed while waiting (the wait is closed already): release what it holds. */
  protected abstract abandon(): void;

  next(value?: unknown): IteratorResult<unknown, T> {
    const state = this.#state;
    if (state === WAITING) return this.#stepWait(value, false);
    if (state === DELEGATED) return this.#stepDelegate(value, false);
    if (state === FINISHED) return DONE_VOID as IteratorResult<unknown, T>;
    this.#state = FINISHED;
    const step = this.start();
    return step === AGAIN ? this.#stepWait(undefined, false) : step;
  }

  throw(error: unknown): IteratorResult<unknown, T> {
    const state = this.#state;
    if (state === WAITING) return this.#stepWait(error, true);
    if (state === DELEGATED) return this.#stepDelegate(error, true);
    this.#state = FINISHED;
    throw error;
  }

  override return(value: T): IteratorResult<unknown, T> {
    const state = this.#state;
    const inner = this.#inner;
    this.#state = FINISHED;
    this.#inner = null;
    if (inner !== null) {
      try {
        inner.return(undefined);
      } finally {
        if (state === WAITING) this.abandon();
      }
    }
    return { done: true, value };
  }

  /**
   * Waits on `operation` (a transport's read or write): the step to return
   * from {@link FastOperation.start} or {@link FastOperation.waited}. Its
   * steps are passed up while it suspends; its result goes to `waited`, its
   * error to `waitFailed`. Waits that complete at once run one after another
   * in a loop, not by recursion, so any number of them in a row uses no
   * stack.
   */
  protected wait(operation: Operation<unknown>): IteratorResult<unknown, T> {
    this.#inner = operation;
    this.#state = WAITING;
    return AGAIN as IteratorResult<unknown, T>;
  }

  /** Hands the rest of the job to `generator`: its steps and result are this operation's from now on. */
  protected delegateTo(generator: Operation<T>): IteratorResult<unknown, T> {
    this.#inner = generator;
    this.#state = DELEGATED;
    return this.#stepDelegate(undefined, false);
  }

  #stepWait(sent: unknown, throwing: boolean): IteratorResult<unknown, T> {
    let result: IteratorResult<unknown, unknown>;
    for (;;) {
      const inner = this.#inner!;
      try {
        result = throwing ? inner.throw(sent) : inner.next(sent);
      } catch (error) {
        this.#inner = null;
        this.#state = FINISHED;
        throw this.waitFailed(error);
      }
      if (result.done !== true) return result as IteratorResult<unknown, never>;
      this.#inner = null;
      this.#state = FINISHED;
      const step = this.waited(result.value);
      if (step !== AGAIN) return step;
      sent = undefined;
      throwing = false;
    }
  }

  #stepDelegate(sent: unknown, throwing: boolean): IteratorResult<unknown, T> {
    const inner = this.#inner!;
    let result: IteratorResult<unknown, T>;
    try {
      result = (throwing ? inner.throw(sent) : inner.next(sent)) as IteratorResult<unknown, T>;
    } catch (error) {
      this.#inner = null;
      this.#state = FINISHED;
      throw error;
    }
    if (result.done === true) {
      this.#inner = null;
      this.#state = FINISHED;
    }
    return result;
  }
}

/** The step {@link FastOperation.wait} returns: never passed up, only compared with. */
const AGAIN: IteratorResult<unknown, never> = Object.freeze({ done: false, value: undefined }) as IteratorResult<unknown, never>;
