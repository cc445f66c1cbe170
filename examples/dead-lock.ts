/**
 * dead-lock: two tasks take two locks in opposite order and wait for each
 * other forever. weft notices that nothing can ever wake them, prints a
 * report to stderr and the program exits with status 1 instead of hanging.
 *
 *   node dist/examples/dead-lock.js
 *   WEFT_DEBUG=1 node dist/examples/dead-lock.js   # the report shows where each task was spawned
 */
import { Mutex, sleep, withTaskGroup } from "../src/index.ts";
import { main, stdout } from "../src/node.ts";

main(function* () {
  const left = new Mutex();
  const right = new Mutex();
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(function* leftThenRight() {
      yield* left.withLock(function* () {
        yield* sleep(10); // let the other task take its first lock
        yield* right.withLock(function* () {});
      });
    });
    group.startSoon(function* rightThenLeft() {
      yield* right.withLock(function* () {
        yield* sleep(10);
        yield* left.withLock(function* () {});
      });
    });
  });
  yield* stdout.write("never printed\n");
});
