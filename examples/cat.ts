/**
 * cat: prints the files named on the command line to stdout, one after the
 * other; with no arguments, copies stdin to stdout.
 *
 *   npm run build && node dist/examples/cat.js README.md package.json
 *   echo hello | node dist/examples/cat.js
 */
import type { Operation } from "../src/index.ts";
import { main, openFile, stderr, stdin, stdout } from "../src/node.ts";

function* cat(paths: string[]): Operation<void> {
  // stdin is only touched when it is the input.
  if (paths.length === 0) {
    yield* stdout.writeReader(stdin);
    return;
  }
  for (const path of paths) {
    // A chunk at a time: memory stays flat and a slow stdout slows the reading down.
    using file = yield* openFile(path);
    yield* stdout.writeReader(file);
  }
}

main(function* () {
  try {
    yield* cat(process.argv.slice(2));
  } catch (error) {
    // An OS error (a missing file: ENOENT naming the path) is the user's
    // business, not a bug: one line, no stack, exit status 1.
    if (!(error instanceof Error && "code" in error)) throw error;
    yield* stderr.write(`cat: ${error.message}\n`);
    process.exitCode = 1;
  }
});
