/**
 * weft's workloads, as generator bodies, and the two peers that drive them:
 * `weft` on the event-loop driver (`run`), what users get on Node, Bun, Deno
 * and browsers, and `weft-pump` on `weft/host`'s `createHost().pump()`, what
 * an embedder with no event loop does.
 */
import {
  CondVar,
  Queue,
  QueueClosed,
  Semaphore,
  pause,
  run,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
} from "../../src/index.ts";
import { createHost, type Host } from "../../src/host.ts";
import { check, hostSetTimeout, type BenchEnv, type PeerWorkloads } from "../peer.ts";

type Body = (n: number) => Operation<number>;

function* pauseLoop(n: number): Operation<number> {
  let count = 0;
  for (let i = 0; i < n; i++) {
    yield* pause();
    count++;
  }
  return count;
}

function* pingPong(n: number): Operation<number> {
  let turns = 0;
  let last = -1;
  let alternations = 0;
  yield* withTaskGroup<void>(function* (group) {
    for (let who = 0; who < 2; who++) {
      group.startSoon(function* () {
        for (let i = 0; i < n / 2; i++) {
          if (last !== who) alternations++;
          last = who;
          turns++;
          yield* pause();
        }
      });
    }
  });
  check("pause_pingpong alternations", alternations, n);
  return turns;
}

function* spawnWait(n: number): Operation<number> {
  let finished = 0;
  function* child(): Operation<void> {
    yield* pause();
    finished++;
  }
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < n; i++) group.startSoon(child);
  });
  return finished;
}

function timerBurst(ms: number): Body {
  return function* (n) {
    let fired = 0;
    function* child(): Operation<void> {
      yield* sleep(ms);
      fired++;
    }
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < n; i++) group.startSoon(child);
    });
    return fired;
  };
}

/** One producer, one consumer; the consumer checks that items arrive in order. */
function queueThroughput(capacity: number): Body {
  return function* (n) {
    const q = new Queue<number>({ kind: "blocking", capacity });
    let received = 0;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let i = 0; i < n; i++) yield* q.put(i);
        q.close();
      });
      try {
        for (;;) {
          const item = yield* q.get();
          if (item !== received) throw new Error(`aqueue: got ${item}, expected ${received}`);
          received++;
        }
      } catch (error) {
        if (!(error instanceof QueueClosed)) throw error;
      }
    });
    return received;
  };
}

function* semaphoreThroughput(n: number): Operation<number> {
  const lock = new Semaphore(1);
  let acquisitions = 0;
  let inside = 0;
  yield* withTaskGroup<void>(function* (group) {
    for (let t = 0; t < 2; t++) {
      group.startSoon(function* () {
        for (let i = 0; i < n / 2; i++) {
          yield* lock.acquire();
          if (++inside !== 1) throw new Error("semaphore: two holders");
          acquisitions++;
          yield* pause();
          inside--;
          lock.release();
        }
      });
    }
  });
  return acquisitions;
}

function* condVarSignal(n: number): Operation<number> {
  const changed = new CondVar();
  let produced = 0;
  let consumed = 0;
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(function* () {
      for (let i = 0; i < n; i++) {
        yield* pause();
        produced++;
        changed.signal();
      }
    });
    while (consumed < n) {
      while (consumed === produced) yield* changed.wait();
      consumed = produced;
    }
  });
  return consumed;
}

function* groupOverhead(n: number): Operation<number> {
  let entered = 0;
  function* body(): Operation<void> {
    entered++;
    yield* pause();
  }
  for (let i = 0; i < n; i++) yield* withTaskGroup<void>(body);
  return entered;
}

function* pauseThenOne(): Operation<number> {
  yield* pause();
  return 1;
}

function* timeoutOverhead(n: number): Operation<number> {
  let completed = 0;
  for (let i = 0; i < n; i++) completed += (yield* withTimeoutOpt(1000, pauseThenOne)) ?? 0;
  return completed;
}

const HOUR_MS = 3_600_000;

/** Spawns `n` sleepers, lets every one park in its sleep, then ends the group at once: all are cancelled. */
function* cancelSleepers(n: number): Operation<number> {
  let cleaned = 0;
  let asleep = 0;
  function* sleeper(): Operation<void> {
    asleep++;
    try {
      yield* sleep(HOUR_MS);
    } finally {
      cleaned++;
    }
  }
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < n; i++) group.startSoon(sleeper);
    yield* pause();
    check("cancel_1m sleepers parked", asleep, n);
    group.returnImmediately(undefined);
  });
  return cleaned;
}

const bodies: Record<string, { api: string; body: Body }> = {
  pause_loop: { api: "pause()", body: pauseLoop },
  pause_pingpong: { api: "pause(), 2 tasks in a TaskGroup", body: pingPong },
  spawn_wait: { api: "group.startSoon + pause(), withTaskGroup waits", body: spawnWait },
  aqueue_cap1: { api: "Queue blocking cap 1, put/get, close", body: queueThroughput(1) },
  aqueue_cap64: { api: "Queue blocking cap 64, put/get, close", body: queueThroughput(64) },
  semaphore_throughput: { api: "Semaphore(1) acquire/release, pause()", body: semaphoreThroughput },
  cond_var_signal: { api: "CondVar wait/signal, pause()", body: condVarSignal },
  timer_burst_sleep0: { api: "sleep(0) in startSoon children", body: timerBurst(0) },
  timer_burst_sleep1: { api: "sleep(1) in startSoon children", body: timerBurst(1) },
  group_overhead: { api: "withTaskGroup(body pauses once)", body: groupOverhead },
  timeout_overhead: { api: "withTimeoutOpt(1000, body pauses once)", body: timeoutOverhead },
  cancel_1m: { api: "startSoon(sleep(1 h) in try/finally), group.returnImmediately cancels them", body: cancelSleepers },
};

/** `weft`: every workload through `run(body)`, the event-loop driver. */
export function eventLoopPeer(): PeerWorkloads {
  const out: PeerWorkloads = {};
  for (const [name, { api, body }] of Object.entries(bodies)) {
    out[name] =
      hostSetTimeout() === undefined
        ? { unavailable: "no event loop on this host: weft runs here through weft/host's pump (weft-pump)" }
        : { api: `run(); ${api}`, run: (n) => run(() => body(n)) };
  }
  return out;
}

/**
 * Drives a body on a host pump as an embedder would: pump, pump again while
 * work is ready, otherwise wait for the next deadline (spinning on the clock
 * here, to stay in one thread).
 */
function runOnPump(host: Host, body: () => Operation<number>): number {
  const task = host.spawn(body);
  for (;;) {
    const { nextDeadline, ready } = host.pump();
    if (task.done) return task.tryWait()!;
    if (ready > 0) continue;
    if (nextDeadline === undefined) throw new Error("pump: tasks are blocked with no timer");
    while (host.now() < nextDeadline) {
      // An embedder would sleep here.
    }
  }
}

/** `weft-pump`: every workload through one `createHost({ now })` per process, as an embedder has one. */
export function pumpPeer(env: BenchEnv): PeerWorkloads {
  const host = createHost({ now: env.now });
  const out: PeerWorkloads = {};
  for (const [name, { api, body }] of Object.entries(bodies)) {
    out[name] = { api: `createHost().pump(); ${api}`, run: (n) => runOnPump(host, () => body(n)) };
  }
  return out;
}
