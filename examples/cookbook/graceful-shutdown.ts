/**
 * Recipe: graceful shutdown of a TCP server.
 *
 *   node dist/examples/cookbook/graceful-shutdown.js [port] [--grace MS]
 *
 * A line service (each line gets `ok <line>` back) that stops the way a
 * deployment wants: on SIGTERM or Ctrl-C it stops accepting connections at
 * once, lets the connections in progress go on until their clients end them,
 * and when the grace period (default 10 s) is over, cancels those still open:
 * each is told so and closed. It exits 0 as soon as the last connection is
 * gone. A second Ctrl-C during the grace period stops everything at once.
 */
import process from "node:process";
import { any, isCancellationError, protectFromCancel, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { listenTcp, main, waitSignal, type TcpConnection } from "../../src/node.ts";

const args = process.argv.slice(2);
let grace = 10_000;
const flag = args.indexOf("--grace");
if (flag !== -1) {
  grace = Number(args[flag + 1]);
  args.splice(flag, 2);
}
const port = Number(args[0] ?? 0);
let open = 0;

function* handle(conn: TcpConnection): Operation<void> {
  open++;
  try {
    for (let line; (line = yield* conn.readLine()) !== undefined; ) yield* conn.write(`ok ${line}\n`);
  } catch (error) {
    if (isCancellationError(error)) {
      // A cancelled task's IO throws at once: the goodbye needs a shield, and
      // a bound, because a client that reads nothing must not hold us up.
      yield* protectFromCancel(() => withTimeoutOpt(1000, () => conn.write("server shutting down, bye\n")));
    }
    throw error;
  } finally {
    open--;
  }
}

main(function* () {
  using server = yield* listenTcp({ host: "127.0.0.1", port });
  console.log(`listening on 127.0.0.1:${server.port}`);
  yield* withTaskGroup<void>(function* (group) {
    const serving = group.spawn(() => server.serve(handle));
    // While these wait, the signals are theirs: they do not cancel main.
    const signal = yield* any([() => waitSignal("SIGTERM"), () => waitSignal("SIGINT")]);
    // serve() stops accepting and waits for its handlers to end.
    server.close();
    console.log(`${signal}: no new connections; ${open} open, grace period ${grace} ms`);
    const drained = yield* withTimeoutOpt(grace, function* () {
      yield* serving.wait();
      return true;
    });
    if (drained) {
      console.log("every connection ended by itself");
    } else {
      console.log(`grace period over: closing ${open} connection${open === 1 ? "" : "s"}`);
      serving.cancel();
    }
  });
  console.log("stopped");
});
