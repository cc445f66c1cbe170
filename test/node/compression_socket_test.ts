/**
 * A compressing writer over a TCP connection, whose cancelled writes keep
 * their bytes queued (unlike a pipe's): a write cancelled while the socket
 * waits for the peer is neither lost nor sent twice, and the peer decodes
 * exactly what was written. Node only (sockets).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";
import { gunzipReader, gzipWriter, pipe } from "../../src/io.ts";
import { connectTcp, listenTcp } from "../../src/node.ts";
import { concat, pattern, utf8 } from "../io/support.ts";

test("gzipWriter over a socket: a write cancelled while the peer does not read is delivered once", { timeout: 60_000 }, async () => {
  // Level 0 (stored blocks): the output is as large as the input and comes at once, so the socket's
  // buffers fill and the second write waits for the peer, which reads only once told to.
  // 64 MB: more than the kernel's socket buffers can hold at their largest.
  const big = pattern(64_000_000, 5);
  const half = big.length / 2;
  const received = await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    const [go, goAhead] = pipe();
    return yield* withTaskGroup<Uint8Array>(function* (group) {
      const peer = group.spawn(function* () {
        using conn = yield* server.accept();
        yield* go.readLine(); // not reading yet: the writer's socket fills up
        return (yield* gunzipReader(conn).readAll()).bytes();
      });
      using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      const gz = gzipWriter(conn, { level: 0, closeUnderlying: true });
      yield* gz.write(big.subarray(0, half)); // returns once the compressor has it
      // This one waits for the first half's output to go out, which waits for the peer.
      const outcome = yield* withTimeoutOpt(300, function* () {
        yield* gz.write(big.subarray(half));
        return "written";
      });
      assert.equal(outcome, undefined, "the write was cancelled by its timeout");
      yield* goAhead.write("read now\n");
      yield* gz.write("tail");
      yield* gz.end();
      return yield* peer.wait();
    });
  });
  assert.equal(received.length, big.length + 4);
  assert.deepEqual(new Uint8Array(received), concat([big, utf8("tail")]));
});
