/**
 * `resolveHost`: a host name to its addresses, through the system resolver.
 */
import { lookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { action } from "../../core/action.ts";
import { checkCancellation } from "../../core/cancel.ts";
import type { Operation } from "../../core/operation.ts";
import { annotateOsError } from "./os_error.ts";
import { requireFamily, requireHost, requireOptions } from "./validate.ts";

/**
 * One address of a host: the IP as text and its family.
 *
 * @example
 * ```ts
 * const [first] = yield* resolveHost("localhost"); // { address: "127.0.0.1", family: 4 }
 * ```
 */
export interface HostAddress {
  /** The address as text (`"127.0.0.1"`, `"::1"`). */
  readonly address: string;
  /** The IP version of the address. */
  readonly family: 4 | 6;
}

/**
 * Options for {@link resolveHost}.
 *
 * @example
 * ```ts
 * const v4 = yield* resolveHost("localhost", { family: 4 });
 * console.log(v4.every((a) => a.family === 4)); // prints true
 * ```
 */
export interface ResolveHostOptions {
  /** Only addresses of this family (default: both). */
  family?: 4 | 6;
}

/** An IP literal as its own address, or undefined for a name. */
export function literalAddress(host: string): HostAddress | undefined {
  const family = isIP(host);
  return family === 0 ? undefined : { address: host, family: family as 4 | 6 };
}

/**
 * Resolves `name` to its addresses, in the order the system resolver gives
 * them (`/etc/hosts`, then DNS: Node's `dns.lookup` with `all: true`). An IP
 * literal resolves to itself at once.
 *
 * A lookup cannot be interrupted: if the task is cancelled, it resumes with
 * `Cancelled` at once and the lookup is abandoned (it finishes in the
 * background and its answer is dropped). An answer that arrives in the same
 * round as the cancellation is returned instead.
 *
 * Errors keep Node's `code` (`ENOTFOUND`, `EAI_AGAIN`, …) and `hostname`; the
 * message names `resolveHost()`.
 *
 * @example
 * ```ts
 * for (const { address, family } of yield* resolveHost("localhost")) {
 *   console.log(`IPv${family} ${address}`);
 * }
 * ```
 */
export function* resolveHost(name: string, options?: ResolveHostOptions): Operation<HostAddress[]> {
  requireHost("resolveHost()", "name", name);
  requireOptions("resolveHost()", options, true);
  const family = options?.family;
  requireFamily("resolveHost()", family);
  checkCancellation();
  const literal = literalAddress(name);
  if (literal !== undefined) {
    if (family !== undefined && literal.family !== family) {
      throw Object.assign(new Error(`resolveHost(): ${name} is not an IPv${family} address`), { code: "ENOTFOUND", hostname: name });
    }
    return [literal];
  }
  return yield* action<HostAddress[]>((resolve, reject) => {
    lookup(name, { all: true, family: family ?? 0 }, (error, addresses: LookupAddress[]) => {
      if (error !== null) reject(annotateOsError("resolveHost()", error));
      else resolve(addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })));
    });
    // Nothing to release: getaddrinfo runs to completion in Node's thread pool.
  });
}
