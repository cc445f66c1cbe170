/**
 * http-file-server: serves a folder over HTTP.
 *
 *   npm run build && node dist/examples/http-file-server.js [folder] [port]
 *
 * - a folder gets an HTML listing of its entries (names escaped, links
 *   percent-encoded); a folder asked for without its final `/` is redirected
 *   to it, so the listing's relative links work;
 * - nothing outside the folder is served: a path that climbs out of it with
 *   `..` (however encoded) gets 403, and so does one that reaches outside
 *   through a symbolic link (the real path is checked, not just the name);
 * - `GET` and `HEAD` only (405 otherwise); `Range: bytes=a-b` (also `a-` and
 *   `-n`) gets 206 with that part of the file, or 416 when it lies past the
 *   end; a list of ranges is answered with the whole file, which HTTP allows;
 * - text files are sent gzipped when the client accepts gzip (not for a
 *   range: a byte range is a range of the file, not of its compressed form);
 * - Ctrl-C (SIGINT) shuts down gracefully: the listener closes, idle
 *   connections are dropped, downloads in progress get up to 10 s to finish,
 *   then the program exits with 0.
 *
 * It prints `serving <folder> on http://127.0.0.1:<port>/` once it listens.
 */
import path from "node:path";
import { withTaskGroup, type Operation } from "../src/index.ts";
import { WriterBase, gzipWriter } from "../src/io.ts";
import { listenHttp, type HttpRequest, type HttpResponse } from "../src/http/server/index.ts";
import { main, openFile, readDir, realpath, stat, waitSignal } from "../src/node.ts";

const CHUNK = 64 * 1024;
const GRACE_MS = 10_000;

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".xml": "application/xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".pdf": "application/pdf",
  ".gz": "application/gzip",
};

