/**
 * `node:test` for the browser bundle of the test suite (the Chromium host
 * aliases the module to this file). `test()` only records the test; the page
 * harness (`page_harness.ts`) runs the recorded tests one after the other,
 * in registration order, as Node's runner does for top-level tests.
 *
 * Supported: `test(name, fn)`, `test(name, options, fn)`, `test(fn)`,
 * `test.skip`/`test.todo`/`test.only` and `it` (an alias), with `fn` sync or
 * async, taking no argument or a small context (`name`, `signal`,
 * `diagnostic`). Callback-style tests (`(t, done) => …`) are reported as
 * failures rather than guessed at.
 */

/** The context passed to a test function that asks for one. */
export interface TestContext {
  readonly name: string;
  readonly signal: AbortSignal;
  diagnostic(message: string): void;
}

export type TestFn = (t: TestContext) => unknown;

export interface TestOptions {
  skip?: boolean | string;
  todo?: boolean | string;
  only?: boolean;
  timeout?: number;
}

export interface RegisteredTest {
  readonly name: string;
  readonly fn: TestFn;
  readonly skip: boolean | string;
  readonly todo: boolean | string;
  readonly timeout: number | undefined;
}

const registered: RegisteredTest[] = [];

/** Every test registered so far, in order (the array grows if tests register more). */
export function registeredTests(): readonly RegisteredTest[] {
  return registered;
}

function register(args: unknown[], extra: TestOptions): void {
  let name: string | undefined;
  let options: TestOptions = {};
  let fn: TestFn | undefined;
  for (const arg of args) {
    if (typeof arg === "string") name = arg;
    else if (typeof arg === "function") fn = arg as TestFn;
    else if (typeof arg === "object" && arg !== null) options = arg as TestOptions;
  }
  const opts = { ...options, ...extra };
  registered.push({
    name: name ?? fn?.name ?? "<anonymous>",
    fn: fn ?? (() => {}),
    skip: opts.skip ?? false,
    todo: opts.todo ?? (fn === undefined ? true : false),
    timeout: opts.timeout,
  });
}

type TestApi = {
  (name: string, fn?: TestFn): void;
  (name: string, options: TestOptions, fn?: TestFn): void;
  (fn: TestFn): void;
  (options: TestOptions, fn: TestFn): void;
};

export const test = Object.assign((...args: unknown[]): void => register(args, {}), {
  skip: (...args: unknown[]): void => register(args, { skip: true }),
  todo: (...args: unknown[]): void => register(args, { todo: true }),
  only: (...args: unknown[]): void => register(args, {}),
}) as TestApi & { skip: TestApi; todo: TestApi; only: TestApi };

export const it = test;
export default test;
