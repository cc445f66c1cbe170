/**
 * A UDP echo server and a client in one program: the server sends every
 * datagram back to its sender; the client sends a few and prints the
 * answers, then the program ends.
 *
 * Run it with `node dist/examples/udp-echo.js [port]` after `npm run build`
 * (port 0 or none picks a free one).
 */
import { run, withTaskGroup, withTimeout } from "../src/index.ts";
import { bindUdp } from "../src/node.ts";

const port = Number(process.argv[2] ?? 0);

await run(function* () {
  using server = yield* bindUdp({ host: "127.0.0.1", port });
  console.log(`udp echo server on 127.0.0.1:${server.port}`);
  yield* withTaskGroup<void>(function* (group) {
    // The echo loop never ends by itself: daemon lets the group cancel it when the client is done.
    group.startSoon(
      function* () {
        for (;;) {
          const { data, address, port } = yield* server.recv();
          yield* server.send(data, port, address);
        }
      },
      { daemon: true },
    );
    using client = yield* bindUdp({ host: "127.0.0.1" });
    for (const message of ["one", "two", "three"]) {
      yield* client.send(message, server.port, "127.0.0.1");
      // UDP may lose datagrams; a timeout keeps a lost one from hanging the program.
      const reply = yield* withTimeout(2000, () => client.recv());
      console.log(`sent ${message}, got back ${new TextDecoder().decode(reply.data)}`);
    }
  });
});
