/**
 * `ReaderBase.restart`: a source whose position moved (a file's seek) can be
 * read again after its end, and the buffered bytes are forgotten.
 */
import "../unhandled_guard.ts";
import { testOnEveryDriver } from "../support.ts";
import assert from "node:assert/strict";
import { WeftUsageError, pause, withTaskGroup, type Operation } from "../../src/index.ts";
import { ReaderBase } from "../../src/io.ts";

/** Serves `text` from `position` in chunks of 3 bytes; `rewind` moves the position. */
class Rewindable extends ReaderBase {
  #bytes: Uint8Array;
  #position = 0;
  #closed = false;
  constructor(text: string) {
    super();
    this.#bytes = new TextEncoder().encode(text);
  }
  protected *readChunk(): Operation<Uint8Array | undefined> {
    yield* pause();
    if (this.#position >= this.#bytes.length) return undefined;
    const chunk = this.#bytes.slice(this.#position, this.#position + 3);
    this.#position += chunk.length;
    return chunk;
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  close(): void {
    this.#closed = true;
  }
  rewind(position: number): void {
    this.restart("Rewindable.rewind()");
    this.#position = position;
  }
}

testOnEveryDriver("restart() lets a reader read again after its end, from the new position", async (run) => {
  await run(function* () {
    const reader = new Rewindable("abcdefgh");
    assert.equal((yield* reader.readAll()).text(), "abcdefgh");
    assert.equal(yield* reader.readSome(), undefined);
    reader.rewind(2);
    assert.equal((yield* reader.readAll()).text(), "cdefgh");
  });
});

testOnEveryDriver("restart() forgets buffered bytes", async (run) => {
  await run(function* () {
    const reader = new Rewindable("abcdefgh");
    assert.equal(new TextDecoder().decode(yield* reader.readExactly(1)), "a");
    assert.equal(reader.buffered, 2);
    reader.rewind(5);
    assert.equal(reader.buffered, 0);
    assert.equal((yield* reader.readAll()).text(), "fgh");
  });
});

testOnEveryDriver("restart() throws WeftUsageError while another task is reading", async (run) => {
  await run(function* () {
    const reader = new Rewindable("abcdefgh");
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(() => reader.readAll());
      yield* pause();
      assert.throws(
        () => reader.rewind(0),
        (e: Error) => e instanceof WeftUsageError && e.message.startsWith("Rewindable.rewind()"),
      );
      assert.equal((yield* task.wait()).text(), "abcdefgh");
    });
  });
});
