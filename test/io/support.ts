/**
 * Shared pieces for the weft/io tests: a reader that delivers scripted chunks
 * over (virtual or real) time, a writer that records what reached it, and
 * byte helpers that need no `Buffer` (the tests run on every host).
 */
import { Cancelled, pause, sleep, withTaskGroup, type Operation, type TaskGroup } from "../../src/index.ts";
import { ReaderBase, WriterBase } from "../../src/io.ts";
import { keepsHandedOver, type GiveBack } from "../../src/io/writer.ts";

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Joins byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `n` bytes of a repeating, position-dependent pattern (so a lost or moved byte shows). */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/** One scripted step: wait `delay` ms, then deliver `chunk` (`undefined`: end of stream). */
export interface Step {
  delay?: number;
  chunk: Uint8Array | string | undefined;
}

/**
 * A reader whose `readChunk` waits each step's delay (cancellable, and the
 * step is consumed only once the wait is over, so a cancelled read takes
 * nothing) and then returns its chunk. After the script, end of stream.
 */
export class ScriptedReader extends ReaderBase {
  #steps: Step[];
  #closed = false;
  /** How many times `readChunk` was called, and the size hints it got. */
  readonly hints: number[] = [];

  constructor(steps: ReadonlyArray<Step | Uint8Array | string>) {
    super();
    this.#steps = steps.map((s) => (typeof s === "string" || s instanceof Uint8Array ? { chunk: s } : s));
  }

  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    this.hints.push(sizeHint);
    const step = this.#steps[0];
    if (step === undefined) return undefined;
    if (step.delay !== undefined && step.delay > 0) yield* sleep(step.delay);
    this.#steps.shift();
    return typeof step.chunk === "string" ? utf8(step.chunk) : step.chunk;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}

/** A reader whose `readChunk` is whatever the test says, counting its calls. */
export class CustomReader extends ReaderBase {
  calls = 0;
  closed = false;
  constructor(private readonly chunk: () => Operation<unknown>) {
    super();
  }
  protected readChunk(): Operation<Uint8Array | undefined> {
    this.calls++;
    return this.chunk() as Operation<Uint8Array | undefined>;
  }
  protected get isClosed(): boolean {
    return this.closed;
  }
  close(): void {
    this.closed = true;
  }
}

/** A writer whose `writeChunk` is whatever the test says (a sink that does not keep handed-over bytes). */
export class CustomWriter extends WriterBase {
  constructor(private readonly chunk: (bytes: Uint8Array, giveBack: GiveBack | null) => Operation<void>) {
    super();
  }
  protected writeChunk(bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> {
    return this.chunk(bytes, giveBack);
  }
  protected get isClosed(): boolean {
    return false;
  }
  close(): void {}
}

/** A writer that records a copy of every chunk it accepts, optionally after a delay. */
export class CollectingWriter extends WriterBase {
  readonly chunks: Uint8Array[] = [];
  #closed = false;

  constructor(private readonly delay = 0) {
    super();
  }

  /** Takes handed-over bytes (see `writeTransferred`), as a socket does. */
  readonly [keepsHandedOver] = true;
  /** How many writes handed their bytes over: those are kept as they are, never given back. */
  transfers = 0;

  protected *writeChunk(bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> {
    if (this.delay > 0) yield* sleep(this.delay);
    // Kept without a copy, as a socket keeps them: a writer that changed them afterwards would corrupt `chunks`.
    if (giveBack !== null) this.transfers++;
    this.chunks.push(giveBack !== null ? bytes : bytes.slice());
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }

  /** Everything written so far, as one array. */
  bytes(): Uint8Array {
    return concat(this.chunks);
  }

  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}

/**
 * A sink like a socket: it takes a write's bytes at once, then waits `delay`
 * ms (the kernel draining), and a write cancelled while it waits keeps its
 * bytes queued (`cancelledWrite` is "queued").
 */
export class QueueingWriter extends WriterBase {
  readonly chunks: Uint8Array[] = [];
  #closed = false;

  constructor(private readonly delay: number) {
    super();
  }

  get cancelledWrite(): "queued" {
    return "queued";
  }

  /** Takes handed-over bytes (see `writeTransferred`), as a socket does. */
  readonly [keepsHandedOver] = true;
  /** How many writes handed their bytes over: those are kept as they are, never given back. */
  transfers = 0;

