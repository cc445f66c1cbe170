/**
 * buffered_io_pipe: `n` KiB written in 1 KiB pieces through a 64 KiB
 * buffer into a real OS pipe, the stdin of a `cat` child process, and read
 * back from `cat`'s stdout (a second OS pipe) by a consumer task in the same
 * process that checks the pattern and the count. Each run spawns its own
 * `cat`, and the time includes that spawn and waiting for `cat` to exit, the
 * same for every peer.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { run, withTaskGroup, type Operation } from "../../src/index.ts";
import { BufferedWriter } from "../../src/io.ts";
import { spawnProcess } from "../../src/node.ts";
import { check } from "../peer.ts";
import { CHUNK, PatternCheck, fillChunk, newChunk } from "./pattern.ts";

/** The writer's buffer, and the reader's: the pipe moves 64 KiB pieces. */
const BUFFER = 64 * 1024;

/** weft: `BufferedWriter` over `Process.stdin`, `Process.stdout.read(buf)` in a second task. */
export function weftBufferedPipe(n: number): Promise<number> {
  return run(function* (): Operation<number> {
    using proc = yield* spawnProcess("cat", [], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const chunks = yield* withTaskGroup<number>(function* (group) {
      group.startSoon(function* () {
        using out = new BufferedWriter(proc.stdin, BUFFER);
        const chunk = newChunk();
        for (let i = 0; i < n; i++) {
          fillChunk(chunk, i);
          yield* out.write(chunk);
        }
        yield* out.flush();
        proc.stdin.close();
      });
      const received = new PatternCheck();
      const buf = new Uint8Array(BUFFER);
      for (let got; (got = yield* proc.stdout.read(buf)) > 0; ) received.add(buf, 0, got);
      return received.chunks();
    });
    const status = yield* proc.wait();
    check("buffered_io_pipe: cat's exit code", status.code ?? -1, 0);
    return chunks;
  });
}

export type Consume = (stdout: Readable, received: PatternCheck) => Promise<void>;

/** Reads with `for await`, one promise per chunk the stream delivers. */
export const consumeForAwait: Consume = async (stdout, received) => {
  for await (const data of stdout) received.add(data as Buffer);
};

/** Reads with `stream.read()` until it returns null, then awaits the next 'readable' or 'end'. */
export const consumeReadable: Consume = async (stdout, received) => {
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  stdout.on("readable", () => wake?.());
  stdout.on("end", () => {
    ended = true;
    wake?.();
  });
  stdout.on("error", (error) => {
    failure = error;
    wake?.();
  });
  for (;;) {
    for (let data; (data = stdout.read() as Buffer | null) !== null; ) received.add(data);
    if (failure !== undefined) throw failure;
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
};

/**
 * Node streams and async/await: the same 64 KiB buffering written by hand (a
 * fresh buffer per piece, since a stream keeps what it is given), `write`
 * with back-pressure through 'drain', and `consume` reading `cat`'s stdout.
 */
export async function streamsBufferedPipe(n: number, consume: Consume): Promise<number> {
  const child = spawn("cat", [], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  const produce = async (): Promise<void> => {
    const chunk = newChunk();
    let piece = Buffer.allocUnsafe(BUFFER);
    let used = 0;
    const stdin = child.stdin;
    for (let i = 0; i < n; i++) {
      fillChunk(chunk, i);
      piece.set(chunk, used);
      used += CHUNK;
      if (used === BUFFER) {
        if (!stdin.write(piece)) await once(stdin, "drain");
        piece = Buffer.allocUnsafe(BUFFER);
        used = 0;
      }
    }
    if (used > 0) stdin.write(piece.subarray(0, used));
    stdin.end();
  };
  const received = new PatternCheck();
  await Promise.all([produce(), consume(child.stdout, received)]);
  const [code] = await exited;
  check("buffered_io_pipe: cat's exit code", code ?? -1, 0);
  return received.chunks();
}
