/**
 * The fairness workload (issue 16, docs/semantics.md «Cooperative budget»):
 * a chat server in one process, on the real scheduler and event loop, with a
 * light client's latency measured next to a flooding client.
 *
 * - The flooding client's connection is a `Reader` whose bytes are always
 *   there, like a socket a client floods: each host turn it serves
 *   `BURST_CHUNKS` chunks of 64-byte lines at once (Node hands a busy
 *   socket's buffered bytes over without waiting), then waits for the next
 *   host turn. Its connection task reads lines and publishes each on a
 *   `Broadcast`; the light client's outbound task drains its subscription.
 *   Every line is a read, a publish and a subscription read, none of which
 *   suspends while the bytes last.
 * - The light client lives on the host: a timer puts a ping (the time it
 *   arrived) into its connection's queue every millisecond, once the previous
 *   one was answered, and its connection task answers it. One sample is the
 *   time from the ping's arrival to its answer: what the server adds to the
 *   light client's round trip.
 *
 * Without the budget the flooder's turn is its whole burst, and a ping that
 * arrives behind it waits for all of it. With the budget the flooder gives
 * way every 128 operations.
 *
 * `node dist/bench/fairness/workload.js <alone|on|off> <durationMs>` runs one
 * configuration in this process and prints `FAIRNESS <FairnessResult as JSON>`.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Broadcast, Queue, call, run, withTaskGroup, type Operation } from "../../src/index.ts";
import { ReaderBase } from "../../src/io.ts";
import { setBudgetEnabled } from "../../src/core/budget.ts";

/** Which configuration: the light client alone, or next to the flooder with the budget on or off. */
export type FairnessMode = "alone" | "on" | "off";

export interface FairnessResult {
  mode: FairnessMode;
  /** Round trips measured (after the warm-up). */
  roundTrips: number;
  /** Round-trip latency percentiles, in microseconds. */
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  /** Lines the flooder read and published per second (0 alone). */
  floodLinesPerSecond: number;
}

const LINE_BYTES = 64;
const CHUNK_LINES = 256;
/**
 * Chunks served at once per host turn: 1 MiB, 16,384 lines, about what the
 * flooder gets through in the event loop driver's 4 ms slice here. Smaller
 * bursts starve the light client for less time, and the difference sinks
 * into this shared machine's noise.
 */
export const BURST_CHUNKS = 64;
/** How often the light client pings (once the previous ping was answered). */
const PING_EVERY_MS = 1;

const CHUNK = new TextEncoder().encode(`${"x".repeat(LINE_BYTES - 1)}\n`.repeat(CHUNK_LINES));

/** A host turn: what a socket waits for before more bytes arrive. */
function hostTurn(): Operation<void> {
  return call(() => new Promise<void>((resolve) => setImmediate(resolve)));
}

/** The flooding client's connection: BURST_CHUNKS chunks at once, then a host turn, for ever. */
class FloodSource extends ReaderBase {
  #left = BURST_CHUNKS;
  #closed = false;

  protected *readChunk(): Operation<Uint8Array | undefined> {
    if (this.#left === 0) {
      yield* hostTurn();
      this.#left = BURST_CHUNKS;
    }
    this.#left--;
    return CHUNK.slice();
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Runs one configuration for `durationMs` (the first `warmupMs` not counted). */
export async function fairnessRun(mode: FairnessMode, durationMs: number, warmupMs: number): Promise<FairnessResult> {
  setBudgetEnabled(mode !== "off");
  const samples: number[] = [];
  let lines = 0;
  let linesAtWarm = -1;
  let warmAt = 0;
  let endAt = 0;
  await run(function* () {
    const bus = new Broadcast<string>({ capacity: 256, policy: "dropOldest" });
    // The light client's socket: pings, each the time it arrived.
    const pings = new Queue<number>();
    let answered = true;
    yield* withTaskGroup<void>(function* (group) {
      const light = bus.subscribe();
      // The light client's outbound side: every broadcast reaches it.
      group.startSoon(function* () {
        for (;;) yield* light.get();
      });
      // The light client's connection: answers each ping; the answer is the sample.
      group.startSoon(function* () {
        for (;;) {
          const sentAt = yield* pings.get();
          const now = performance.now();
          if (now >= warmAt) samples.push(now - sentAt);
          answered = true;
        }
      });
      if (mode !== "alone") {
        group.startSoon(function* () {
          const source = new FloodSource();
          for (;;) {
            const line = yield* source.readLine();
            if (line === undefined) return;
            yield* bus.publish(line);
            lines++;
          }
        });
      }
      const start = performance.now();
      warmAt = start + warmupMs;
      // The light client, on the host: a ping arrives every PING_EVERY_MS once the last one was answered.
      yield* call(
        () =>
          new Promise<void>((resolve) => {
            const tick = (): void => {
              const now = performance.now();
              if (now >= start + durationMs) return resolve();
              if (now >= warmAt && linesAtWarm < 0) linesAtWarm = lines;
              if (answered) {
                answered = false;
                pings.tryPut(now);
              }
              setTimeout(tick, PING_EVERY_MS);
            };
            tick();
          }),
      );
      endAt = performance.now();
      group.returnImmediately(undefined);
    });
  });
  setBudgetEnabled(true);
  const sorted = Float64Array.from(samples).sort();
  const us = (ms: number): number => Math.round(ms * 1000);
  return {
    mode,
    roundTrips: samples.length,
    p50Us: us(percentile(sorted, 50)),
    p90Us: us(percentile(sorted, 90)),
    p99Us: us(percentile(sorted, 99)),
    maxUs: us(sorted.length === 0 ? 0 : sorted[sorted.length - 1]!),
    floodLinesPerSecond: Math.round(((lines - linesAtWarm) * 1000) / (endAt - warmAt)),
  };
}

// Run as a program: one configuration in a fresh process.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const mode = process.argv[2] as FairnessMode;
  if (mode !== "alone" && mode !== "on" && mode !== "off") throw new TypeError(`fairness: mode must be alone, on or off, got ${mode}`);
  const durationMs = Number(process.argv[3] ?? 2000);
  console.log(`FAIRNESS ${JSON.stringify(await fairnessRun(mode, durationMs, Math.min(500, durationMs / 4)))}`);
}
