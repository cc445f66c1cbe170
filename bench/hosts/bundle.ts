/**
 * The cell code bundled by esbuild for one peer, for hosts that cannot load
 * the compiled modules themselves: an ES module for a browser page, an IIFE
 * script for QuickJS. One bundle per peer, so a cell parses only its own
 * peer's library.
 */
import { join } from "node:path";
import { root } from "../../hosts/common.ts";
import type { PeerId } from "../catalog.ts";
import { peerModules } from "../peers/index.ts";

export type BundleTarget = "browser" | "quickjs";

export async function bundlePeer(peer: PeerId, target: BundleTarget): Promise<string> {
  const esbuild = await import("esbuild");
  const { module, factory } = peerModules[peer];
  const entry = join(root, "bench", "hosts", target === "browser" ? "browser_entry.ts" : "quickjs_guest.ts");
  const out = await esbuild.build({
    stdin: {
      contents:
        `import { install } from ${JSON.stringify(entry)};\n` +
        `import { ${factory} } from ${JSON.stringify(join(root, "bench", "peers", `${module}.ts`))};\n` +
        `install(${factory});\n`,
      resolveDir: root,
      loader: "ts",
      sourcefile: `${peer}-entry.ts`,
    },
    bundle: true,
    format: target === "browser" ? "esm" : "iife",
    platform: target === "browser" ? "browser" : "neutral",
    mainFields: ["module", "main"],
    target: target === "browser" ? "chrome120" : "es2020",
    write: false,
    logLevel: "silent",
    // Effection's main() imports node:process when it runs; the cells never call it.
    external: ["node:*"],
  });
  return out.outputFiles[0]!.text;
}

/** esbuild's first error message, or the error's first line. */
export function bundleError(error: unknown): string {
  const first = (error as { errors?: { text: string }[] }).errors?.[0]?.text;
  return first ?? String((error as Error).message ?? error).split("\n")[0]!;
}
