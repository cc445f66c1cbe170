/**
 * Type tests for the public API of `weft`: what each call infers, and (with
 * `@ts-expect-error`) what must not compile. Compiled, never run.
 */
import {
  all,
  allSettled,
  any,
  createContext,
  type Settled,
  call,
  Lazy,
  type Operation,
  Queue,
  run,
  sleep,
  type Task,
  type TaskGroup,
  until,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
} from "../src/index.ts";
import type { Reader, Writer } from "../src/io.ts";
import { expectType } from "./expect.ts";

declare function op<T>(value: T): Operation<T>;

export function* spawnAndGroups(): Operation<void> {
  // A body that does not take the group: T is inferred from its return.
  const inferred = yield* withTaskGroup(function* () {
    yield* sleep(1);
    return 1;
  });
  expectType<number>()(inferred);

  // A body whose group parameter is left to context fixes T before the return
  // is seen (a TypeScript rule for context-sensitive functions), so T is given
  // explicitly, or the parameter is annotated.
  const annotated = yield* withTaskGroup(function* (group: TaskGroup<boolean>) {
    group.startSoon(() => op(undefined));
    return true;
  });
  expectType<boolean>()(annotated);

  const n = yield* withTaskGroup<number>(function* (group) {
    expectType<TaskGroup<number>>()(group);
    // spawn returns a Task of the child's own result type, not the group's.
    const child = group.spawn(() => op("text"));
    expectType<Task<string>>()(child);
    const text = yield* child.wait();
    expectType<string>()(text);
    expectType<string | undefined>()(child.tryWait());
    return 1;
  });
  expectType<number>()(n);

  const label = yield* withTaskGroup<string>(function* () {
    return "done";
  });
  expectType<string>()(label);

  // @ts-expect-error the body returns a number where the group is declared to give a string
  yield* withTaskGroup<string>(function* () {
    return 1;
  });
}

export function* allSettledTypes(): Operation<void> {
  // A tuple of bodies gives a tuple of settled entries, position by position.
  const tuple = yield* allSettled([() => op(1), () => op("a")], { maxConcurrent: 1 });
  expectType<[Settled<number>, Settled<string>]>()(tuple);
  const bodies: Array<() => Operation<number>> = [() => op(1)];
  expectType<Settled<number>[]>()(yield* allSettled(bodies));
  const [first] = tuple;
  if (first.ok) expectType<number>()(first.value);
  else expectType<unknown>()(first.error);
  // @ts-expect-error value exists only on a successful entry
  void first.value;
  // @ts-expect-error maxConcurrent is a number
  yield* allSettled(bodies, { maxConcurrent: "2" });
}

export function* contextTypes(): Operation<void> {
  const RequestId = createContext<string>("requestId");
  expectType<string>()(RequestId.get());
  expectType<string | undefined>()(RequestId.find());
  const n = yield* RequestId.with("id", function* () {
    return 1;
  });
  expectType<number>()(n);
  // @ts-expect-error the value must be the context's type
  yield* RequestId.with(5, function* () {});
}

export function* allAndAny(): Operation<void> {
  // A tuple of bodies gives a tuple of their result types.
  const tuple = yield* all([() => op(1), () => op("a"), () => op(true)]);
  expectType<[number, string, boolean]>()(tuple);

  // A readonly tuple, and options, keep the tuple; no bodies give an empty tuple.
  const bodyTuple = [() => op(1n), () => op(null)] as const;
  const fromConst = yield* all(bodyTuple, { maxConcurrent: 1 });
  expectType<[bigint, null]>()(fromConst);
  const none = yield* all([]);
  expectType<[]>()(none);

  // An array of bodies gives an array.
  const bodies: Array<() => Operation<number>> = [() => op(1), () => op(2)];
  const values = yield* all(bodies);
  expectType<number[]>()(values);
  const mapped = yield* all(["a", "b"].map((s) => () => op(s.length)));
  expectType<number[]>()(mapped);

  // The explicit element type form still works.
  const explicit = yield* all<number>([() => op(1), () => op(2)], { maxConcurrent: 1 });
  expectType<number[]>()(explicit);

  // any gives the union of the results.
  const first = yield* any([() => op(1), () => op("a")]);
  expectType<number | string>()(first);
  const same = yield* any(bodies, { allowFailure: true });
  expectType<number>()(same);

  // @ts-expect-error a body must return an Operation, not a plain value
  yield* all([() => 1]);
  // @ts-expect-error with an explicit element type every body must return it
  yield* all<number>([() => op(1), () => op("a")]);
  // @ts-expect-error maxConcurrent is a number
  yield* all(bodies, { maxConcurrent: "2" });
}

export function* timeouts(): Operation<void> {
  const v = yield* withTimeout(100, () => op(1));
  expectType<number>()(v);
  const maybe = yield* withTimeoutOpt(100, () => op("x"));
  expectType<string | undefined>()(maybe);
  // @ts-expect-error the timeout comes first
  yield* withTimeout(() => op(1), 100);
}

export function* queuesAndLazy(): Operation<void> {
  const queue = new Queue<number>();
  yield* queue.put(1);
  expectType<boolean>()(queue.tryPut(2));
  const got = yield* queue.get();
  expectType<number>()(got);
  // @ts-expect-error a Queue<number> takes numbers only
  yield* queue.put("one");
  // @ts-expect-error a Queue<number> takes numbers only
  queue.tryPut(null);

  const lazy = new Lazy(() => op({ port: 80 }));
  const config = yield* lazy.wait();
  expectType<{ port: number }>()(config);
}

export function* promises(signal: AbortSignal): Operation<void> {
  const body = yield* call(async (s) => {
    expectType<AbortSignal>()(s);
    return "body";
  });
  expectType<string>()(body);
  const n = yield* until(Promise.resolve(3));
  expectType<number>()(n);
  // @ts-expect-error call takes a function of the signal, not a promise
  yield* call(Promise.resolve(1));
  void signal;
}

export function* readersAndWriters(reader: Reader, writer: Writer): Operation<void> {
  const buf = new Uint8Array(16);
  const count = yield* reader.read(buf);
  expectType<number>()(count);
  yield* writer.write("text");
  yield* writer.write(buf);
  // @ts-expect-error a Writer takes strings or bytes
  yield* writer.write(42);
}

export async function drivers(): Promise<void> {
  const result = run(function* () {
    yield* sleep(1);
    return 5;
  });
  expectType<Promise<number>>()(result);
}

export function* misuse(): Operation<void> {
  // @ts-expect-error yield* needs an operation (an iterable), not a promise
  yield* Promise.resolve(1);
  // @ts-expect-error sleep takes milliseconds as a number
  yield* sleep("10");
  yield* withTaskGroup(function* (group) {
    // @ts-expect-error spawn's body is a function returning an operation, not the operation
    group.spawn(op(1));
  });
}
