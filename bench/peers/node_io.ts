/**
 * The Node-only IO workloads (`buffered_io_pipe`, `tcp_echo`, `gzip_pipe`, `tls_echo`, `http_client`) for every peer:
 * an implementation or the reason there is none. Kept apart from the peers'
 * own modules, which are also bundled for browsers and QuickJS: a cell loads
 * this module only for a workload the catalog marks `nodeOnly`.
 */
import type { PeerId } from "../catalog.ts";
import type { BenchEnv, PeerWorkloads } from "../peer.ts";
import { loadPeer } from "./index.ts";
import { consumeForAwait, consumeReadable, streamsBufferedPipe, weftBufferedPipe } from "../io/buffered_pipe.ts";
import { echoLoad } from "../io/echo_load.ts";
import { httpClientLoad } from "../http/client_load.ts";
import { streamsGzipPipe, weftGzipPipe } from "../io/gzip_pipe.ts";

const pumpReason =
  "IO needs the event loop: weft/node's pipes and sockets complete from Node callbacks, which a pump with no event loop never runs";

const ioWorkloads: Record<PeerId, PeerWorkloads> = {
  weft: {
    buffered_io_pipe: {
      api: "run(); spawnProcess(cat), BufferedWriter(proc.stdin, 64 KiB).write 1 KiB + flush; proc.stdout.read(buf) in a second task",
      run: weftBufferedPipe,
    },
    tcp_echo: {
      api: "server: run(); listenTcp + server.serve, conn.readSome/conn.write (load: raw net client)",
      run: echoLoad("weft"),
    },
    gzip_pipe: {
      api: "run(); gzipWriter(pipe writer).write 64 KiB + end() in one task; gunzipReader(pipe reader).read(buf) in another",
      run: weftGzipPipe,
    },
    tls_echo: {
      api: "server: run(); listenTls + server.serve, conn.readSome/conn.write (load: raw node:tls client)",
      run: echoLoad("weft-tls"),
    },
    http_client: {
      api: "run(); one HttpClient({ maxConnectionsPerOrigin: 16 }), 16 tasks each client.get(url) + res.text() in turn (server: node:http)",
      run: httpClientLoad("weft"),
    },
  },
  "weft-pump": {
    buffered_io_pipe: { unavailable: pumpReason },
    tcp_echo: { unavailable: pumpReason },
    gzip_pipe: { unavailable: pumpReason },
    tls_echo: { unavailable: pumpReason },
    http_client: { unavailable: pumpReason },
  },
  "await-microtask": {
    buffered_io_pipe: {
      api: "child_process.spawn(cat); 64 KiB pieces built by hand, stdin.write + await 'drain'; for await over stdout",
      run: (n) => streamsBufferedPipe(n, consumeForAwait),
    },
    tcp_echo: {
      api: "server: raw net callbacks (no await): 'data' → write, pause/resume on 'drain' (load: raw net client)",
      run: echoLoad("raw"),
    },
    gzip_pipe: {
      api: "raw node:zlib: createGzip().pipe(createGunzip()), 64 KiB chunkSize; gz.write + await 'drain'; for await over gunzip",
      run: (n) => streamsGzipPipe(n, consumeForAwait),
    },
    tls_echo: {
      api: "server: raw node:tls callbacks (no await): 'data' → write, pause/resume on 'drain' (load: raw node:tls client)",
      run: echoLoad("raw-tls"),
    },
    http_client: {
      api: "undici 7 request(url, { dispatcher: new Pool(origin, { connections: 16 }) }) + body.text(), 16 async loops (server: node:http)",
      run: httpClientLoad("undici"),
    },
  },
  "await-immediate": {
    buffered_io_pipe: {
      api: "child_process.spawn(cat); 64 KiB pieces built by hand, stdin.write + await 'drain'; stdout.read() until null, await 'readable'",
      run: (n) => streamsBufferedPipe(n, consumeReadable),
    },
    tcp_echo: {
      api: "server: net with async/await: for await over the socket, write + await 'drain' (load: raw net client)",
      run: echoLoad("await"),
    },
    gzip_pipe: {
      api: "raw node:zlib: createGzip().pipe(createGunzip()), 64 KiB chunkSize; gz.write + await 'drain'; gunzip.read() until null, await 'readable'",
      run: (n) => streamsGzipPipe(n, consumeReadable),
    },
    tls_echo: { unavailable: "measured against the raw node:tls server only (the await-microtask column)" },
    http_client: { unavailable: "measured against undici only (the await-microtask column)" },
  },
  effection: {
    buffered_io_pipe: {
      unavailable: "Effection 4 has no streams or process IO of its own; a hand-made wrapper over Node streams would measure the wrapper",
    },
    tcp_echo: { unavailable: "Effection 4 has no sockets of its own; a hand-made wrapper over net would measure the wrapper" },
    gzip_pipe: { unavailable: "Effection 4 has no compression streams of its own; a wrapper over node:zlib would measure the wrapper" },
    tls_echo: { unavailable: "Effection 4 has no sockets of its own; a hand-made wrapper over net would measure the wrapper" },
    http_client: { unavailable: "Effection 4 has no HTTP client of its own; a wrapper over undici would measure undici" },
  },
  effect: {
    buffered_io_pipe: { unavailable: "Effect's IO is in @effect/platform-node, which this benchmark does not install" },
    tcp_echo: { unavailable: "Effect's sockets are in @effect/platform-node, which this benchmark does not install" },
    gzip_pipe: { unavailable: "Effect's compression is in @effect/platform-node, which this benchmark does not install" },
    tls_echo: { unavailable: "Effect's sockets are in @effect/platform-node, which this benchmark does not install" },
    http_client: { unavailable: "Effect's HTTP client is in @effect/platform, which this benchmark does not install" },
  },
  trampoline: {
    buffered_io_pipe: { unavailable: "the bare trampoline has no IO: it stands for the scheduler alone" },
    tcp_echo: { unavailable: "the bare trampoline has no IO: it stands for the scheduler alone" },
    gzip_pipe: { unavailable: "the bare trampoline has no IO: it stands for the scheduler alone" },
    tls_echo: { unavailable: "the bare trampoline has no IO: it stands for the scheduler alone" },
    http_client: { unavailable: "the bare trampoline has no IO: it stands for the scheduler alone" },
  },
};

/** A peer's workloads with its IO workloads added (Node, Bun and Deno cells only). */
export async function loadPeerWithIo(peer: PeerId, env: BenchEnv): Promise<PeerWorkloads> {
  return { ...(await loadPeer(peer, env)), ...ioWorkloads[peer] };
}
