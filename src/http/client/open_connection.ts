/**
 * Opening a byte stream to an origin, for `HttpClient` and
 * `connectWebSocket`: TCP or TLS, directly or through an HTTP proxy's
 * `CONNECT` tunnel (TLS then starts over the tunnel, so the proxy sees only
 * ciphertext).
 *
 * A plain `http://` request through a proxy needs no tunnel (it goes to the
 * proxy in absolute form), so `HttpClient` tunnels only for `https://`; a
 * WebSocket tunnels for `ws://` too, since a proxy cannot forward an
 * upgraded connection in absolute form.
 */
import { describe, type Operation } from "../../core/operation.ts";
import type { Reader } from "../../io/reader.ts";
import type { Writer } from "../../io/writer.ts";
import { connectTcp } from "../../node/net/connect_tcp.ts";
import { connectTls, type TlsClientOptions } from "../../node/tls/connect_tls.ts";
import { startTls } from "../../node/tls/start_tls.ts";
import { HttpInput } from "../codec/input.ts";
import { requestHeadBytes } from "../codec/serialize.ts";
import { HttpHeaders } from "../headers.ts";
import type { ResolvedHttpLimits } from "../limits.ts";
import { ProxyError, protocolError } from "./errors.ts";

/** A connection as connectTcp, connectTls and startTls return them. */
export type OriginTransport = Reader &
  Writer & { close(): void; abort?(): void; shutdownWrite?(): void; readonly cancelledWrite?: "queued" | "dropped" };

/** Where to connect. */
export interface Origin {
  /** The host as the URL names it (an IPv6 literal with its brackets). */
  hostname: string;
  port: number;
  /** TLS to the origin. */
  secure: boolean;
}

/** How to connect. */
export interface OpenOptions {
  /** An `http:` proxy URL (credentials in it are sent as `Proxy-Authorization: Basic`). */
  proxy?: URL;
  tls?: TlsClientOptions;
  /** Limits on the proxy's answer head. */
  limits: ResolvedHttpLimits;
  /** The ALPN protocols to offer over TLS. */
  alpn?: readonly string[];
  /** Who is asking, for error messages. */
  api: string;
}

/** The host as connect functions take it (an IPv6 literal without its brackets). */
export function bareHost(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
}

/** The `Proxy-Authorization` value for a proxy URL with credentials, or undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === "" && proxy.password === "") return undefined;
  const credentials = new TextEncoder().encode(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`);
  let binary = "";
  for (const byte of credentials) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Checks a proxy option: an `http:` URL (string or URL). */
export function requireProxy(api: string, proxy: unknown): URL | undefined {
  if (proxy === undefined) return undefined;
  let url: URL;
  if (proxy instanceof URL) url = proxy;
  else if (typeof proxy === "string") {
    try {
      url = new URL(proxy);
    } catch {
      throw new TypeError(`${api}: options.proxy must be an absolute URL, got ${JSON.stringify(proxy)}`);
    }
  } else throw new TypeError(`${api}: options.proxy must be a string or a URL, got ${describe(proxy)}`);
  if (url.protocol !== "http:") throw new TypeError(`${api}: options.proxy must be an http: URL, got ${url.protocol}`);
  return url;
}

/**
 * A connection to `origin`, through `options.proxy` when set. The caller
 * owns it; on failure or cancellation nothing is left open.
 */
export function* openConnection(origin: Origin, options: OpenOptions): Operation<OriginTransport> {
  const host = bareHost(origin.hostname);
  const { proxy, tls, alpn } = options;
  const alpnOption = alpn === undefined ? {} : { alpn };
  if (proxy === undefined) {
    if (!origin.secure) return yield* connectTcp({ host, port: origin.port });
    return yield* connectTls({ ...alpnOption, ...tls, host, port: origin.port });
  }
  const proxyPort = proxy.port === "" ? 80 : Number(proxy.port);
  const tcp = yield* connectTcp({ host: bareHost(proxy.hostname), port: proxyPort });
  try {
    yield* tunnel(tcp, origin, proxy, options);
  } catch (error) {
    tcp.abort();
    throw error;
  }
  if (!origin.secure) return tcp;
  // An IP literal is checked against the certificate's addresses and sends no SNI.
  const servername = tls?.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host);
  return yield* startTls(tcp, { ...alpnOption, ...tls, servername });
}

/** Asks the proxy for a tunnel with CONNECT; a non-2xx answer is a ProxyError. */
function* tunnel(tcp: OriginTransport, origin: Origin, proxy: URL, options: OpenOptions): Operation<void> {
  const authority = `${origin.hostname}:${origin.port}`;
  const headers = new HttpHeaders({ host: authority });
  const credentials = proxyAuthorization(proxy);
  if (credentials !== undefined) headers.set("proxy-authorization", credentials);
  yield* tcp.write(requestHeadBytes("CONNECT", authority, headers));
  const input = new HttpInput(tcp);
  const head = yield* input.readResponseHead(options.limits);
  if (head === undefined)
    throw protocolError(502, `${options.api}: the proxy closed the connection instead of answering CONNECT ${authority}`);
  if (head.status < 200 || head.status > 299) {
    throw new ProxyError(`${options.api}: the proxy answered CONNECT ${authority} with ${head.status} ${head.reason}`, head);
  }
  // The origin speaks only after our request (and TLS after our hello): bytes here are the proxy's.
  if (input.buffered > 0) throw protocolError(502, `${options.api}: the proxy sent bytes after its answer to CONNECT ${authority}`);
}
