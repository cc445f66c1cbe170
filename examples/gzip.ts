/**
 * gzip: compresses stdin to stdout; with -d, decompresses it. What the `gzip`
 * command does with `-c` (and `-dc`), on weft's stdio and compression streams.
 *
 *   npm run build && node dist/examples/gzip.js < README.md > README.md.gz
 *   node dist/examples/gzip.js -d < README.md.gz
 */
import type { Operation } from "../src/index.ts";
import { gunzipReader, gzipWriter } from "../src/io.ts";
import { main, stderr, stdin, stdout } from "../src/node.ts";

function* compress(): Operation<void> {
  using gz = gzipWriter(stdout);
  yield* gz.writeReader(stdin);
  yield* gz.end(); // the trailer: without it the output would be a truncated stream
}

function* decompress(): Operation<void> {
  // No output limit: like gzip -d, the user asked for the whole stream.
  using plain = gunzipReader(stdin, { maxOutput: Infinity });
  yield* stdout.writeReader(plain);
}

main(function* () {
  const args = process.argv.slice(2);
  if (args.some((a) => a !== "-d")) {
    yield* stderr.write("usage: gzip [-d] < input > output\n");
    process.exitCode = 2;
    return;
  }
  try {
    yield* args.includes("-d") ? decompress() : compress();
  } catch (error) {
    // A corrupt or truncated input is the user's business: one line, exit status 1.
    if (!(error instanceof Error && "code" in error)) throw error;
    yield* stderr.write(`gzip: ${error.message}\n`);
    process.exitCode = 1;
  }
});
