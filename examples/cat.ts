/**
 * cat: prints the files named on the command line to stdout, one after the
 * other; with no arguments, copies stdin to stdout.
 *
 *   npm run build && node dist/examples/cat.js README.md package.json
 *   echo hello | node dist/examples/cat.js
 */
import { run, type Operation } from "../src/index.ts";
import { ReaderBase, WriterBase } from "../src/io.ts";
import { openFile } from "../src/node.ts";
import { ReadPort, WritePort } from "../src/node/stream_port.ts";

// Stand-ins for weft/node's own stdin and stdout, kept tiny: one primitive each.
class Stdin extends ReaderBase {
  readonly #port = new ReadPort(process.stdin);
  #closed = false;
  protected readChunk(): Operation<Uint8Array | undefined> {
    return this.#port.read();
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  close(): void {
    this.#closed = true;
  }
}

class Stdout extends WriterBase {
  readonly #port = new WritePort(process.stdout);
  #closed = false;
  protected writeChunk(bytes: Uint8Array): Operation<void> {
    return this.#port.write(bytes);
  }
  protected get isClosed(): boolean {
    return this.#closed;
  }
  close(): void {
    this.#closed = true;
  }
}

function* cat(paths: string[]): Operation<void> {
  const stdout = new Stdout();
  // stdin is only touched when it is the input: opening it keeps the process waiting for it.
  if (paths.length === 0) {
    yield* stdout.writeReader(new Stdin());
    return;
  }
  for (const path of paths) {
    // A chunk at a time: memory stays flat and a slow stdout slows the reading down.
    using file = yield* openFile(path);
    yield* stdout.writeReader(file);
  }
}

run(() => cat(process.argv.slice(2))).catch((error: unknown) => {
  process.stderr.write(`cat: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