function contentType(file: string): string {
  return types[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** Worth compressing: text, and the structured text formats. */
function compressible(type: string): boolean {
  return type.startsWith("text/") || /^application\/(json|xml)|^image\/svg\+xml/.test(type);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The client accepts gzip: listed in Accept-Encoding without `q=0`. */
function acceptsGzip(req: HttpRequest): boolean {
  const header = req.headers.get("accept-encoding") ?? "";
  return header.split(",").some((item) => {
    const [coding, ...params] = item.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    return !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
  });
}

/**
 * The single range of `Range: bytes=…` within a file of `size` bytes:
 * `null` when there is no usable header (absent, another unit, a list of
 * ranges, bad syntax: the whole file is sent), `"unsatisfiable"` when it
 * starts past the end.
 */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    // A suffix: the last n bytes.
    const n = Number(match[2]);
    if (n === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** The response body as a weft Writer, so a compressor can write into it. */
class ResponseBody extends WriterBase {
  readonly #res: HttpResponse;
  constructor(res: HttpResponse) {
    super();
    this.#res = res;
  }
  protected *writeChunk(bytes: Uint8Array): Operation<void> {
    yield* this.#res.write(bytes);
  }
  protected get isClosed(): boolean {
    return false;
  }
  close(): void {}
}

/** Copies `length` bytes of the file at `start` into `out`, a chunk at a time. */
function* copyFile(file: string, start: number, length: number, out: (bytes: Uint8Array) => Operation<void>): Operation<void> {
  using f = yield* openFile(file);
  f.seek(start);
  const buf = new Uint8Array(CHUNK);
  for (let left = length; left > 0; ) {
    const n = yield* f.read(buf, 0, Math.min(CHUNK, left));
    // The file shrank while it was sent: the promised length cannot be kept, so the response fails (and the connection is dropped).
    if (n === 0) throw new Error(`${file} ended ${left} bytes early`);
    yield* out(buf.subarray(0, n));
    left -= n;
  }
}

function* listing(res: HttpResponse, dir: string, urlPath: string, head: boolean): Operation<void> {
  const entries = yield* readDir(dir, { sort: true });
  const items = entries.map((e) => {
    const name = e.isDirectory ? `${e.name}/` : e.name;
    return `<li><a href="${escapeHtml(encodeURIComponent(e.name) + (e.isDirectory ? "/" : ""))}">${escapeHtml(name)}</a></li>`;
  });
  const title = `Index of ${escapeHtml(urlPath)}`;
  const up = urlPath === "/" ? "" : `<li><a href="../">../</a></li>`;
  const html = `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<h1>${title}</h1>\n<ul>\n${up}${items.join("\n")}\n</ul>\n`;
  res.headers.set("content-type", "text/html; charset=utf-8");
  const bytes = new TextEncoder().encode(html);
  res.headers.set("content-length", bytes.length);
  yield* res.end(head ? undefined : bytes);
}

function* sendFile(req: HttpRequest, res: HttpResponse, file: string, size: number, head: boolean): Operation<void> {
  const type = contentType(file);
  res.headers.set("content-type", type);
  res.headers.set("accept-ranges", "bytes");
  const range = parseRange(req.headers.get("range"), size);
  if (range === "unsatisfiable") {
    yield* res.send(416, "", { "content-range": `bytes */${size}` });
    return;
  }
  if (range !== null) {
    res.status = 206;
    res.headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
  }
  const start = range?.start ?? 0;
  const length = range === null ? size : range.end - range.start + 1;
  if (range === null && compressible(type)) res.headers.set("vary", "accept-encoding");
  if (range === null && compressible(type) && acceptsGzip(req)) {
    // The compressed length is not known in advance: the body goes out chunked.
    res.headers.set("content-encoding", "gzip");
    if (head) {
      // What a GET would say: its compressed body goes out chunked.
      res.headers.set("transfer-encoding", "chunked");
      yield* res.end();
      return;
    }
    using gz = gzipWriter(new ResponseBody(res));
    yield* copyFile(file, start, length, (bytes) => gz.write(bytes));
    yield* gz.end();
    yield* res.end();
    return;
  }
  res.headers.set("content-length", length);
  if (head || length === 0) {
    yield* res.end();
    return;
  }
  yield* copyFile(file, start, length, (bytes) => res.write(bytes));
  yield* res.end();
}

/** The handler for the folder `root` (a real path). */
function fileHandler(root: string): (req: HttpRequest, res: HttpResponse) => Operation<void> {
  const inside = (p: string): boolean => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  return function* (req, res) {
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      yield* res.send(405, "method not allowed\n", { allow: "GET, HEAD" });
      return;
    }
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(req.url.pathname);
    } catch {
      yield* res.send(400, "bad path\n");
      return;
    }
    // The raw target too: a client may send `/../` that URL parsing would quietly resolve.
    if (urlPath.includes("\0") || req.target.split("?")[0]!.split("/").includes("..")) {
      yield* res.send(403, "forbidden\n");
      return;
    }
    const wanted = path.resolve(root, `.${urlPath}`);
    if (!inside(wanted)) {
      yield* res.send(403, "forbidden\n");
      return;
    }
    let real: string;
    try {
      real = yield* realpath(wanted);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" && (error as NodeJS.ErrnoException).code !== "ENOTDIR") throw error;
      yield* res.send(404, "not found\n");
      return;
    }
    // A symbolic link inside the folder that points outside it.
    if (!inside(real)) {
      yield* res.send(403, "forbidden\n");
      return;
    }
    const info = yield* stat(real);
    if (info.isDirectory()) {
      if (!urlPath.endsWith("/")) {
        yield* res.send(301, "", { location: `${req.url.pathname}/${req.url.search}` });
        return;
      }
      yield* listing(res, real, urlPath, head);
      return;
    }
    if (!info.isFile()) {
      yield* res.send(403, "forbidden\n");
      return;
    }
    yield* sendFile(req, res, real, info.size, head);
  };
}

main(function* () {
  const root = yield* realpath(process.argv[2] ?? ".");
  const port = Number(process.argv[3] ?? 0);
  using server = yield* listenHttp({ host: "127.0.0.1", port });
  console.log(`serving ${root} on http://127.0.0.1:${server.port}/`);
  yield* withTaskGroup(function* (group) {
    group.spawn(() => server.serve(fileHandler(root)));
    // waitSignal takes SIGINT for this task, so main does not cancel the program:
    // the server stops accepting, lets the downloads in progress finish, and the program ends normally.
    yield* waitSignal("SIGINT");
    console.log("shutting down");
    yield* server.shutdown({ gracePeriod: GRACE_MS });
  });
});
