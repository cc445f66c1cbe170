/**
 * `openFile` and `File`: a file as a weft `Reader` and `Writer`.
 *
 * Reads and writes go through Node's positional `fs.read`/`fs.write` with
 * positions that the `File` keeps itself, one for reading and one for writing
 * (see docs/semantics.md, «IO»). The thread pool cannot interrupt a call it has started, so
 * cancellation follows what can be undone:
 * - a read is abandoned: `Cancelled` at once, and the late result is never
 *   applied (a regular file's position does not move; a pipe's bytes are
 *   kept for the next read), so a cancelled read had no effect;
 * - a write, once handed to the pool, is waited for shielded, because its
 *   bytes land whatever the task does: it completes and returns, and the
 *   cancellation is thrown at the task's next suspension point. So a write
 *   either had no effect (threw) or completed (returned), never both.
 * A call that completed before the cancellation reached the task always
 * delivers its result (settlement wins, as in `action`).
 */
import * as fs from "node:fs";
import { action } from "../../core/action.ts";
import { checkCancellation } from "../../core/cancel.ts";
import { WeftUsageError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { DuplexBase } from "../../io/duplex.ts";
import { completeOnceStarted } from "./fs_call.ts";
import { makeOsError, modeOption, osError, requirePath } from "./os_error.ts";

/**
 * The open flags `openFile` accepts: Node's flag strings, or a number built
 * from `fs.constants`.
 *
 * @example
 * ```ts
 * import { constants } from "node:fs";
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   const flags: OpenFlags = constants.O_RDWR | constants.O_CREAT;
 *   using file = yield* openFile(join(dir, "state.bin"), flags, 0o600);
 *   yield* file.write("state");
 *   console.log(yield* file.size()); // prints 5
 * });
 * ```
 */
export type OpenFlags =
  | "r"
  | "r+"
  | "rs"
  | "rs+"
  | "sr"
  | "sr+"
  | "w"
  | "w+"
  | "wx"
  | "wx+"
  | "xw"
  | "xw+"
  | "a"
  | "a+"
  | "ax"
  | "ax+"
  | "xa"
  | "xa+"
  | "as"
  | "as+"
  | "sa"
  | "sa+"
  | number;

const FLAG_STRINGS = new Set<unknown>([
  "r",
  "r+",
  "rs",
  "rs+",
  "sr",
  "sr+",
  "w",
  "w+",
  "wx",
  "wx+",
  "xw",
  "xw+",
  "a",
  "a+",
  "ax",
  "ax+",
  "xa",
  "xa+",
  "as",
  "as+",
  "sa",
  "sa+",
]);

/** Smallest read issued to the OS: small reads (readLine) would otherwise cost one pool call each. */
const MIN_READ = 16 * 1024;

/** One call in the thread pool; at most one task waits for it. */
class PoolCall<T> {
  done = false;
  error: NodeJS.ErrnoException | null = null;
  value: T | undefined = undefined;
  #wake: (() => void) | null = null;

  finish(error: NodeJS.ErrnoException | null, value: T | undefined): void {
    this.done = true;
    this.error = error;
    this.value = value;
    const wake = this.#wake;
    this.#wake = null;
    if (wake !== null) wake();
  }

  /** Waits for the call to end; cancellable (the call goes on). */
  *wait(): Operation<void> {
    if (this.done) return;
    yield* action<void>((resolve) => {
      this.#wake = resolve;
      return () => {
        this.#wake = null;
      };
    });
  }
}

/** A read still in the pool, with the buffer it reads into. */
interface PendingRead {
  call: PoolCall<number>;
  buffer: Uint8Array;
}

/**
 * An open file: a `Reader` and a `Writer` with independent read and write
 * positions, both starting at 0. Get one from {@link openFile}.
 *
 * - Reading starts at the read position and advances it; writing starts at
 *   the write position and advances it. {@link File.seek} sets both. In an
 *   append mode (`"a"`, `"a+"`, …) every write goes to the end of the file,
 *   whatever the write position.
 * - Under cancellation a read or write either had no effect (it threw
 *   `Cancelled` and moved no position) or completed (it returned its result
 *   and moved the position), never both; a read or write whose OS call ended
 *   before the cancellation reached the task returns its result, and the
 *   task learns of the cancellation at its next suspension point.
 *   A read is abandoned at once: a regular file's unread bytes are read again
 *   by the next read, and a pipe's or terminal's bytes are kept for it. A
 *   write the OS has been given cannot be taken back, so the cancelled task
 *   waits for it to finish (for a pipe, until its reader makes room) and the
 *   write returns normally.
 * - Reaching the end of the file is remembered: later reads keep returning
 *   end of stream until {@link File.seek} (`file.seek(file.readPosition)`
 *   picks up what was appended since).
 * - One reading task and one writing task at a time (`WeftUsageError`
 *   otherwise), as for every weft stream.
 * - `close()` is synchronous and idempotent; the descriptor is released at
 *   once, or, if a cancelled call is still in the thread pool, when that call
 *   ends. Errors from closing are not reported: call {@link File.sync} first
 *   when you need to know that the data reached the disk.
 *
 * @example
 * ```ts
 * using file = yield* openFile("notes.txt", "a+");
 * yield* file.write("one more line\n");
 * for (let line; (line = yield* file.readLine()) !== undefined; ) console.log(line);
 * ```
 */
export class File extends DuplexBase {
  /** The path the file was opened with. */
  readonly path: string;
  readonly #fd: number;
  readonly #positional: boolean;
  readonly #append: boolean;
  #closed = false;
  /** Calls in the thread pool that use the descriptor. */
  #busy = 0;
  #readPosition = 0;
  #writePosition = 0;
  /** A cancelled read of a pipe or terminal, whose bytes belong to the next read. */
  #pendingRead: PendingRead | null = null;
  #writing = false;

  /** @internal Use {@link openFile}. */
  constructor(path: string, fd: number, positional: boolean, append: boolean) {
    super();
    this.path = path;
    this.#fd = fd;
    this.#positional = positional;
    this.#append = append;
  }

  /** Where the next read starts (bytes already buffered by the reader count as read). */
  get readPosition(): number {
    return this.#readPosition - this.buffered;
  }

  /** Where the next write starts (not meaningful in an append mode). */
  get writePosition(): number {
    return this.#writePosition;
  }

  /** A write the OS was handed completes even if its task is cancelled meanwhile; one cancelled before that took nothing (see `Writer.cancelledWrite`). */
  get cancelledWrite(): "queued" {
    return "queued";
  }

  /** True once the file was closed. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Sets both the read and the write position to `position` (bytes from the
   * start; beyond the end is allowed, and a write there leaves a hole).
   * Bytes the reader had buffered are discarded. Throws `WeftUsageError`
   * while another task is reading or writing, and an error with code
   * `ESPIPE` for a pipe or terminal.
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   *
   * yield* withTmpdir(function* (dir) {
   *   using file = yield* openFile(join(dir, "greeting.txt"), "w+");
   *   yield* file.write("hello");
   *   file.seek(0);
   *   const text = (yield* file.readAll()).text();
   *   console.log(text); // prints hello
   * });
   * ```
   */
  seek(position: number): void {
    if (typeof position !== "number" || !Number.isSafeInteger(position)) {
      throw new TypeError(`File.seek(): position must be an integer, got ${describe(position)}`);
    }
    if (position < 0) throw new RangeError(`File.seek(): position must be >= 0, got ${position}`);
    this.#requireOpen("File.seek()");
    if (!this.#positional) throw makeOsError("File.seek()", "ESPIPE", "illegal seek", this.path);
    if (this.#writing) throw new WeftUsageError("File.seek(): another task is writing to this file");
    this.restart("File.seek()");
    // -0 is accepted as 0; it must not reach Node's native calls as -0.
    this.#readPosition = position + 0;
    this.#writePosition = position + 0;
  }

  /**
   * The file's size in bytes, as the OS reports it now.
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   *
   * yield* withTmpdir(function* (dir) {
   *   yield* writeFile(join(dir, "log.txt"), "first\n");
   *   using file = yield* openFile(join(dir, "log.txt"), "r+");
   *   file.seek(yield* file.size()); // continue writing at the end
   *   yield* file.write("second\n");
   *   console.log(yield* readTextFile(join(dir, "log.txt"))); // prints first, then second
   * });
   * ```
   */
  *size(): Operation<number> {
    return (yield* this.stat()).size;
  }

  /**
   * The file's metadata (`fstat`).
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   *
   * yield* withTmpdir(function* (dir) {
   *   using file = yield* openFile(join(dir, "new.txt"), "w");
   *   const { mtime, size } = yield* file.stat();
   *   console.log(mtime instanceof Date, size); // prints true 0
   * });
   * ```
   */
  *stat(): Operation<fs.Stats> {
    this.#requireOpen("File.stat()");
    const call = this.#start<fs.Stats>((done) => fs.fstat(this.#fd, done));
    yield* call.wait();
    if (call.error !== null) throw osError("File.stat()", call.error, this.path);
    return call.value!;
  }

  /**
   * Asks the OS to write the file's data and metadata to the disk (`fsync`)
   * and waits for it; `{ dataOnly: true }` skips metadata that is not needed to
   * read the data back (`fdatasync`). Cancelling stops the wait, not the sync.
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   *
   * yield* withTmpdir(function* (dir) {
   *   using file = yield* openFile(join(dir, "journal"), "a");
   *   yield* file.write("record 1\n");
   *   yield* file.sync(); // on the disk now, not only in the OS cache
   *   console.log("synced"); // prints synced
   * });
   * ```
   */
  *sync(options?: { dataOnly?: boolean }): Operation<void> {
    this.#requireOpen("File.sync()");
    const dataOnly = options?.dataOnly === true;
    const call = this.#start<void>((done) => (dataOnly ? fs.fdatasync : fs.fsync)(this.#fd, (error) => done(error, undefined)));
    yield* call.wait();
    if (call.error !== null) throw osError("File.sync()", call.error, this.path);
  }

  /**
   * Closes the file (idempotent). Later reads and writes throw
   * `WeftUsageError`.
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   *
   * yield* withTmpdir(function* (dir) {
   *   const path = join(dir, "input.txt");
   *   yield* writeFile(path, "line 1\n");
   *   const file = yield* openFile(path);
   *   try {
   *     console.log(yield* file.readLine()); // prints line 1
   *   } finally {
   *     file.close();
   *   }
   * });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#busy === 0) this.#release();
  }

  /** Reads the next bytes at the read position; `undefined` at end of file. */
  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    this.#requireOpen("File.read()");
    let pending = this.#pendingRead;
    this.#pendingRead = null;
    if (pending === null) {
      // A reader helper may come back for more after a read that won against
      // a cancellation; issuing a call now would only be abandoned.
      checkCancellation();
      const buffer = new Uint8Array(Math.max(sizeHint, MIN_READ));
      const position = this.#positional ? this.#readPosition : null;
      const call = this.#start<number>((done) => fs.read(this.#fd, buffer, 0, buffer.length, position, done));
      pending = { call, buffer };
    }
    try {
      yield* pending.call.wait();
    } catch (error) {
      // A positional read can simply be issued again; a pipe's bytes cannot.
      if (!this.#positional) this.#pendingRead = pending;
      throw error;
    }
    const { call, buffer } = pending;
    if (call.error !== null) throw osError("File.read()", call.error, this.path);
    const n = call.value!;
    if (n === 0) return undefined;
    this.#readPosition += n;
    return buffer.subarray(0, n);
  }

  /** Writes all of `bytes` at the write position (or at the end in an append mode). */
  protected *writeChunk(bytes: Uint8Array): Operation<void> {
    this.#requireOpen("File.write()");
    this.#writing = true;
    try {
      yield* completeOnceStarted(() => this.#writeAll(bytes));
    } finally {
      this.#writing = false;
    }
  }

  /** Writes all of `bytes`; the caller shields it, since bytes handed to the pool land anyway. */
  *#writeAll(bytes: Uint8Array): Operation<void> {
    let offset = 0;
    while (offset < bytes.length) {
      // close() during a partial write: the descriptor may be released (and
      // its number reused) as soon as the last call ends.
      this.#requireOpen("File.write()");
      const position = this.#positional && !this.#append ? this.#writePosition : null;
      const from = offset;
      const call = this.#start<number>((done) => fs.write(this.#fd, bytes, from, bytes.length - from, position, done));
      yield* call.wait();
      if (call.error !== null) throw osError("File.write()", call.error, this.path);
      offset += call.value!;
      this.#writePosition += call.value!;
    }
  }

  #requireOpen(api: string): void {
    if (this.#closed) throw new WeftUsageError(`${api}: the file '${this.path}' is closed`);
  }

  /** Starts a pool call that uses the descriptor; the descriptor outlives it. */
  #start<T>(run: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): PoolCall<T> {
    const call = new PoolCall<T>();
    this.#busy++;
    run((error, value) => {
      if (--this.#busy === 0 && this.#closed) this.#release();
      call.finish(error, value);
    });
    return call;
  }

  #release(): void {
    try {
      fs.closeSync(this.#fd);
    } catch {
      // Nothing useful can be done about a failed close here; see the class notes.
    }
  }
}

/**
 * `flags` checked, with -0 made 0: Node's native open aborts the whole
 * process on a flags number that is not an int32, -0 included.
 */
function flagsArgument(flags: unknown): string | number {
  if (FLAG_STRINGS.has(flags)) return flags as string;
  if (typeof flags !== "number" || !Number.isInteger(flags)) {
    throw new TypeError(`openFile(): flags must be a flag string such as "r", "r+", "w", "wx" or "a", or a number, got ${describe(flags)}`);
  }
  if (flags < 0 || flags > 0x7fffffff) {
    throw new RangeError(`openFile(): flags must be a combination of fs.constants (in [0, 2**31 - 1]), got ${describe(flags)}`);
  }
  return flags + 0;
}

function isAppend(flags: string | number): boolean {
  return typeof flags === "number" ? (flags & fs.constants.O_APPEND) !== 0 : flags.includes("a");
}

/**
 * Opens the file at `path` (flags as Node's `fs.open`: `"r"` reads an
 * existing file, `"r+"` reads and writes it, `"w"` creates or truncates,
 * `"wx"` creates a new file, `"a"` appends, …; `mode` is the permission of a
 * created file, 0o666 minus the umask by default). A cancelled `openFile`
 * either did nothing (it threw `Cancelled`) or returns the open file: an open
 * that may create or truncate (`"w"`, `"a"`, `"wx"`, `O_CREAT`, `O_TRUNC`) is
 * waited for once started, since its effect cannot be undone, and the
 * cancellation is thrown at the task's next suspension point; a read-only
 * open is abandoned at once (the file is closed when the OS opens it).
 *
 * Errors keep Node's `code`: `ENOENT` for a missing file, `EEXIST` for `"wx"`
 * on an existing one, `EISDIR` for writing a directory.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "data.bin"), new Uint8Array(32).fill(7));
 *   using file = yield* openFile(join(dir, "data.bin"), "r");
 *   const header = yield* file.readExactly(16);
 *   console.log(header.length, header[0]); // prints 16 7
 * });
 * ```
 */
export function* openFile(path: string, flags: OpenFlags = "r", mode?: number): Operation<File> {
  requirePath("openFile()", "path", path);
  const openFlags = flagsArgument(flags);
  const openMode = modeOption("openFile()", "mode", mode);
  const open = (): Operation<{ fd: number; positional: boolean }> =>
    action((resolve, reject) => {
      let abandoned = false;
      let settled = false;
      fs.open(path, openFlags, openMode, (error, fd) => {
        if (error !== null) {
          settled = true;
          reject(osError("openFile()", error));
          return;
        }
        if (abandoned) {
          fs.close(fd, () => {});
          return;
        }
        fs.fstat(fd, (statError, stats) => {
          settled = true;
          if (abandoned || statError !== null) {
            fs.close(fd, () => {});
            if (!abandoned) reject(osError("openFile()", statError, path));
            return;
          }
          // Only regular files and block devices have positions; pipes,
          // sockets and terminals are read and written in sequence.
          resolve({ fd, positional: stats.isFile() || stats.isBlockDevice() });
        });
      });
      return () => {
        if (!settled) abandoned = true;
      };
    });
  let opened: { fd: number; positional: boolean };
  if (mayChange(openFlags)) {
    // Creating or truncating cannot be undone: once asked for, the open is
    // waited for, so a cancelled openFile has either changed nothing or
    // returns the file.
    opened = yield* completeOnceStarted(open);
  } else {
    opened = yield* open();
  }
  // An open that won the race with a cancellation still hands its file over
  // (settlement wins); the caller's `using` or `finally` closes it.
  return new File(path, opened.fd, opened.positional, isAppend(openFlags));
}

/** True when opening with `flags` may create or truncate a file. */
function mayChange(flags: string | number): boolean {
  if (typeof flags === "number") return (flags & (fs.constants.O_CREAT | fs.constants.O_TRUNC)) !== 0;
  return !flags.includes("r");
}
