/**
 * Certificates for the TLS tests, made at test time by the `openssl`
 * command in a temporary directory: a CA, a server certificate for
 * localhost/127.0.0.1 signed by it, a second unrelated CA, a certificate
 * for the wrong host name (signed by the first CA), and a client
 * certificate (signed by the first CA). Also an in-memory duplex stream made
 * of two `pipe()`s, for TLS over a weft stream.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipe, type Reader, type Writer } from "../../src/io.ts";
import type { TlsTransport } from "../../src/node.ts";

/** A key and its certificate (PEM), with the files they are in. */
export interface KeyPair {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** Everything the TLS tests need. */
export interface TestPki {
  dir: string;
  ca: KeyPair;
  otherCa: KeyPair;
  server: KeyPair;
  wrongHost: KeyPair;
  client: KeyPair;
  remove(): void;
}

/** True when the command answers `-version`/`--version`. */
export function hasCommand(command: string, versionFlag = "version"): boolean {
  const result = spawnSync(command, [versionFlag], { stdio: "ignore" });
  return result.error === undefined && result.status === 0;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function readPair(dir: string, name: string): KeyPair {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), keyFile, certFile };
}

function makeCa(dir: string, name: string, subject: string): KeyPair {
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    subject,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return readPair(dir, name);
}

function makeLeaf(dir: string, name: string, subject: string, extensions: string, ca: string): KeyPair {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  ]);
  return readPair(dir, name);
}

/** Makes the test certificates; call `remove()` when done. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "weft-tls-"));
  const ca = makeCa(dir, "ca", "/CN=weft test CA");
  const otherCa = makeCa(dir, "other-ca", "/CN=weft unrelated CA");
  const server = makeLeaf(
    dir,
    "server",
    "/CN=localhost",
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    "ca",
  );
  const wrongHost = makeLeaf(
    dir,
    "wrong-host",
    "/CN=wrong.example",
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n",
    "ca",
  );
  const client = makeLeaf(dir, "client", "/CN=weft test client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n", "ca");
  return { dir, ca, otherCa, server, wrongHost, client, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One end of a duplex in-memory stream made of two pipes. */
export interface PipeEnd extends TlsTransport {
  closed: boolean;
}

export function duplexPair(): [PipeEnd, PipeEnd] {
  const [r1, w1] = pipe();
  const [r2, w2] = pipe();
  const end = (reader: Reader & { close(): void }, writer: Writer & { close(): void }): PipeEnd => {
    const e: PipeEnd = {
      closed: false,
      read: (buf, offset, length) => reader.read(buf, offset, length),
      readSome: (max) => reader.readSome(max),
      readExactly: (n) => reader.readExactly(n),
      readUntil: (sep) => reader.readUntil(sep),
      readLine: () => reader.readLine(),
      readAll: () => reader.readAll(),
      drop: (n) => reader.drop(n),
      get buffered() {
        return reader.buffered;
      },
      write: (data) => writer.write(data),
      writeReader: (r) => writer.writeReader(r),
      // A wrapper forwards what its writer does with a cancelled write (TLS resends what a pipe dropped).
      cancelledWrite: (writer as { cancelledWrite?: "queued" | "dropped" }).cancelledWrite,
      shutdownWrite: () => writer.close(),
      close: () => {
        e.closed = true;
        reader.close();
        writer.close();
      },
    };
    return e;
  };
  return [end(r1, w2), end(r2, w1)];
}
