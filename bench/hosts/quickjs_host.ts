/**
 * QuickJS compiled to WebAssembly, the engine with no event loop: the cell
 * code is bundled once per peer (esbuild, an IIFE script), and each cell runs in a
 * fresh QuickJS runtime in a fresh Node process (`quickjs_cell.ts`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { root } from "../../hosts/common.ts";
import { peers } from "../catalog.ts";
import type { CellOutcome, CellSpec } from "../measure.ts";
import { bundleError, bundlePeer } from "./bundle.ts";
import { parseCellOutput, type BenchHost, type HostStart } from "./bench_host.ts";

const cellScript = join(root, "dist", "bench", "hosts", "quickjs_cell.js");

export class QuickJsHost implements BenchHost {
  readonly id = "quickjs" as const;
  private dir: string | undefined;

  async start(): Promise<HostStart> {
    try {
      this.dir = mkdtempSync(join(tmpdir(), "weft-bench-quickjs-"));
      for (const peer of peers) writeFileSync(join(this.dir, `${peer}.js`), await bundlePeer(peer, "quickjs"));
    } catch (error) {
      return { unavailable: `bundling the cell code failed: ${bundleError(error)}` };
    }
    try {
      const pkg = JSON.parse(readFileSync(join(root, "node_modules", "quickjs-emscripten-core", "package.json"), "utf8")) as {
        version: string;
      };
      return { version: `QuickJS (quickjs-emscripten ${pkg.version}, release-sync wasm)` };
    } catch (error) {
      return { unavailable: `quickjs-emscripten is not installed: ${(error as Error).message}` };
    }
  }

  runCell(spec: CellSpec, timeoutMs: number): Promise<CellOutcome> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cellScript, join(this.dir!, `${spec.peer}.js`), JSON.stringify(spec)], {
        cwd: root,
        env: { ...process.env, WEFT_BENCH_CELL_MS: String(timeoutMs) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 10_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve(parseCellOutput(output, code));
      });
    });
  }

  async close(): Promise<void> {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
