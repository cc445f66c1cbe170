/**
 * curl: a small curl. GETs a URL and streams the body to stdout (or to a
 * file with `-o`) as it arrives, so a large download never sits in memory.
 *
 *   npm run build && node dist/examples/curl.js [options] <url>
 *
 *   -H 'Name: value'   add a request header (repeatable)
 *   -x <proxy>         go through an HTTP proxy (http://host:port); https
 *                      URLs are tunnelled with CONNECT
 *   --cacert <file>    trust the CA certificates (PEM) in this file
 *   -o <file>          write the body to this file instead of stdout
 *
 * Like curl, an HTTP error status (404, 500) is not a failure: the body is
 * written and the exit status is 0. Failures exit with curl's codes, and a
 * `curl: (N) …` line on stderr: 2 bad usage, 3 malformed URL, 1 unsupported
 * protocol, 5 proxy host not found, 6 host not found, 7 connection refused,
 * 23 the output could not be written, 28 timed out, 35 TLS handshake failed,
 * 56 the connection failed while receiving (or the proxy refused the
 * tunnel), 60 the server's certificate was not trusted, 77 the CA file could
 * not be read.
 */
import type { Operation } from "../src/index.ts";
import { HttpClient, ProxyError, type HttpClientOptions } from "../src/http/client/index.ts";
import { main, openFile, readTextFile, stderr, stdout } from "../src/node.ts";

/** A failure with curl's exit code. */
class CurlError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface Args {
  url: URL;
  headers: Array<[string, string]>;
  proxy?: string;
  cacert?: string;
  output?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const headers: Array<[string, string]> = [];
  let url: string | undefined;
  let proxy: string | undefined;
  let cacert: string | undefined;
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new CurlError(2, `option ${arg}: requires parameter`);
      return next;
    };
    if (arg === "-H" || arg === "--header") {
      const line = value();
      const colon = line.indexOf(":");
      if (colon <= 0) throw new CurlError(2, `option -H: bad header ${JSON.stringify(line)}, expected 'Name: value'`);
      headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    } else if (arg === "-x" || arg === "--proxy") proxy = value();
    else if (arg === "--cacert") cacert = value();
    else if (arg === "-o" || arg === "--output") output = value();
    else if (arg.startsWith("-")) throw new CurlError(2, `option ${arg}: is unknown`);
    else if (url === undefined) url = arg;
    else throw new CurlError(2, `one URL only, got ${JSON.stringify(url)} and ${JSON.stringify(arg)}`);
  }
  if (url === undefined) throw new CurlError(2, "no URL specified");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CurlError(3, `URL rejected: Malformed input to a URL function: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CurlError(1, `Protocol "${parsed.protocol.slice(0, -1)}" not supported`);
  }
  return { url: parsed, headers, proxy, cacert, output };
}

const certificateCodes = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_TLS_CERT_REJECTED",
]);

/** The exit code curl gives for a failure of the request (not of the output). */
function exitCodeOf(error: unknown, args: Args): number {
  if (error instanceof ProxyError) return 56;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return error instanceof TypeError ? 2 : 56;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return args.proxy === undefined ? 6 : 5;
  if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH") return 7;
  if (code === "ETIMEDOUT") return 28;
  if (certificateCodes.has(code) || code.startsWith("CERT_")) return 60;
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS")) return 35;
  return 56;
}

function* curl(args: Args): Operation<void> {
  let ca: string | undefined;
  if (args.cacert !== undefined) {
    try {
      ca = yield* readTextFile(args.cacert);
    } catch (error) {
      throw new CurlError(77, `error setting certificate file: ${args.cacert} (${(error as Error).message})`);
    }
  }
  const options: HttpClientOptions = {
    // curl takes a bare host:port as an http proxy.
    ...(args.proxy !== undefined && { proxy: args.proxy.includes("://") ? args.proxy : `http://${args.proxy}` }),
    ...(ca !== undefined && { tls: { ca } }),
  };
  using client = new HttpClient(options);
  let res;
  try {
    res = yield* client.get(args.url, { headers: args.headers });
  } catch (error) {
    throw new CurlError(exitCodeOf(error, args), (error as Error).message);
  }
  using response = res;
  // The body is copied a chunk at a time: a slow output slows the download down, memory stays flat.
  const copy = function* (write: (bytes: Uint8Array) => Operation<void>): Operation<void> {
    for (;;) {
      let chunk: Uint8Array | undefined;
      try {
        chunk = yield* response.body.readSome();
      } catch (error) {
        throw new CurlError(56, `Failure when receiving data from the peer: ${(error as Error).message}`);
      }
      if (chunk === undefined) return;
      try {
        yield* write(chunk);
      } catch (error) {
        throw new CurlError(23, `Failure writing output to destination: ${(error as Error).message}`);
      }
    }
  };
  if (args.output === undefined) {
    yield* copy((bytes) => stdout.write(bytes));
    return;
  }
  let file;
  try {
    file = yield* openFile(args.output, "w");
  } catch (error) {
    throw new CurlError(23, `Failure writing output to destination: ${(error as Error).message}`);
  }
  using out = file;
  yield* copy((bytes) => out.write(bytes));
}

main(function* () {
  try {
    yield* curl(parseArgs(process.argv.slice(2)));
  } catch (error) {
    if (!(error instanceof CurlError)) throw error;
    yield* stderr.write(`curl: (${error.exitCode}) ${error.message}\n`);
    process.exitCode = error.exitCode;
  }
});
