/**
 * Section "tcp": connections to a weft server (listenTcp + serve) that the
 * client drops, resets or closes gracefully; afterwards the process holds no
 * more descriptors or handles than before.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { action, all, run, sleep, withTaskGroup, type Operation } from "../src/index.ts";
import { connectTcp, listenTcp, type TcpConnection } from "../src/node.ts";
import { Section } from "./report.ts";

const MODES = ["drop", "reset", "close"] as const;
type Mode = (typeof MODES)[number];

function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** What the descriptors point at, to name the ones that stayed open. */
function fdTargets(): Map<string, string> {
  const targets = new Map<string, string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed between the listing and the readlink (the listing's own fd).
    }
  }
  return targets;
}

function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** What grew since `baseline`, as "name +n" items; empty when nothing did. */
function grownResources(baseline: Map<string, number>): string[] {
  const grown: string[] = [];
  for (const [name, n] of activeResources()) {
    const before = baseline.get(name) ?? 0;
    if (n > before) grown.push(`${name} +${n - before}`);
  }
  return grown;
}

/** A raw Node socket, connected: drop and reset need what weft's TcpConnection does not offer. */
function rawConnect(port: number): Operation<Socket> {
  return action<Socket>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const onError = (error: Error): void => reject(error);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      // A reset reported after we let go of the socket must not crash the soak.
      socket.on("error", () => {});
      resolve(socket);
    });
    return () => {
      socket.off("error", onError);
      if (socket.connecting) socket.destroy();
    };
  });
}

function* echo(conn: TcpConnection): Operation<void> {
  for (;;) {
    const line = yield* conn.readLine();
    if (line === undefined) return;
    yield* conn.write(`${line}\n`);
  }
}

function* client(port: number, mode: Mode, id: number): Operation<void> {
  if (mode === "close") {
    const conn: TcpConnection = yield* connectTcp({ host: "127.0.0.1", port });
    try {
      yield* conn.write(`hello ${id}\n`);
      const echo = yield* conn.readLine();
      if (echo !== `hello ${id}`) throw new Error(`connection ${id}: echo was ${JSON.stringify(echo)}`);
    } finally {
      conn.close();
    }
    return;
  }
  const socket = yield* rawConnect(port);
  if (mode === "drop") socket.destroy();
  else socket.resetAndDestroy();
}

export async function soakTcp(n: number, concurrency: number): Promise<boolean> {
  const section = new Section("tcp");
  section.figure("connections", n, "connections");
  section.figure("concurrency", concurrency, "connections");
  // The first connection makes Node open what it keeps for good (the
  // resolver's and the loop's own descriptors): warm up, then take the baseline.
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    const port = server.port;
    yield* withTaskGroup<void>(function* (group) {
      // A reset client makes its handler fail: expected here, so not reported.
      group.startSoon(() => server.serve(echo, { onError: () => {} }), { daemon: true });
      for (const mode of MODES) yield* client(port, mode, -1);
    });
  });
  const fdBaseline = openFds();
  const fdsBefore = fdTargets();
  const resourceBaseline = activeResources();
  let handlersRunning = 0;
  let handlersStarted = 0;
  let handlerErrors = 0;
  const clientFailures = new Map<string, number>();
  let elapsedMs = 0;
  let handlersLeft = 0;
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0, backlog: 4096 });
    const port = server.port;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        () =>
          server.serve(
            function* (conn) {
              handlersStarted++;
              handlersRunning++;
              try {
                yield* echo(conn);
              } finally {
                handlersRunning--;
              }
            },
            { onError: () => void handlerErrors++ },
          ),
        { daemon: true },
      );
      const t0 = performance.now();
      const bodies: (() => Operation<void>)[] = [];
      for (let i = 0; i < n; i++) {
        const mode = MODES[i % MODES.length]!;
        bodies.push(function* () {
          try {
            yield* client(port, mode, i);
          } catch (error) {
            const key = `${mode} ${(error as { code?: string }).code ?? (error as Error).message}`;
            clientFailures.set(key, (clientFailures.get(key) ?? 0) + 1);
          }
        });
      }
      yield* all(bodies, { maxConcurrent: concurrency });
      elapsedMs = performance.now() - t0;
      // Every handler ends once its peer is gone; give the kernel time to say so.
      // A dropped or reset connection may still sit in the kernel's accept
      // queue: wait until no handler runs and no new one started for a while.
      let quiet = 0;
      for (let waited = 0; quiet < 10 && waited < 30_000; waited += 20) {
        const startedBefore = handlersStarted;
        yield* sleep(20);
        quiet = handlersRunning === 0 && server.pending === 0 && handlersStarted === startedBefore ? quiet + 1 : 0;
      }
      handlersLeft = handlersRunning;
    });
  });
  // Node and the kernel release sockets asynchronously: poll, with a bound.
  let fds = openFds();
  let grown = grownResources(resourceBaseline);
  const deadline = performance.now() + 30_000;
  while ((fds > fdBaseline || grown.length > 0) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    fds = openFds();
    grown = grownResources(resourceBaseline);
  }
  let failed = 0;
  for (const count of clientFailures.values()) failed += count;
  section.figure("time", elapsedMs, "ms");
  section.figure("rate", (n / elapsedMs) * 1000, "connections/s");
  section.figure("handlers_started", handlersStarted, "handlers");
  section.figure("connections_never_accepted", n - handlersStarted, "connections");
  section.figure("handlers_still_running", handlersLeft, "handlers");
  section.figure("handler_errors", handlerErrors, "errors");
  section.figure("client_failures", failed, "connections");
  for (const [key, count] of clientFailures) section.figure(`client_failure[${key}]`, count, "connections");
  section.figure("fds_baseline", fdBaseline, "fds");
  section.figure("fds_after", fds, "fds");
  const after = fdTargets();
  const extra = [...after].filter(([fd, target]) => fdsBefore.get(fd) !== target).map(([fd, target]) => `${fd}->${target}`);
  if (extra.length > 0) section.figure("fds_new", extra.join(" "));
  section.figure("active_resources_grown", grown.length === 0 ? "none" : grown.join(", "));
  section.check(failed === 0, `${failed} client connections failed`);
  section.check(handlersLeft === 0, `${handlersLeft} handlers still running 30 s after the last client`);
  section.check(fds <= fdBaseline, `${fds - fdBaseline} descriptors more than before`);
  section.check(grown.length === 0, `active resources grew: ${grown.join(", ")}`);
  return section.verdict();
}
