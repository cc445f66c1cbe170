/**
 * This process's standard streams as weft `Reader` and `Writer`s.
 */
import process from "node:process";
import { action } from "../../core/action.ts";
import { StreamReader, StreamWriter } from "./stream_io.ts";

/**
 * This process's standard input. Nothing is touched until the first read, and
 * the input holds the program open only while a read is waiting: a program
 * that never reads stdin, or that stops reading it, still exits when its work
 * is done. Reads can be cancelled (a timeout around `readLine()` leaves the
 * unread input in place for the next read). `close()` stops weft from reading
 * it; it does not close the file descriptor.
 *
 * @example
 * ```ts
 * import { main, stdin, stdout } from "weftjs/node";
 *
 * main(function* () {
 *   for (let line; (line = yield* stdin.readLine()) !== undefined; ) {
 *     yield* stdout.write(line.toUpperCase() + "\n");
 *   }
 * });
 * ```
 */
export const stdin: StreamReader = new StreamReader("stdin", {
  *open() {
    const stream = process.stdin;
    // Node stops reading stdin one tick after it is paused (so that a paused
    // stdin lets the program exit). The reader keeps the stream paused and
    // pulls from it, so let that tick pass first: afterwards pausing again
    // emits nothing, and the first read is not stopped under its feet.
    stream.pause();
    yield* action<void>((resolve) => {
      process.nextTick(resolve);
    });
    return stream;
  },
  release: () => {},
  refOnlyWhileReading: true,
});

/**
 * This process's standard output. A write returns once Node has taken the
 * bytes and its buffer is not over the high-water mark, so a program writing
 * into a slow pipe is slowed down instead of filling memory. `close()` only
 * stops weft from writing (Node does not let a program close its stdout).
 * Writing to a pipe whose reader went away throws the OS error (`EPIPE`).
 *
 * @example
 * ```ts
 * const count = 3;
 * yield* stdout.write(`${count} lines\n`); // prints 3 lines
 * ```
 */
export const stdout: StreamWriter = new StreamWriter("stdout", {
  open: () => process.stdout,
  release: () => {},
});

/**
 * This process's standard error; see {@link stdout}.
 *
 * @example
 * ```ts
 * const name = "cache.db";
 * yield* stderr.write(`warning: ${name} skipped\n`); // prints warning: cache.db skipped, on stderr
 * ```
 */
export const stderr: StreamWriter = new StreamWriter("stderr", {
  open: () => process.stderr,
  release: () => {},
});
