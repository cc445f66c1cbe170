/**
 * A benchmark server in a fresh process of its own: the script prints its
 * port on stdout once it listens and exits when its stdin ends, so it also
 * ends with the process that started it. Used by http_server, http_client
 * and ws_echo.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type net from "node:net";

/** A running server process: its port and process id; `stop()` ends it. */
export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  stop(): void;
}

/** Starts `script` with `args` in a fresh Node process and waits for the port it prints; `what` names it in errors. */
export async function startServerProcess(script: string, args: readonly string[], what: string): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const stop = (): void => {
    child.kill();
  };
  process.once("exit", stop);
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code} before listening`)));
    child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
  });
  child.stdout!.destroy();
  (child.stdin as net.Socket).unref();
  child.unref();
  return {
    port,
    pid: child.pid!,
    stop: () => {
      process.off("exit", stop);
      stop();
    },
  };
}
