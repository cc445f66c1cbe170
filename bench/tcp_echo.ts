/**
 * tcp_echo: a weft echo server against the same server written on raw `net`
 * callbacks, each in its own fresh process, driven by one load client (raw
 * `net`, in this process) for a fixed number of round trips: `--connections`
 * connections, each sending a `--size`-byte message and waiting for its echo
 * before the next, `--rounds` times. Every echoed message is compared with
 * what was sent, so a broken server cannot report a time.
 *
 * Prints ns per round trip (median of `--runs` runs per server, servers
 * alternating) and raw ÷ weft (the throughput of weft relative to raw `net`;
 * the target is ≥ 0.8).
 *
 * Run: `node dist/bench/tcp_echo.js [--connections 50] [--rounds 1000] [--size 64] [--runs 5]`.
 * Internally: `tcp_echo.js --serve weft|raw` is the server process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { run } from "../src/index.ts";
import { listenTcp } from "../src/node.ts";

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

type Kind = "weft" | "raw";

/** The server process: prints its port, then echoes until killed. */
async function serve(kind: Kind): Promise<void> {
  if (kind === "raw") {
    const server = net.createServer({ noDelay: true }, (socket) => {
      socket.on("data", (data) => {
        if (!socket.write(data)) {
          socket.pause();
          socket.once("drain", () => socket.resume());
        }
      });
      socket.on("end", () => socket.end());
      socket.on("error", () => socket.destroy());
    });
    server.listen(0, "127.0.0.1", () => console.log((server.address() as net.AddressInfo).port));
    return;
  }
  await run(function* () {
    using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
    console.log(server.port);
    yield* server.serve(function* (conn) {
      yield* conn.writeReader(conn);
    });
  });
}

async function startServer(kind: Kind): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, "--serve", kind], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the ${kind} server exited with ${code}`)));
    child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
  });
  return { child, port };
}

/** One connection's round trips; resolves when all echoes came back intact. */
function client(port: number, rounds: number, size: number, id: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    const message = Buffer.alloc(size);
    let round = 0;
    let received = 0;
    const reply = Buffer.alloc(size);
    const send = (): void => {
      message.writeUInt32LE(id, 0);
      message.writeUInt32LE(round, 4);
      socket.write(message);
    };
    socket.on("connect", send);
    socket.on("data", (data: Buffer) => {
      let offset = 0;
      while (offset < data.length) {
        const n = Math.min(size - received, data.length - offset);
        data.copy(reply, received, offset, offset + n);
        received += n;
        offset += n;
        if (received === size) {
          if (!reply.equals(message)) {
            reject(new Error(`connection ${id}: round ${round} came back wrong`));
            socket.destroy();
            return;
          }
          received = 0;
          if (++round === rounds) {
            socket.end();
            resolve();
            return;
          }
          send();
        }
      }
    });
    socket.on("error", reject);
  });
}

async function measure(port: number, connections: number, rounds: number, size: number): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: connections }, (_, id) => client(port, rounds, size, id)));
  return Number(process.hrtime.bigint() - started) / (connections * rounds);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const connections = option("--connections", 50);
  const rounds = option("--rounds", 1000);
  const size = option("--size", 64);
  const runs = option("--runs", 5);
  const servers = { weft: await startServer("weft"), raw: await startServer("raw") };
  const samples: Record<Kind, number[]> = { weft: [], raw: [] };
  try {
    for (const kind of ["weft", "raw"] as const) await measure(servers[kind].port, connections, rounds / 10, size); // warm-up
    for (let r = 0; r < runs; r++) {
      for (const kind of r % 2 === 0 ? (["weft", "raw"] as const) : (["raw", "weft"] as const)) {
        samples[kind].push(await measure(servers[kind].port, connections, rounds, size));
      }
    }
  } finally {
    servers.weft.child.kill();
    servers.raw.child.kill();
  }
  const weft = median(samples.weft);
  const raw = median(samples.raw);
  const fmt = (xs: number[]): string => `${median(xs).toFixed(0)} ns (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  console.log(`tcp_echo: ${connections} connections × ${rounds} round trips of ${size} bytes, median of ${runs} runs`);
  console.log(`  weft server: ${fmt(samples.weft)} per round trip`);
  console.log(`  raw net server: ${fmt(samples.raw)} per round trip`);
  console.log(`  weft throughput ÷ raw net: ${(raw / weft).toFixed(2)}`);
}

const serveIndex = args.indexOf("--serve");
if (serveIndex >= 0) await serve(args[serveIndex + 1] as Kind);
else await main();