  protected *writeChunk(bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> {
    if (giveBack !== null) this.transfers++;
    this.chunks.push(giveBack !== null ? bytes : bytes.slice());
    yield* sleep(this.delay);
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }

  text(): string {
    return new TextDecoder().decode(concat(this.chunks));
  }
}

/**
 * A sink like a socket that gives handed-over bytes back once it has "sent"
 * them: it takes a write's bytes at once (keeping handed-over ones as they
 * are), waits `delay` ms, and keeps a cancelled write's bytes queued. A loan
 * is given back `holdFor` writes later (0: before the write returns), or by
 * {@link LendingWriter.settle}; just before, the bytes are checked against a
 * snapshot taken when they were handed over, so a writer that changed them
 * while they were out is caught (`changedWhileLent`). With `giveBackTwice`,
 * each loan is given back twice, as a faulty sink might.
 */
export class LendingWriter extends WriterBase {
  readonly chunks: Uint8Array[] = [];
  /** Takes handed-over bytes (see `writeTransferred`), as a socket does. */
  readonly [keepsHandedOver] = true;
  /** Loans whose bytes had changed by the time they were given back. */
  changedWhileLent = 0;
  /** Every array buffer that was lent, once each. */
  readonly lentBuffers = new Set<ArrayBufferLike>();
  /** Every loan, in order, for a test that gives them back by hand (with `holdFor` Infinity). */
  readonly loans: { bytes: Uint8Array; snapshot: Uint8Array; giveBack: GiveBack }[] = [];
  #loans: { bytes: Uint8Array; snapshot: Uint8Array; giveBack: GiveBack; due: number }[] = [];
  #writes = 0;
  #closed = false;

  constructor(private readonly options: { holdFor: number; delay?: number; giveBackTwice?: boolean }) {
    super();
  }

  get cancelledWrite(): "queued" {
    return "queued";
  }

  protected *writeChunk(bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> {
    this.#writes++;
    const snapshot = bytes.slice();
    this.chunks.push(snapshot);
    if (giveBack !== null) {
      this.lentBuffers.add(bytes.buffer);
      this.loans.push({ bytes, snapshot, giveBack });
      this.#loans.push({ bytes, snapshot, giveBack, due: this.#writes + this.options.holdFor });
    }
    this.#giveBackDue(this.#writes);
    const delay = this.options.delay ?? 0;
    if (delay > 0) yield* sleep(delay);
  }

  /** Gives back every loan still out. */
  settle(): void {
    this.#giveBackDue(Number.POSITIVE_INFINITY);
  }

  #giveBackDue(now: number): void {
    const due = this.#loans.filter((loan) => loan.due <= now);
    this.#loans = this.#loans.filter((loan) => loan.due > now);
    for (const loan of due) {
      if (loan.bytes.some((byte, i) => byte !== loan.snapshot[i])) this.changedWhileLent++;
      loan.giveBack();
      if (this.options.giveBackTwice === true) loan.giveBack();
    }
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}

/**
 * Runs `body` in a task of its own in a group and cancels that task after
 * `ms`: "done" if `body` finished first, "Cancelled" if the cancellation
 * reached it, else the error it threw.
 */
export function* outcomeCancelledAfter(ms: number, body: () => Operation<unknown>): Operation<string> {
  let outcome = "";
  yield* withTaskGroup<void>(function* (group) {
    const task = group.spawn(function* () {
      try {
        yield* body();
        outcome = "done";
      } catch (error) {
        outcome = error instanceof Cancelled ? "Cancelled" : String(error);
        throw error;
      }
    });
    yield* sleep(ms);
    task.cancel();
  });
  return outcome;
}

/** What {@link readCancelledAfter} returns for a read that was cancelled. */
export const CANCELLED: unique symbol = Symbol("cancelled");

/**
 * One read in a task of its own in `group`, cancelled after `cancelAfter`
 * pauses of a second task (`null`: never): the read's chunk (`undefined` at
 * the end), or {@link CANCELLED} if the cancellation won. For property tests
 * of "a cancelled read loses nothing".
 */
export function* readCancelledAfter(
  group: TaskGroup<void>,
  read: () => Operation<Uint8Array | undefined>,
  cancelAfter: number | null,
): Operation<Uint8Array | undefined | typeof CANCELLED> {
  const reader = group.spawn(read);
  if (cancelAfter !== null) {
    group.startSoon(function* () {
      for (let i = 0; i < cancelAfter; i++) yield* pause();
      reader.cancel();
    });
  }
  try {
    return yield* reader.wait();
  } catch (error) {
    if (!(error instanceof Cancelled)) throw error;
    return CANCELLED;
  }
}

/**
 * The calls of a scripted source or sink (a `readChunk`, a `writeChunk`), each
 * taking the next step: one that throws at once ("at once"), one that throws
 * after a 5 ms wait ("after a wait"), then `last` for every later call.
 */
export function failingThen(last: () => Operation<unknown>): () => Operation<unknown> {
  const steps: Array<() => Operation<unknown>> = [
    function* () {
      throw new Error("at once");
    },
    function* () {
      yield* sleep(5);
      throw new Error("after a wait");
    },
  ];
  return () => (steps.shift() ?? last)();
}

/**
 * An operation that waits by a bare `yield "waiting"` (so a test can drive it
 * by hand, as `yield*` would), then returns `value`; it logs what it was sent
 * ("resumed with …"), what was thrown into it ("threw …") and its end ("closed").
 */
export function* handDrivenStep<T>(log: string[], value: T): Operation<T> {
  try {
    const sent: unknown = yield "waiting";
    log.push(`resumed with ${String(sent)}`);
    return value;
  } catch (error) {
    log.push(`threw ${(error as Error).message}`);
    throw error;
  } finally {
    log.push("closed");
  }
}
