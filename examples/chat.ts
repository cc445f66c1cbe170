/**
 * chat: a WebSocket chat room.
 *
 *   npm run build && node dist/examples/chat.js [port]
 *   then connect clients to ws://127.0.0.1:<port>/?name=alice
 *
 * Every text message a client sends goes to all the others as
 * `name: text`; they hear when someone joins or leaves. Each client is a
 * task with a helper task that writes what the others said, taken from the
 * client's own bounded `Queue`. Broadcasting never waits: a client whose
 * queue is full (it reads slower than the room talks) is dropped, its
 * connection cut, so one slow reader never holds up the room or makes the
 * server's memory grow.
 *
 * It prints `chat on ws://127.0.0.1:<port>/` once it listens, and
 * `dropped <name> (too slow)` when it drops a client.
 */
import { Queue, QueueClosed, withTaskGroup, type Operation } from "../src/index.ts";
import { listenHttp, type HttpRequest, type HttpResponse } from "../src/http.ts";
import { main } from "../src/node.ts";
import { acceptWebSocket, ConnectionClosed, type WebSocket } from "../src/ws.ts";

/** How many messages may wait for one client before it counts as too slow. */
const BACKLOG = 64;

interface Client {
  readonly name: string;
  readonly outbox: Queue<string>;
  readonly ws: WebSocket;
}

const clients = new Set<Client>();

/** Hands `text` to every client but `from`; never waits. A client with a full outbox is dropped. */
function broadcast(from: Client | undefined, text: string): void {
  for (const client of clients) {
    if (client === from) continue;
    if (!client.outbox.tryPut(text)) drop(client);
  }
}

function drop(client: Client): void {
  if (!clients.delete(client)) return;
  console.log(`dropped ${client.name} (too slow)`);
  client.outbox.close();
  // Its writer may be stuck on a full socket: cut the connection, which ends both its tasks.
  client.ws[Symbol.dispose]();
  broadcast(undefined, `* ${client.name} was dropped`);
}

function* chat(req: HttpRequest, res: HttpResponse): Operation<void> {
  const name = req.url.searchParams.get("name")?.trim();
  if (!name) return yield* res.send(400, "connect to /?name=<your name>\n");
  using ws = yield* acceptWebSocket(req, res, { maxMessageSize: 64 * 1024 });
  const me: Client = { name, outbox: new Queue({ kind: "blocking", capacity: BACKLOG }), ws };
  clients.add(me);
  broadcast(me, `* ${name} joined`);
  try {
    yield* withTaskGroup<void>(function* (group) {
      // A daemon: cancelled once the reading loop below ends (the client left).
      group.startSoon(
        function* () {
          try {
            for (;;) yield* ws.sendText(yield* me.outbox.get());
          } catch (error) {
            if (!(error instanceof QueueClosed)) throw error;
          }
        },
        { daemon: true },
      );
      for (;;) broadcast(me, `${name}: ${yield* ws.recvText()}`);
    });
  } catch (error) {
    // The client closed, or was dropped and its connection cut.
    if (!(error instanceof ConnectionClosed) && clients.has(me)) throw error;
  } finally {
    if (clients.delete(me)) broadcast(me, `* ${name} left`);
  }
}

main(function* () {
  using server = yield* listenHttp({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
  console.log(`chat on ws://127.0.0.1:${server.port}/`);
  yield* server.serve(chat);
});
