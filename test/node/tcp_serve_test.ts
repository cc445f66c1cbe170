/**
 * TcpServer.serve: a handler failure nobody asked to hear about is reported
 * (to stderr, with the peer's address and the stack) without stopping the
 * server, and maxConnections bounds the connections the process has taken.
 */
import { after, before, test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { startNode, tempDir, writeScript } from "./child.ts";

let dir: ReturnType<typeof tempDir>;
before(() => {
  dir = tempDir("weft-serve-");
});
after(() => dir.remove());

const FAILING_HANDLER = `
import { withTaskGroup } from "@WEFT@";
import { connectTcp, listenTcp, main } from "@NODE@";

main(function* () {
  const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
  try {
    yield* withTaskGroup(function* (group) {
      group.spawn(() =>
        server.serve(function* (conn) {
          const line = yield* conn.readLine();
          if (line === "fail") line.nonexistent.call();
          yield* conn.write("served " + line + "\\n");
        }),
        { daemon: true },
      );
      for (const word of ["fail", "again"]) {
        const client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
        try {
          yield* client.write(word + "\\n");
          const reply = yield* client.readLine();
          console.log("client " + client.localPort + " " + word + " got " + String(reply));
        } finally {
          client.close();
        }
      }
    });
  } finally {
    server.close();
  }
});
`;

test("serve without onError: a failing handler is reported on stderr with the peer address and the stack; the server keeps serving and the program exits 0", {
  timeout: 30_000,
}, async () => {
  const child = startNode(writeScript(dir.path, "failing-handler", FAILING_HANDLER));
  const done = await child.done;
  assert.equal(done.code, 0, `exit ${done.code} ${done.signal}\nstdout:\n${done.stdout}\nstderr:\n${done.stderr}`);
  const failed = /^client (\d+) fail got undefined$/m.exec(done.stdout);
  assert.ok(failed, `the failing connection was ended:\n${done.stdout}`);
  assert.match(done.stdout, /^client \d+ again got served again$/m, "the server still serves");
  assert.ok(done.stderr.includes(`127.0.0.1:${failed[1]}`), `stderr names the peer address:\n${done.stderr}`);
  assert.match(done.stderr, /TypeError: Cannot read properties of undefined \(reading 'call'\)/);
  assert.match(done.stderr, /\n\s+at .*failing-handler\.mjs:\d+/, "with the stack");
});
