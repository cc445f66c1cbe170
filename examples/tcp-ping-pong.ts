/**
 * A server and a client in one program: the client sends `ping` lines, the
 * server answers `pong`. When the client is done, its task group ends and
 * cancels the server, which closes the listener, so the program exits.
 *
 * Run it with `node dist/examples/tcp-ping-pong.js [rounds]` after
 * `npm run build`.
 */
import { run, withTaskGroup, withTimeout } from "../src/index.ts";
import { connectTcp, listenTcp } from "../src/node.ts";

const rounds = Number(process.argv[2] ?? 5);

const summary = await run(function* () {
  const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
  return yield* withTaskGroup<string>(function* (group) {
    // daemon: the group does not wait for the server; it cancels it once the client is done.
    group.startSoon(
      () =>
        server.serve(function* (conn) {
          for (let line = yield* conn.readLine(); line !== undefined; line = yield* conn.readLine()) {
            yield* conn.write(line === "ping" ? "pong\n" : `unknown: ${line}\n`);
          }
        }),
      { daemon: true },
    );
    // "localhost" goes through the resolver and the happy-eyeballs race.
    using conn = yield* connectTcp({ host: "localhost", port: server.port });
    for (let i = 1; i <= rounds; i++) {
      yield* conn.write("ping\n");
      // A server that stops answering fails the program instead of hanging it.
      const reply = yield* withTimeout(2000, () => conn.readLine());
      console.log(`${i}: ping -> ${reply}`);
    }
    return `${rounds} round trips to port ${server.port}`;
  });
});

console.log(summary);
