/**
 * `ReadPort.reading(hooks)`: the read of a port with standing listeners as
 * one hand-written suspension point (what `TcpConnection` reads through).
 * It must keep every promise of `ReadPort.read()`: a read that waits counts
 * as waiting on the outside world, a cancelled read takes nothing, errors
 * reach the caller as the owner names them, and however the read ends the
 * port is no longer waiting. Every test runs on a port in each mode it can
 * read in: paused (the stream's 'readable' event, then `read()`) and flowing
 * (the stream's chunks into the port's own queue, as a socket's are).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { Cancelled, call, pause, run, withTaskGroup, type Operation, type Task } from "../../src/index.ts";
import { defaultScheduler } from "../../src/drivers/event_loop.ts";
import { ReadPort, type PortReadHooks } from "../../src/node/stream_port.ts";

const LIMIT = { timeout: 20_000 };

class Renamed extends Error {
  constructor(readonly original: unknown) {
    super("renamed");
  }
}

/**
 * Hooks as a connection's: a `Cancelled` stays itself (as annotateOsError
 * leaves it), any other error is wrapped; both are recorded, and so is each
 * checkOpen call. `closed` makes checkOpen throw.
 */
function recordingHooks(): PortReadHooks & { checks: number; closed: boolean; renamed: unknown[] } {
  const hooks = {
    checks: 0,
    closed: false,
    renamed: [] as unknown[],
    checkOpen(): void {
      hooks.checks++;
      if (hooks.closed) throw new Error("closed by its owner");
    },
    rename(error: unknown): unknown {
      hooks.renamed.push(error);
      return error instanceof Cancelled ? error : new Renamed(error);
    },
  };
  return hooks;
}

/** The two modes a port with standing listeners reads in, and the options that ask for each. */
const MODES = [
  ["paused", { standingListeners: true }],
  ["flowing", { flowing: true }],
] as const;

type PortOptions = (typeof MODES)[number][1];

/** A port in the mode `options` asks for on a fresh PassThrough, and its read with recording hooks. */
function readingOnPassThrough(options: PortOptions): {
  stream: PassThrough;
  hooks: ReturnType<typeof recordingHooks>;
  reading: Operation<Uint8Array | undefined>;
} {
  const stream = new PassThrough();
  const hooks = recordingHooks();
  const reading = new ReadPort(stream, options).reading(hooks);
  return { stream, hooks, reading };
}

/** The error `task` ended with (undefined if it returned). */
function* errorOf(task: Task<unknown>): Operation<unknown> {
  try {
    yield* task.wait();
  } catch (error) {
    return error;
  }
  return undefined;
}

const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

/** Lets Node's stream machinery run (a 'readable' is emitted on a later tick). */
function* hostTurn(): Operation<void> {
  yield* call(() => new Promise<void>((resolve) => setImmediate(resolve)));
}

test("reading() on a port without standing listeners is a TypeError", () => {
  const port = new ReadPort(new PassThrough());
  assert.throws(() => port.reading(recordingHooks()), TypeError);
});

