/**
 * Argument checks for the TLS functions, in the house style of
 * `../net/validate.ts`: a TypeError or RangeError naming the function and the
 * argument.
 */
import { describe } from "../../core/operation.ts";
import { requireOptionalMs } from "../net/validate.ts";

/**
 * PEM text or PEM bytes: a key, a certificate, or a list of them (a chain,
 * several roots).
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * yield* withTmpdir(function* (dir) {
 *   yield* writeFile(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n");
 *   const ca: Credential = yield* readTextFile(join(dir, "ca.pem")); // PEM text, or its bytes
 *   console.log(ca.startsWith("-----BEGIN")); // prints true
 * });
 * ```
 */
export type Credential = string | Uint8Array | readonly (string | Uint8Array)[];

/** The default time a TLS handshake may take. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Throws unless `value` is a PEM string, bytes, or a non-empty list of them (or, when `optional`, undefined). */
export function requireCredential(api: string, name: string, value: unknown, optional: boolean): asserts value is Credential | undefined {
  if (value === undefined && optional) return;
  const one = (v: unknown): boolean => (typeof v === "string" && v.length > 0) || (v instanceof Uint8Array && v.length > 0);
  if (Array.isArray(value) ? value.length > 0 && value.every(one) : one(value)) return;
  throw new TypeError(`${api}: ${name} must be a non-empty PEM string, Uint8Array, or a non-empty array of them, got ${describe(value)}`);
}

/** Node's form of a credential (it accepts strings and Buffers). */
export function toNodeCredential(value: Credential | undefined): string | Buffer | (string | Buffer)[] | undefined {
  if (value === undefined) return undefined;
  const one = (v: string | Uint8Array): string | Buffer => (typeof v === "string" ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  return typeof value === "string" || value instanceof Uint8Array ? one(value) : value.map(one);
}

/** Throws unless `alpn` is undefined or a non-empty array of protocol names of 1–255 bytes. */
export function requireAlpn(api: string, alpn: unknown): asserts alpn is readonly string[] | undefined {
  if (alpn === undefined) return;
  if (!Array.isArray(alpn) || alpn.length === 0 || !alpn.every((p) => typeof p === "string")) {
    throw new TypeError(`${api}: options.alpn must be a non-empty array of protocol names, got ${describe(alpn)}`);
  }
  for (const name of alpn as string[]) {
    const size = Buffer.byteLength(name);
    if (size === 0 || size > 255)
      throw new RangeError(`${api}: options.alpn entries must be 1 to 255 bytes long, got ${JSON.stringify(name)}`);
  }
}

/** Throws unless `value` is undefined or a whole number of milliseconds >= 1. */
export function requireHandshakeTimeout(api: string, value: unknown): asserts value is number | undefined {
  requireOptionalMs(api, "options.handshakeTimeout", value);
  if (value === 0) throw new RangeError(`${api}: options.handshakeTimeout must be at least 1 ms, got 0`);
}

/** Throws unless `value` is undefined or a non-empty string. */
export function requireOptionalName(api: string, name: string, value: unknown): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== "string") throw new TypeError(`${api}: ${name} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw new RangeError(`${api}: ${name} must not be empty`);
}

/** The error of a handshake that took longer than allowed; Node's code for it. */
export function handshakeTimeoutError(api: string, ms: number, target: string): Error {
  return Object.assign(new Error(`${api}: the TLS handshake with ${target} did not finish within ${ms} ms`), {
    code: "ERR_TLS_HANDSHAKE_TIMEOUT",
  });
}
