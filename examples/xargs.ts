/**
 * xargs: runs a command once per line of stdin, with the line as its last
 * argument, at most N commands at a time.
 *
 *   printf 'a\nb\nc\n' | node dist/examples/xargs.js -P 2 echo item
 *
 * Each command's output is printed in one piece when it finishes, so the
 * outputs of commands running side by side never interleave. The exit status
 * is 123 if any command failed, as with GNU xargs.
 */
import process from "node:process";
import { Mutex, Semaphore, withTaskGroup } from "../src/index.ts";
import { main, runProcess, stdin, stdout } from "../src/node.ts";

function usage(): never {
  process.stderr.write("usage: xargs [-P max-procs] command [args...]\n");
  process.exit(2);
}

const argv = process.argv.slice(2);
let limit = 4;
if (argv[0] === "-P") {
  limit = Number(argv[1]);
  if (!Number.isInteger(limit) || limit < 1) usage();
  argv.splice(0, 2);
}
const [command, ...baseArgs] = argv;
if (command === undefined) usage();

main(function* () {
  // The permits bound the parallelism. Taking one *before* reading on keeps
  // the reading at the pace of the commands: a huge input is not read ahead.
  const slots = new Semaphore(limit);
  // stdout has one writer at a time; the lock makes each output one piece.
  const output = new Mutex();
  let failures = 0;
  yield* withTaskGroup<void>(function* (group) {
    for (let line; (line = yield* stdin.readLine()) !== undefined; ) {
      if (line.trim() === "") continue;
      yield* slots.acquire();
      const item = line;
      group.startSoon(function* () {
        try {
          // stderr goes straight through; stdout is collected.
          const result = yield* runProcess(command, [...baseArgs, item], { stderr: "inherit" });
          if (result.code !== 0) failures++;
          yield* output.withLock(() => stdout.write(result.stdout.bytes()));
        } finally {
          slots.release();
        }
      });
    }
  });
  if (failures > 0) process.exitCode = 123;
});
