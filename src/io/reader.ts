/**
 * `Reader`: the reading half of every weft stream (sockets, files, pipes,
 * processes, stdin), and `ReaderBase`, the class that implements it on top of
 * one primitive, `readChunk`.
 *
 * Every helper (`readExactly`, `readUntil`, `readLine`, `readAll`) collects
 * bytes in the reader's own buffer and takes them out only when it completes.
 * A helper that is cancelled half-way therefore loses nothing: the bytes it
 * had gathered are still there for the next read (moonbitlang/async drops
 * them; see docs/semantics.md, «IO»).
 */
import "./dispose_symbol.ts";
import { budgetYield, overBudget } from "../core/budget.ts";
import { Cancelled, WeftUsageError } from "../core/errors.ts";
import { Delegation } from "../core/delegation.ts";
import { DONE_VOID, asOperation, describe, type Operation } from "../core/operation.ts";
import { current } from "../core/scheduler.ts";
import { ByteWindow } from "./byte_window.ts";
import { rawReadEnd, rawReadStart } from "./direct.ts";
import { Data, decodeUtf8 } from "./data.ts";
import { ReadLimitExceeded, ReaderClosed } from "./errors.ts";

/**
 * A source of bytes. Only one task may read from a reader at a time: a second
 * concurrent read throws `WeftUsageError` (use one reading task and a `Queue`
 * to fan out).
 */
export interface Reader {
  /** Copies up to `length` bytes into `buf` at `offset`; 0 at end of stream. */
  read(buf: Uint8Array, offset?: number, length?: number): Operation<number>;
  /** The next available bytes (at most `max`), or `undefined` at end of stream. */
  readSome(max?: number): Operation<Uint8Array | undefined>;
  /** Exactly `n` bytes; `ReaderClosed` if the stream ends first. */
  readExactly(n: number): Operation<Uint8Array>;
  /**
   * UTF-8 text up to `separator` (consumed, not returned); the rest at end of
   * stream; `undefined` if nothing is left. Bytes that are not UTF-8 give a
   * TypeError and stay buffered (read them with `readSome` or `readAll`).
   * With `options.maxLength`, text longer than that many bytes throws
   * `ReadLimitExceeded` instead of growing the buffer without bound.
   */
  readUntil(separator: string | Uint8Array, options?: ReadUntilOptions): Operation<string | undefined>;
  /**
   * One line without its `\n` (and a `\r` before it); `undefined` at end of
   * stream. With `options.maxLength`, a longer line throws `ReadLimitExceeded`.
   */
  readLine(options?: ReadUntilOptions): Operation<string | undefined>;
  /** Everything up to end of stream. */
  readAll(): Operation<Data>;
  /**
   * Discards up to `n` bytes; returns how many were discarded (fewer only at
   * end of stream). All or nothing under cancellation, so it holds up to `n`
   * bytes in memory while it waits.
   */
  drop(n: number): Operation<number>;
  /** Bytes already received and not yet read. */
  readonly buffered: number;
}

/**
 * Options for {@link Reader.readUntil} and {@link Reader.readLine}.
 *
 * @example
 * ```ts
 * const [conn, peer] = pipe(); // stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using p = peer;
 *     yield* p.write("GET / HTTP/1.1\r\n");
 *   });
 *   const requestLine = yield* conn.readLine({ maxLength: 8192 }); // a peer cannot make this buffer grow past 8 KiB and a chunk
 *   console.log(requestLine); // prints GET / HTTP/1.1
 *   conn.close();
 * });
 * ```
 */
export interface ReadUntilOptions {
  /**
   * The most bytes of text (the separator, and for `readLine` the `\r\n`,
   * not counted) to accept. When more arrive without the separator, or the
   * stream ends with more than this left, the read throws
   * `ReadLimitExceeded` and the bytes stay buffered. The reader then holds
   * at most `maxLength` plus the separator plus one chunk of its source.
   * Unbounded when left out.
   */
  maxLength?: number;
}

