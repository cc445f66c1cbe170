/**
 * Debian's tinyproxy as a real HTTP proxy for the tests (HttpClient, the curl
 * example, WebSocket clients): started on a free port of 127.0.0.1 with a
 * config in a temporary folder, stopped and cleaned up after.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./http_client_support.ts";

/** True when tinyproxy can be started. */
export const HAS_TINYPROXY = spawnSync("tinyproxy", ["-v"], { stdio: "ignore" }).error === undefined;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts tinyproxy on a free port (tinyproxy cannot listen on port 0: a port is picked and the start retried on a clash). */
export async function startTinyproxy(): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "weft-proxy-"));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, "tinyproxy.conf");
    writeFileSync(config, `Port ${port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\nLogLevel Critical\n`);
    const child: ChildProcess = spawn("tinyproxy", ["-d", "-c", config], { stdio: "ignore" });
    let exited = false;
    child.once("exit", () => (exited = true));
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    if (exited || !(await canConnect(port))) {
      child.kill("SIGKILL");
      continue; // the port was taken meanwhile, or the start failed: try another
    }
    return {
      port,
      stop: async () => {
        if (!exited) {
          const gone = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("tinyproxy did not start");
}

/** Runs `body` with a tinyproxy's port, and stops the proxy after. */
export async function withTinyproxy<T>(body: (port: number) => Promise<T>): Promise<T> {
  const proxy = await startTinyproxy();
  try {
    return await body(proxy.port);
  } finally {
    await proxy.stop();
  }
}
