/**
 * line-processing: a small grep. Prints the lines of stdin that contain the
 * pattern (all lines without one), each with its line number.
 *
 *   node dist/examples/line-processing.js error < app.log
 *
 * The exit status is 1 when no line matched, as with grep. Lines are read
 * one at a time, so input of any size runs in constant memory, and each write
 * waits for stdout to keep up.
 */
import process from "node:process";
import { main, stdin, stdout } from "../src/node.ts";

const pattern = process.argv[2] ?? "";

main(function* () {
  let number = 0;
  let matches = 0;
  for (let line; (line = yield* stdin.readLine()) !== undefined; ) {
    number++;
    if (!line.includes(pattern)) continue;
    matches++;
    yield* stdout.write(`${number}: ${line}\n`);
  }
  if (matches === 0) process.exitCode = 1;
});