for (const [mode, options] of MODES) {
  test(`a read that waits gets the bytes written later and counts as waiting on the outside world meanwhile (${mode})`, LIMIT, async () => {
    const { stream, reading } = readingOnPassThrough(options);
    const externalBefore = defaultScheduler().external;
    const got = await run(function* () {
      return yield* withTaskGroup<string | undefined>(function* (group) {
        const reader = group.spawn(function* () {
          return text(yield* reading);
        });
        yield* pause();
        yield* pause();
        assert.equal(defaultScheduler().external, externalBefore + 1, "the parked read is not counted as external");
        stream.write("hello");
        return yield* reader.wait();
      });
    });
    assert.equal(got, "hello");
    assert.equal(defaultScheduler().external, externalBefore);
  });

  test(`bytes already buffered are handed on at once, and the end of stream reads as undefined (${mode})`, LIMIT, async () => {
    const { stream, hooks, reading } = readingOnPassThrough(options);
    stream.end("abc");
    const got = await run(function* () {
      yield* hostTurn();
      const first = text(yield* reading);
      const second = text(yield* reading);
      return [first, second];
    });
    assert.deepEqual(got, ["abc", undefined]);
    // Before each read and before each chunk (or end) it hands on.
    assert.ok(hooks.checks >= 4, `checkOpen ran ${hooks.checks} times`);
  });

  test(
    `a read cancelled while it waits takes nothing: the bytes go to the next read, and the port no longer waits (${mode})`,
    LIMIT,
    async () => {
      const { stream, hooks, reading } = readingOnPassThrough(options);
      const externalBefore = defaultScheduler().external;
      const outcome = await run(function* () {
        return yield* withTaskGroup<{ error: unknown; next: string | undefined }>(function* (group) {
          const reader = group.spawn(function* () {
            return text(yield* reading);
          });
          yield* pause();
          reader.cancel();
          const error = yield* errorOf(reader);
          assert.equal(defaultScheduler().external, externalBefore, "the cancelled read left the port waiting");
          stream.write("kept");
          return { error, next: text(yield* reading) };
        });
      });
      assert.ok(outcome.error instanceof Cancelled, String(outcome.error));
      assert.deepEqual(hooks.renamed, [outcome.error], "the Cancelled did not go through rename");
      assert.equal(outcome.next, "kept");
    },
  );

  test(`a read cancelled as its bytes arrive takes none of them: they go to the next read (${mode})`, LIMIT, async () => {
    const { stream, hooks, reading } = readingOnPassThrough(options);
    const outcome = await run(function* () {
      return yield* withTaskGroup<{ error: unknown; next: string | undefined }>(function* (group) {
        const reader = group.spawn(function* () {
          return text(yield* reading);
        });
        yield* pause();
        stream.write("raced"); // buffered by the stream, 'readable' comes on a later tick
        reader.cancel();
        const error = yield* errorOf(reader);
        return { error, next: text(yield* reading) };
      });
    });
    assert.ok(outcome.error instanceof Cancelled, String(outcome.error));
    assert.deepEqual(hooks.renamed, [outcome.error], "the Cancelled did not go through rename");
    assert.equal(outcome.next, "raced");
  });

  test(`a stream error reaches the reader through hooks.rename, waiting or not (${mode})`, LIMIT, async () => {
    const failure = new Error("boom");
    const waiting = new PassThrough();
    const waitingRead = new ReadPort(waiting, options).reading(recordingHooks());
    const errors = await run(function* () {
      return yield* withTaskGroup<unknown[]>(function* (group) {
        const reader = group.spawn(function* () {
          try {
            yield* waitingRead;
          } catch (error) {
            return error;
          }
          return undefined;
        });
        yield* pause();
        waiting.destroy(failure);
        const whileWaiting = yield* reader.wait();
        let afterwards: unknown;
        try {
          yield* waitingRead;
        } catch (error) {
          afterwards = error;
        }
        return [whileWaiting, afterwards];
      });
    });
    for (const error of errors) assert.ok(error instanceof Renamed && error.original === failure, String(error));
  });

  test(`checkOpen stops a read before it starts and before a chunk is handed on (${mode})`, LIMIT, async () => {
    const { stream, hooks, reading } = readingOnPassThrough(options);
    stream.write("unread");
    const outcome = await run(function* () {
      yield* hostTurn();
      hooks.closed = true;
      let error: unknown;
      try {
        yield* reading;
      } catch (e) {
        error = e;
      }
      hooks.closed = false;
      return { error, next: text(yield* reading) };
    });
    assert.equal((outcome.error as Error).message, "closed by its owner");
    assert.equal(outcome.next, "unread", "the read that checkOpen stopped took the bytes");
  });

  test(`a read abandoned by return() no longer waits (${mode})`, LIMIT, async () => {
    const { reading } = readingOnPassThrough(options);
    const externalBefore = defaultScheduler().external;
    await run(function* () {
      // Driven by hand, as a generator closed from outside would be.
      assert.equal(reading.next().done, false);
      assert.equal(defaultScheduler().external, externalBefore + 1);
      assert.deepEqual(reading.return(undefined), { done: true, value: undefined });
      assert.equal(defaultScheduler().external, externalBefore);
    });
  });

  test(
    `read() on a port with standing listeners goes through the same read: bytes written later, errors as the stream gave them (${mode})`,
    LIMIT,
    async () => {
      const stream = new PassThrough();
      const port = new ReadPort(stream, options);
      const failure = new Error("boom");
      const externalBefore = defaultScheduler().external;
      const outcome = await run(function* () {
        return yield* withTaskGroup<{ got: string | undefined; error: unknown }>(function* (group) {
          const reader = group.spawn(function* () {
            return text(yield* port.read());
          });
          yield* pause();
          assert.equal(defaultScheduler().external, externalBefore + 1, "the parked read is not counted as external");
          stream.write("hello");
          const got = yield* reader.wait();
          stream.destroy(failure);
          let error: unknown;
          try {
            yield* port.read();
          } catch (e) {
            error = e;
          }
          return { got, error };
        });
      });
      assert.equal(outcome.got, "hello");
      assert.equal(outcome.error, failure);
      assert.equal(defaultScheduler().external, externalBefore);
    },
  );
}
