/**
 * Recipe: testing with virtual time (the code under test).
 *
 * `fetchQuote` asks a service for a quote, gives each attempt 2 s, and
 * retries a failed or timed-out attempt after 0.5 s, 1 s, 2 s, 4 s. Testing
 * that on the real clock would take seconds per case and depend on the
 * machine's speed; `retry-client-test.ts` tests it on virtual time, exactly
 * and at once.
 */
import { retry, withTimeout, type Operation } from "../../src/index.ts";

/** The service: anything that answers a request, perhaps slowly, perhaps never. */
export interface QuoteService {
  request(): Operation<string>;
}

/** Each attempt's time limit, in ms. */
export const ATTEMPT_TIMEOUT = 2000;

/** How many times a failed attempt is tried again. */
export const RETRIES = 4;

/** Asks `service` for a quote until an attempt answers within its time limit, at most 1 + {@link RETRIES} attempts. */
export function* fetchQuote(service: QuoteService): Operation<string> {
  return yield* retry(
    { kind: "exponentialDelay", initialMs: 500, factor: 2, maximumMs: 4000 },
    () => withTimeout(ATTEMPT_TIMEOUT, () => service.request()),
    {
      maxRetry: RETRIES,
    },
  );
}
