/**
 * How each host is started, shared by the test runners (hosts/) and the
 * benchmark (bench/): where its binary is, the environment and flags it needs.
 */
import type { Server } from "node:http";
import type { LaunchOptions } from "playwright-core";
import RELEASE_SYNC from "@jitl/quickjs-wasmfile-release-sync";
import type { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bin, root } from "./common.ts";

/**
 * The Bun binary installed by npm: the platform package's own binary when it
 * is there. The `bun` package's bin/bun.exe is a stub that says "Bun's
 * postinstall script was not run" until that script has copied the binary
 * over it, and an install that does not run install scripts leaves the stub.
 */
export const bunBinary = ((): string => {
  const own = join(root, "node_modules", "@oven", `bun-${process.platform}-${process.arch}`, "bin", "bun");
  return existsSync(own) ? own : bin("bun");
})();

/** The Deno binary installed by npm (pinned). */
export const denoBinary = bin("deno");

/** Deno's environment: its cache in `denoDir` (a temporary folder), no update check, no colours. */
export function denoEnv(denoDir: string): NodeJS.ProcessEnv {
  return { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
}

/** Debian's Chromium, or `WEFT_CHROMIUM`. */
export const chromiumPath = process.env.WEFT_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium that talks to nothing but 127.0.0.1. */
export function chromiumLaunchOptions(): LaunchOptions {
  return {
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // No name resolution at all: the pages only talk to 127.0.0.1.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  };
}

/**
 * QuickJS's release-sync variant. Node loads the package's ESM build, whose
 * default export is the variant; its type declarations are CommonJS-shaped,
 * so TypeScript sees the whole module there. Accept either shape.
 */
export function quickjsVariant(): Parameters<typeof newQuickJSWASMModuleFromVariant>[0] {
  const loaded = RELEASE_SYNC as unknown as { default?: unknown };
  return (loaded.default ?? loaded) as Parameters<typeof newQuickJSWASMModuleFromVariant>[0];
}

/** Starts `server` on 127.0.0.1 on a free port (the pages are served from there). */
export function listenOnLoopback(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** `promise`, or `fallback` if it has not settled (or failed) within `ms`: a busy page answers nothing. */
export function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}
