/**
 * Recipe: a chat server.
 *
 *   node dist/examples/cookbook/chat-server.js [port]     then, in other terminals: nc 127.0.0.1 <port>
 *
 * A client's first line is its name; every later line goes to all the other
 * clients as `name: line`, and they hear when someone joins or leaves. Each
 * client is a task, with a helper task that writes what the others said, so
 * a slow client only ever slows itself: its backlog is bounded, and past 100
 * unsent lines it loses the oldest ones.
 */
import process from "node:process";
import { Queue, withTaskGroup, type Operation } from "../../src/index.ts";
import { listenTcp, main, type TcpConnection } from "../../src/node.ts";

interface Client {
  readonly name: string;
  /** What the others said, waiting to be written to this client. */
  readonly outbox: Queue<string>;
}

const port = Number(process.argv[2] ?? 0);
const clients = new Set<Client>();

/** Hands `line` to every client but `from`; never waits, whatever the clients do. */
function broadcast(from: Client, line: string): void {
  for (const client of clients) if (client !== from) client.outbox.tryPut(line);
}

function* chat(conn: TcpConnection): Operation<void> {
  yield* conn.write("your name?\n");
  const name = (yield* conn.readLine())?.trim();
  if (!name) return;
  const me: Client = { name, outbox: new Queue({ kind: "discardOldest", capacity: 100 }) };
  clients.add(me);
  yield* conn.write(`welcome ${name}, ${clients.size - 1} others here\n`);
  broadcast(me, `* ${name} joined`);
  try {
    yield* withTaskGroup<void>(function* (group) {
      // A daemon: the group does not wait for it, and cancels it once the
      // reading loop below has ended (the client left).
      group.startSoon(
        function* () {
          for (;;) yield* conn.write(`${yield* me.outbox.get()}\n`);
        },
        { daemon: true },
      );
      for (let line; (line = yield* conn.readLine()) !== undefined; ) broadcast(me, `${name}: ${line}`);
    });
  } finally {
    // Runs however the client goes: it left, its connection failed, or the
    // server is stopping (Ctrl-C cancels every handler).
    clients.delete(me);
    broadcast(me, `* ${name} left`);
  }
}

main(function* () {
  using server = yield* listenTcp({ host: "127.0.0.1", port });
  console.log(`chat server on 127.0.0.1:${server.port}`);
  // serve(): one task per connection; a client whose handler fails is
  // dropped alone, and the error is reported with its address.
  yield* server.serve(chat);
});