/** Reads `options.maxLength` (Infinity when absent), or throws a TypeError/RangeError naming it. */
function maxLengthOf(api: string, options: unknown): number {
  if (options === undefined) return Infinity;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  const { maxLength } = options as ReadUntilOptions;
  if (maxLength === undefined) return Infinity;
  requireCount(api, "options.maxLength", maxLength);
  return maxLength;
}

const utf8 = new TextEncoder();
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const DEFAULT_CHUNK = 64 * 1024;

/** The error for a `readChunk` that returned something other than bytes or `undefined`. */
function badChunk(chunk: unknown): TypeError {
  return new TypeError(`readChunk() must return a Uint8Array or undefined, got ${typeof chunk}`);
}

function requireCount(api: string, name: string, n: unknown): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${api}: ${name} must be an integer, got ${typeof n === "number" ? n : typeof n}`);
  }
  if (n < 0) throw new RangeError(`${api}: ${name} must be >= 0, got ${n}`);
}

/** Index of `needle` in `hay[from..to)`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0]!;
  const last = to - needle.length;
  outer: for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Implements {@link Reader} for a concrete source, which supplies
 * {@link ReaderBase.readChunk} and {@link ReaderBase.close}.
 *
 * @example
 * ```ts
 * class Chunks extends ReaderBase {
 *   #left: Uint8Array[];
 *   #closed = false;
 *   constructor(chunks: Uint8Array[]) { super(); this.#left = chunks; }
 *   protected *readChunk(): Operation<Uint8Array | undefined> { return this.#left.shift(); }
 *   protected get isClosed(): boolean { return this.#closed; }
 *   close(): void { this.#closed = true; this.#left = []; }
 * }
 * const utf8 = (text: string) => new TextEncoder().encode(text);
 * const line = yield* new Chunks([utf8("a\nb")]).readLine();
 * console.log(line); // prints a
 * ```
 */
export abstract class ReaderBase implements Reader {
  /** Received bytes not yet read (views handed out of it stay valid). */
  readonly #window = new ByteWindow();
  #ended = false;
  #reading = false;

  /**
   * Waits for the next bytes from the source; `undefined` at end of stream.
   * `sizeHint` says how much the caller would like; the chunk may be smaller
   * or larger (the surplus stays buffered). The reader takes ownership of the
   * returned bytes. It must be all-or-nothing under cancellation: when it
   * throws, the source has given up no bytes.
   */
  protected abstract readChunk(sizeHint: number): Operation<Uint8Array | undefined>;

  /** Closes the source. Reading a closed reader throws `WeftUsageError`. */
  abstract close(): void;

  /** True once the reader was closed; reads then throw `WeftUsageError`. */
  protected abstract get isClosed(): boolean;

  /** Closes the reader (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Bytes already received and not yet read. */
  get buffered(): number {
    return this.#window.end - this.#window.start;
  }

  /**
   * For a source whose position can move (a file's `seek`): forgets the
   * buffered bytes and an end of stream already seen, so the next read asks
   * `readChunk` again. Throws `WeftUsageError` (naming `api`) while a task is
   * reading.
   */
  protected restart(api: string): void {
    if (this.#reading) throw new WeftUsageError(`${api}: another task is reading from this reader`);
    this.#window.clear();
    this.#ended = false;
  }

  /** Copies up to `length` bytes into `buf` at `offset`; 0 at end of stream. */
  *read(buf: Uint8Array, offset = 0, length?: number): Operation<number> {
    if (!(buf instanceof Uint8Array)) throw new TypeError(`read(): buf must be a Uint8Array, got ${describe(buf)}`);
    requireCount("read()", "offset", offset);
    if (offset > buf.length) throw new RangeError(`read(): offset (${offset}) is beyond the end of buf (${buf.length})`);
    length ??= buf.length - offset;
    requireCount("read()", "length", length);
    if (offset + length > buf.length) {
      throw new RangeError(`read(): offset + length (${offset + length}) is beyond the end of buf (${buf.length})`);
    }
    this.#enter("read()");
    try {
      if (overBudget()) yield* budgetYield();
      if (length === 0) return 0;
      if (this.buffered === 0 && !(yield* this.#fill(length))) return 0;
      const n = Math.min(length, this.buffered);
      buf.set(this.#window.bytes.subarray(this.#window.start, this.#window.start + n), offset);
      this.#window.consume(n);
      return n;
    } finally {
      this.#reading = false;
    }
  }

  /** The next available bytes (at most `max`), or `undefined` at end of stream. */
  readSome(max = Infinity): Operation<Uint8Array | undefined> {
    // Without `max` (the common call), a hand-written operation: a read that waits then walks no generator of
    // the reader's on each resume, only the source's own `readChunk`.
    return max === Infinity ? asOperation(new ReaderBase.#ReadSome(this)) : this.#readSome(max);
  }

  /** `readSome` as a generator: with a `max`, and whenever the hand-written fast path does not apply. */
  *#readSome(max: number): Operation<Uint8Array | undefined> {
    if (max !== Infinity) requireCount("readSome()", "max", max);
    if (max === 0) throw new RangeError("readSome(): max must be at least 1");
    this.#enter("readSome()");
    try {
      if (overBudget()) yield* budgetYield();
      if (this.buffered === 0) {
        // #fill inline (a level of `yield*` less on every resume of a waiting read), and a chunk that fits is handed
        // on as it came, past the window.
        if (this.#ended) return undefined;
        const hint = max === Infinity ? DEFAULT_CHUNK : Math.max(1, Math.min(max, DEFAULT_CHUNK));
        for (;;) {
          const chunk = yield* this.readChunk(hint);
          if (chunk === undefined) {
            this.#ended = true;
            return undefined;
          }
          if (!(chunk instanceof Uint8Array)) {
            throw badChunk(chunk);
          }
          if (chunk.length === 0) continue;
          if (chunk.length <= max) return chunk;
          this.#window.append(chunk);
          break;
        }
      }
      return this.#window.take(Math.min(max, this.buffered));
    } finally {
      this.#reading = false;
    }
  }

  /**
   * `readSome()` (no `max`) as a {@link Delegation}: it delegates to the
   * source's `readChunk` itself, as `yield*` would, with the checks
   * and bookkeeping of {@link ReaderBase.#readSome} around it. It applies
   * when nothing is buffered, the stream has not ended and the task's budget
   * is not spent (the common case of a reader that waits for its source);
   * otherwise it hands over to the generator, which does the same and the
   * rest. Declared in the class body to reach its private state.
   */
  static readonly #ReadSome = class ReadSome extends Delegation<Uint8Array | undefined> {
    /** Delegating to the source's `readChunk` (whose chunks this operation checks and hands on), not to the generator. */
    fast = false;

    constructor(readonly reader: ReaderBase) {
      super();
    }

    protected start(): IteratorResult<unknown, Uint8Array | undefined> {
      const reader = this.reader;
      if (reader.buffered === 0 && !reader.#ended) {
        reader.#enter("readSome()");
        // With the budget spent, the generator yields first (and counts this read again, past the limit either way).
        if (overBudget()) reader.#reading = false;
        else this.fast = true;
      }
      return this.delegate();
    }

    /** The source's `readChunk` on the fast path, else the generator. */
    protected open(): Operation<unknown> {
      return this.fast ? this.reader.readChunk(DEFAULT_CHUNK) : this.reader.#readSome(Infinity);
    }

    protected took(result: IteratorResult<unknown, unknown>): IteratorResult<unknown, Uint8Array | undefined> {
      if (result.done !== true) return result as IteratorResult<unknown, never>;
      if (!this.fast) {
        // The generator's result, as it is.
        this.inner = null;
        return result as IteratorResult<unknown, Uint8Array | undefined>;
      }
      const chunk = result.value;
      if (chunk === undefined) {
        this.finish();
        this.reader.#ended = true;
        return DONE_VOID;
      }
      if (!(chunk instanceof Uint8Array)) {
        this.finish();
        throw badChunk(chunk);
      }
      // An empty chunk says nothing: ask again.
      if (chunk.length === 0) return this.delegate();
      this.finish();
      return { done: true, value: chunk };
    }

    protected finish(): void {
      this.inner = null;
      // The generator leaves the reader in its own `finally`.
      if (this.fast) this.reader.#reading = false;
    }
  };

  /** @internal The source's operation for the next chunk, when a `readSome()` would be just that (see `rawRead`). */
  [rawReadStart](): Operation<unknown> | null {
    if (this.#reading || this.#ended || this.#window.end !== this.#window.start || this.isClosed) return null;
    // readSome() would throw or yield first.
    if ((current !== null && current.cancelDue) || overBudget()) return null;
    this.#reading = true;
    try {
      return this.readChunk(DEFAULT_CHUNK);
    } catch (error) {
      this.#reading = false;
      throw error;
    }
  }

  /** @internal Ends a raw read (see `endRawRead`): what `readSome()` would do with the chunk. */
  [rawReadEnd](result: unknown, completed: boolean): Uint8Array | undefined | null {
    this.#reading = false;
    if (!completed) return null;
    if (result === undefined) {
      this.#ended = true;
      return undefined;
    }
    if (!(result instanceof Uint8Array)) throw badChunk(result);
    return result.length === 0 ? null : result;
  }

  /** Exactly `n` bytes; `ReaderClosed` if the stream ends first. */
  *readExactly(n: number): Operation<Uint8Array> {
    requireCount("readExactly()", "n", n);
    this.#enter("readExactly()");
    try {
      if (overBudget()) yield* budgetYield();
      while (this.buffered < n) {
        if (!(yield* this.#fill(n - this.buffered))) {
          throw new ReaderClosed(`readExactly(): the stream ended after ${this.buffered} of ${n} bytes`);
        }
      }
      return this.#window.take(n);
    } finally {
      this.#reading = false;
    }
  }

  /**
   * UTF-8 text up to `separator` (consumed, not returned); the rest at end of
   * stream; `undefined` if nothing is left.
   */
  *readUntil(separator: string | Uint8Array, options?: ReadUntilOptions): Operation<string | undefined> {
    const sep = typeof separator === "string" ? utf8.encode(separator) : separator;
    if (!(sep instanceof Uint8Array)) throw new TypeError("readUntil(): separator must be a string or a Uint8Array");
    if (sep.length === 0) throw new RangeError("readUntil(): separator must not be empty");
    const maxLength = maxLengthOf("readUntil()", options);
    this.#enter("readUntil()");
    try {
      if (overBudget()) yield* budgetYield();
      const found = yield* this.#scanFor(sep, maxLength, "readUntil()", maxLength);
      if (found === -1) return this.#takeRest("readUntil()", maxLength);
      const text = decodeUtf8("readUntil()", this.#window.bytes.subarray(this.#window.start, found));
      this.#window.consume(found - this.#window.start + sep.length);
      return text;
    } finally {
      this.#reading = false;
    }
  }

  /** One line without its `\n` (and a `\r` before it); `undefined` at end of stream. */
  *readLine(options?: ReadUntilOptions): Operation<string | undefined> {
    const maxLength = maxLengthOf("readLine()", options);
    this.#enter("readLine()");
    try {
      if (overBudget()) yield* budgetYield();
      // The `\n` may sit one byte further on when a `\r` (not counted) precedes it.
      const found = yield* this.#scanFor(NEWLINE_BYTES, maxLength + 1, "readLine()", maxLength);
      if (found === -1) return this.#takeRest("readLine()", maxLength);
      const end = found > this.#window.start && this.#window.bytes[found - 1] === CARRIAGE_RETURN ? found - 1 : found;
      if (end - this.#window.start > maxLength) throw this.#overLimit("readLine()", maxLength);
      const text = decodeUtf8("readLine()", this.#window.bytes.subarray(this.#window.start, end));
      this.#window.consume(found - this.#window.start + 1);
      return text;
    } finally {
      this.#reading = false;
    }
  }

  /** Everything up to end of stream. */
  *readAll(): Operation<Data> {
    this.#enter("readAll()");
    try {
      if (overBudget()) yield* budgetYield();
      while (yield* this.#fill(DEFAULT_CHUNK));
      return new Data(this.#window.take(this.buffered));
    } finally {
      this.#reading = false;
    }
  }

  /**
   * Discards up to `n` bytes; returns how many were discarded (fewer only at
   * end of stream).
   */
  *drop(n: number): Operation<number> {
    requireCount("drop()", "n", n);
    this.#enter("drop()");
    try {
      if (overBudget()) yield* budgetYield();
      // Like readExactly, the bytes are discarded only once all have arrived
      // (or the stream ended): a cancelled drop has discarded nothing, so the
      // caller still knows where the stream stands.
      while (this.buffered < n && (yield* this.#fill(n - this.buffered)));
      const dropped = Math.min(n, this.buffered);
      this.#window.consume(dropped);
      return dropped;
    } finally {
      this.#reading = false;
    }
  }

  // Every read spends a unit of the task's budget, and once it is spent the
  // read yields before it takes anything (docs/semantics.md, «Cooperative
  // budget»): the bytes may be in this reader's buffer or in its source's
  // (a socket's), which the reader cannot tell from a source that would wait,
  // so it yields in both cases. A read that then waits cost one more switch,
  // and only after 128 operations without a suspension.
  #enter(api: string): void {
    // IO entry points check cancellation first (docs/semantics.md, «IO»), also when the bytes are already buffered.
    if (current !== null && current.cancelDue) throw new Cancelled();
    if (this.isClosed) throw new WeftUsageError(`${api}: the reader is closed`);
    if (this.#reading) {
      throw new WeftUsageError(`${api}: another task is already reading from this reader; read from one task and fan out with a Queue`);
    }
    this.#reading = true;
  }

  /**
   * Waits until `sep` is buffered; returns its index in the window's bytes, or -1 at
   * end of stream. A separator must start within `within` bytes of the
   * buffered data: once enough has arrived to rule that out, throws
   * `ReadLimitExceeded` (naming `api` and `limit`) rather than reading on.
   */
  *#scanFor(sep: Uint8Array, within: number, api: string, limit: number): Operation<number> {
    let from = this.#window.start;
    for (;;) {
      const found = indexOf(this.#window.bytes, sep, from, this.#window.end);
      if (found !== -1 && found - this.#window.start <= within) return found;
      if (found !== -1 || this.buffered >= within + sep.length) throw this.#overLimit(api, limit);
      // Only the tail that could start a separator needs to be searched again.
      const searched = Math.max(this.#window.start, this.#window.end - sep.length + 1) - this.#window.start;
      if (!(yield* this.#fill(DEFAULT_CHUNK))) return -1;
      from = this.#window.start + searched;
    }
  }

  /** Reads at least one byte into the buffer; false at end of stream. */
  *#fill(sizeHint: number): Operation<boolean> {
    if (this.#ended) return false;
    const hint = Math.max(1, Math.min(sizeHint, DEFAULT_CHUNK));
    for (;;) {
      const chunk = yield* this.readChunk(hint);
      if (chunk === undefined) {
        this.#ended = true;
        return false;
      }
      if (!(chunk instanceof Uint8Array)) {
        throw badChunk(chunk);
      }
      // An empty chunk is not the end: callers rely on a true result meaning new bytes.
      if (chunk.length === 0) continue;
      this.#window.append(chunk);
      return true;
    }
  }

  /** At end of stream: the rest as text, `undefined` if nothing is left, `ReadLimitExceeded` if over `limit`. */
  #takeRest(api: string, limit: number): string | undefined {
    if (this.buffered === 0) return undefined;
    if (this.buffered > limit) throw this.#overLimit(api, limit);
    return this.#takeText(api, this.buffered);
  }

  #overLimit(api: string, limit: number): ReadLimitExceeded {
    return new ReadLimitExceeded(
      limit,
      `${api}: more than ${limit} bytes arrived without the separator (options.maxLength); they stay buffered`,
    );
  }

  /** Removes the next `n` buffered bytes as text; bytes that are not UTF-8 stay buffered. */
  #takeText(api: string, n: number): string {
    const text = decodeUtf8(api, this.#window.bytes.subarray(this.#window.start, this.#window.start + n));
    this.#window.consume(n);
    return text;
  }
}

const NEWLINE_BYTES = Uint8Array.of(NEWLINE);
