/**
 * idle-timeout: echoes stdin line by line and quits when no line has come
 * for a while (default 5000 ms), without waiting for the end of the input.
 *
 *   node dist/examples/idle-timeout.js 2000
 *
 * One `Timer` is the idle clock: every line refreshes it, and a background
 * task that waits on it ends the group when it expires. Cancelling the group
 * cancels the pending `readLine()`; nothing else needs to know.
 */
import process from "node:process";
import { Timer, withTaskGroup } from "../src/index.ts";
import { main, stdin, stdout } from "../src/node.ts";

const idleMs = Number(process.argv[2] ?? 5000);

main(function* () {
  const idle = new Timer(idleMs);
  const reason = yield* withTaskGroup<string>(function* (group) {
    // daemon: the group does not wait for the watchdog once the input ends.
    group.startSoon(
      function* () {
        yield* idle.wait();
        group.returnImmediately(`no input for ${idleMs} ms`);
      },
      { daemon: true },
    );
    for (let line; (line = yield* stdin.readLine()) !== undefined; ) {
      idle.refresh();
      yield* stdout.write(`got: ${line}\n`);
    }
    return "end of input";
  });
  yield* stdout.write(`bye (${reason})\n`);
});
