/**
 * The axes of the benchmark matrix: workloads, peers and hosts, with what the
 * report says about each. Pure data, imported by the orchestrator and by the
 * cell code on every host.
 */

/** A workload: what one op is and how many ops a full run does. */
export interface WorkloadInfo {
  readonly name: string;
  /** The family name, accepted by `--workloads` for all its variants. */
  readonly family: string;
  /** Ops per run in the full run for weft and the fast peers. */
  readonly ops: number;
  /** What one op is, for the report. */
  readonly op: string;
  /** Only Node can run it (sockets, files): other hosts report n/a. */
  readonly nodeOnly?: boolean;
}

/**
 * Every workload. A Node-only workload (IO) is added here with `nodeOnly:
 * true` and implemented by the peers that can run it; a peer without it
 * reports n/a.
 */
export const workloads: readonly WorkloadInfo[] = [
  { name: "pause_loop", family: "pause_loop", ops: 1_000_000, op: "one pause of a single task" },
  { name: "pause_pingpong", family: "pause_pingpong", ops: 1_000_000, op: "one switch between two tasks pausing in turn" },
  { name: "spawn_wait", family: "spawn_wait", ops: 100_000, op: "spawn a child that pauses once; wait for all" },
  { name: "aqueue_cap1", family: "aqueue_throughput", ops: 1_000_000, op: "one item through a bounded queue of capacity 1 (SPSC)" },
  { name: "aqueue_cap64", family: "aqueue_throughput", ops: 1_000_000, op: "one item through a bounded queue of capacity 64 (SPSC)" },
  {
    name: "semaphore_throughput",
    family: "semaphore_throughput",
    ops: 500_000,
    op: "one acquisition of Semaphore(1) by 2 tasks in turn, pausing while holding",
  },
  {
    name: "cond_var_signal",
    family: "cond_var_signal",
    ops: 500_000,
    op: "one signal: producer pauses then signals, consumer waits in a predicate loop",
  },
  { name: "timer_burst_sleep0", family: "timer_burst", ops: 100_000, op: "one child sleeping 0 ms, all at once" },
  { name: "timer_burst_sleep1", family: "timer_burst", ops: 100_000, op: "one child sleeping 1 ms, all at once" },
  {
    name: "group_overhead",
    family: "group_overhead",
    ops: 100_000,
    op: "one task group (or the peer's scope) whose body pauses once, entered and left in sequence",
  },
  {
    name: "timeout_overhead",
    family: "timeout_overhead",
    ops: 100_000,
    op: "one 1 s timeout around a body that pauses once and returns (the timeout never fires)",
  },
  {
    name: "cancel_1m",
    family: "cancel_1m",
    ops: 1_000_000,
    op: "per task: spawn a task that sleeps 1 h, then cancel all of them at once and wait for their cleanup (1M tasks a run)",
  },
  {
    name: "buffered_io_pipe",
    family: "buffered_io_pipe",
    ops: 65_536,
    op: "1 KiB written through a 64 KiB buffer into an OS pipe (a `cat` child's stdin) and read back from its stdout, checked; 64 MiB a run",
    nodeOnly: true,
  },
  {
    name: "tcp_echo",
    family: "tcp_echo",
    ops: 20_000,
    op: "one round trip of 64 bytes to an echo server in its own process, 50 connections at once, checked (the await-microtask column is the server on raw net callbacks)",
    nodeOnly: true,
  },
  {
    name: "gzip_pipe",
    family: "gzip_pipe",
    ops: 65_536,
    op: "1 KiB of text gzipped and gunzipped in one process (written in 64 KiB blocks), checked; 64 MiB a run (the await columns are raw node:zlib streams)",
    nodeOnly: true,
  },
  {
    name: "tls_echo",
    family: "tls_echo",
    ops: 20_000,
    op: "tcp_echo over TLS: one round trip of 64 bytes to a TLS echo server in its own process, 50 connections (handshakes included), checked (the await-microtask column is the server on raw node:tls callbacks)",
    nodeOnly: true,
  },
  {
    name: "http_client",
    family: "http_client",
    ops: 10_000,
    op: "one keep-alive GET to a node:http hello server in its own process, 16 connections, body read and checked (the await-microtask column is undici's request on a Pool of 16); http_server (wrk) is a load section after the cells",
    nodeOnly: true,
  },
];

export type WorkloadName = string;

/** The peers, in report order: weft first, the reference every ratio divides by. */
export const peers = ["weft", "weft-pump", "await-microtask", "await-immediate", "effection", "effect", "trampoline"] as const;
export type PeerId = (typeof peers)[number];

export const peerLabels: Record<PeerId, string> = {
  weft: "weft (event loop)",
  "weft-pump": "weft (pump)",
  "await-microtask": "async/await (microtask)",
  "await-immediate": "async/await (macrotask)",
  effection: "Effection 4.1.1",
  effect: "Effect 4.1.0",
  trampoline: "bare trampoline",
};

export const hosts = ["node", "bun", "deno", "chromium", "quickjs"] as const;
export type HostId = (typeof hosts)[number];

export const hostLabels: Record<HostId, string> = {
  node: "Node",
  bun: "Bun",
  deno: "Deno",
  chromium: "Chromium",
  quickjs: "QuickJS-wasm",
};

export function workloadInfo(name: string): WorkloadInfo {
  const info = workloads.find((w) => w.name === name);
  if (info === undefined) throw new RangeError(`workloadInfo(): unknown workload "${name}"`);
  return info;
}
