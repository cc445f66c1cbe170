/**
 * Task-local context values: `createContext`, `Context` (docs/semantics.md, «Context»).
 */
import { callBody } from "./cancel.ts";
import type { ContextFrame } from "./coroutine.ts";
import { WeftUsageError } from "./errors.ts";
import { describe, requireFunction, type Operation } from "./operation.ts";
import { current, requireTask } from "./scheduler.ts";

const NOT_FOUND: unique symbol = Symbol("weft.context.notFound");

function lookup(frame: ContextFrame | null, key: object): unknown {
  for (let f = frame; f !== null; f = f.parent) if (f.key === key) return f.value;
  return NOT_FOUND;
}

/**
 * A task-local value, made by {@link createContext}: `with(value, body)` sets
 * it for the duration of `body`, `get()` reads it. A task spawned while a
 * value is set sees that value for its whole life (it is copied at spawn,
 * from the task that spawns it), even after the spawner's `with` has ended;
 * a value set later in the spawner does not reach it, nor does one set in a
 * child reach its parent.
 *
 * @example
 * ```ts
 * const RequestId = createContext<string>("requestId");
 * yield* RequestId.with("req-42", function* () {
 *   yield* withTaskGroup(function* (group) {
 *     group.startSoon(function* () {
 *       console.log(RequestId.get()); // prints req-42: children inherit it
 *     });
 *   });
 * });
 * console.log(RequestId.find()); // prints undefined: with() restored it
 * ```
 */
export class Context<T> {
  /** The name given to {@link createContext}, used in error messages. */
  readonly name: string;
  readonly #hasDefault: boolean;
  readonly #default: T | undefined;

  /**
   * Creates a context; prefer {@link createContext}.
   *
   * @param name a name for error messages
   * @param hasDefault whether `defaultValue` is the value where none was set
   * @param defaultValue the value `get()` returns where none was set
   */
  constructor(name: string, hasDefault: boolean, defaultValue: T | undefined) {
    if (typeof name !== "string") throw new TypeError(`createContext(): name must be a string, got ${describe(name)}`);
    this.name = name;
    this.#hasDefault = hasDefault;
    this.#default = defaultValue;
  }

  /**
   * Runs `body` with the context set to `value` in the running task and in
   * the tasks spawned meanwhile; the previous value is back when `body` ends,
   * however it ends.
   */
  *with<R>(value: T, body: () => Operation<R>): Operation<R> {
    requireFunction("Context.with()", "body", body);
    const task = requireTask("Context.with()");
    const saved = task.context;
    task.context = { key: this, value, parent: saved };
    try {
      return yield* callBody("Context.with()", body);
    } finally {
      task.context = saved;
    }
  }

  /**
   * The value in the running task: the innermost `with`, else the one
   * inherited at spawn, else the default. Throws `WeftUsageError` if there
   * is none of these, or outside a task.
   */
  get(): T {
    const found = lookup(requireTask(`Context "${this.name}".get()`).context, this);
    if (found !== NOT_FOUND) return found as T;
    if (this.#hasDefault) return this.#default as T;
    throw new WeftUsageError(
      `Context "${this.name}".get(): no value is set in this task and the context has no default; set one with yield* ${this.name}.with(value, body), or use find()`,
    );
  }

  /** Like {@link Context.get}, but `undefined` instead of an error where no value and no default exist, or outside a task. */
  find(): T | undefined {
    const task = current;
    const found = task === null ? NOT_FOUND : lookup(task.context, this);
    if (found !== NOT_FOUND) return found as T;
    return this.#default;
  }
}

/**
 * Makes a task-local {@link Context}: the thing a request handler uses for
 * its request id or deadline, seen by every task it spawns. With a
 * `defaultValue`, `get()` returns it where no value was set; without one,
 * `get()` throws there.
 *
 * @example
 * ```ts
 * const Locale = createContext("locale", "en");
 * console.log(Locale.get()); // prints en
 * yield* Locale.with("fr", function* () {
 *   console.log(Locale.get()); // prints fr
 * });
 * ```
 */
export function createContext<T>(name: string, defaultValue?: T): Context<T> {
  return new Context<T>(name, arguments.length >= 2, defaultValue);
}
