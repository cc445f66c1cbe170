/**
 * Bundling a portable test file for a host that is not Node (Chromium,
 * QuickJS): esbuild builds, per test file, an entry that loads the file
 * through a harness (`runFile(name, () => import(file))`), with `node:test`,
 * `node:assert/strict` and `./unhandled_guard.ts` replaced by the shims in
 * `hosts/browser/`, the few Node globals a test file uses imported from
 * `hosts/browser/node_globals_shim.ts`, and a record (the `Scan`) of what else
 * from Node the file needs, so a host can leave it out with the reason.
 */
import { readFileSync, realpathSync } from "node:fs";
import { isBuiltin, SourceMap } from "node:module";
import { join } from "node:path";
import type { BuildOptions, Plugin } from "esbuild";
import { root } from "./common.ts";

// Real paths: esbuild resolves symlinks in the files it finds, so the shims must be named the same way.
export const realRoot = realpathSync(root);
const testDir = join(realRoot, "test");
export const shimDir = realpathSync(join(realRoot, "hosts", "browser"));

/** Node built-ins a test file may import, and the module that stands in for each. */
const aliases: Record<string, string> = {
  "node:test": join(shimDir, "node_test_shim.ts"),
  "node:assert/strict": join(shimDir, "assert_shim.ts"),
  "node:perf_hooks": join(shimDir, "node_globals_shim.ts"), // `performance` is the same W3C object
};
const guardPath = join(testDir, "unhandled_guard.ts");
const guardShim = join(shimDir, "unhandled_guard_browser.ts");
const globalsShim = join(shimDir, "node_globals_shim.ts");

/** Node globals the shim provides to test files (imported into the file, never put on globalThis). */
const shimmedGlobals = ["setImmediate", "clearImmediate", "process"] as const;
/** Node globals no shim stands in for: a test file using one is left out. */
const unsupportedGlobals = ["Buffer", "require", "__dirname", "__filename", "global"] as const;

export interface Bundle {
  js: string;
  map: SourceMap | undefined;
  /** The source map as text (a SourceMap object cannot be sent to a worker thread). */
  mapText: string | undefined;
}

/** Why a file cannot run outside Node, found while bundling it; empty when it can. */
export interface Scan {
  builtins: Set<string>;
  globals: Set<string>;
  shimmed: Set<string>;
  aliased: Set<string>;
}

/** How a host wants its bundles. */
export interface BundleTarget {
  /** The module exporting `runFile(name, load)`. */
  harness: string;
  /** Modules imported before the harness (globals the host installs for the guest). */
  preludes?: readonly string[];
  format: "esm" | "iife";
  target: string;
  /** Only names the bundles (for source maps): nothing is written. */
  outDir: string;
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/(^|[^:\\"'`])\/\/.*$/gm, "$1");
}

/** The esbuild plugin: shims for node:test & co, and a record of what else from Node a file uses. */
function weftPlugin(entryName: string, scan: Scan, target: BundleTarget): Plugin {
  return {
    name: "weft-portable-tests",
    setup(build) {
      build.onResolve({ filter: /^weft-entry:/ }, (args) => ({ path: args.path.slice("weft-entry:".length), namespace: "weft-entry" }));
      // package.json says `sideEffects: false` for users' bundles of weft; the preludes and the
      // guard are imported for their effects alone, so they are marked to be kept.
      const preludes = target.preludes ?? [];
      build.onResolve({ filter: /.*/ }, (args) => (preludes.includes(args.path) ? { path: args.path, sideEffects: true } : undefined));
      build.onLoad({ filter: /.*/, namespace: "weft-entry" }, () => ({
        contents:
          (target.preludes ?? []).map((p) => `import ${JSON.stringify(p)};\n`).join("") +
          `import { runFile } from ${JSON.stringify(target.harness)};\n` +
          `runFile(${JSON.stringify(entryName)}, () => import(${JSON.stringify(join(testDir, entryName))}));\n`,
        resolveDir: realRoot,
        loader: "ts",
      }));
      build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
        const alias = aliases[args.path];
        if (alias !== undefined) {
          if (args.path !== "node:test" && args.path !== "node:assert/strict") scan.aliased.add(args.path);
          return { path: alias };
        }
        if (!isBuiltin(args.path)) return undefined;
        scan.builtins.add(args.path);
        return { path: args.path, external: true };
      });
      build.onResolve({ filter: /unhandled_guard\.ts$/ }, (args) =>
        join(args.resolveDir, args.path) === guardPath ? { path: guardShim, sideEffects: true } : undefined,
      );
      // Test sources (not weft's): give them the Node globals the shim provides, note the ones it cannot.
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(testDir + "/")) return undefined;
        const source = readFileSync(args.path, "utf8");
        const code = stripComments(source);
        const wanted: string[] = [];
        for (const name of shimmedGlobals) {
          const used = name === "process" ? /\bprocess\s*\.\s*[A-Za-z]/.test(code) : new RegExp(`\\b${name}\\b`).test(code);
          const declared = new RegExp(
            `import\\s*\\{[^}]*\\b${name}\\b[^}]*\\}|import\\s+${name}\\b|\\b(const|let|var|function|class)\\s+${name}\\b`,
          ).test(code);
          if (used && !declared) wanted.push(name);
        }
        for (const name of unsupportedGlobals) {
          const pattern =
            name === "global"
              ? /(^|[^.\w$])global\s*\./m
              : name === "require"
                ? /(^|[^.\w$])require\s*\(/m
                : new RegExp(`(^|[^.\\w$])${name}\\b`, "m");
          if (pattern.test(code)) scan.globals.add(name);
        }
        for (const name of wanted) scan.shimmed.add(name);
        // On the first line, so line numbers stay those of the source.
        const prefix = wanted.length === 0 ? "" : `import { ${wanted.join(", ")} } from ${JSON.stringify(globalsShim)}; `;
        return { contents: prefix + source, loader: "ts" };
      });
    },
  };
}

export type Esbuild = typeof import("esbuild");

/** Bundles one test file (`area/name_test.ts`) for `target`. */
export async function bundleTestFile(
  esbuild: Esbuild,
  name: string,
  target: BundleTarget,
): Promise<{ bundle?: Bundle; scan: Scan; error?: string }> {
  const scan: Scan = { builtins: new Set(), globals: new Set(), shimmed: new Set(), aliased: new Set() };
  const options: BuildOptions = {
    entryPoints: [`weft-entry:${name}`],
    bundle: true,
    format: target.format,
    platform: "browser",
    target: target.target,
    outfile: join(target.outDir, name.replace(/\.ts$/, ".js")),
    write: false,
    sourcemap: "external",
    sourcesContent: false,
    logLevel: "silent",
    plugins: [weftPlugin(name, scan, target)],
  };
  try {
    const out = await esbuild.build(options);
    const js = out.outputFiles?.find((f) => f.path.endsWith(".js"))?.text;
    const mapText = out.outputFiles?.find((f) => f.path.endsWith(".js.map"))?.text;
    if (js === undefined) return { scan, error: "esbuild produced no JavaScript" };
    return { scan, bundle: { js, mapText, map: mapText === undefined ? undefined : new SourceMap(JSON.parse(mapText)) } };
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    const text = errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`).join("\n");
    return { scan, error: text ?? String(error) };
  }
}

/** Why a bundled file needs Node (empty: it does not). */
export function nodeNeeds(scan: Scan): string[] {
  return [...[...scan.builtins].map((m) => `imports ${m}`), ...[...scan.globals].map((g) => `uses the Node global ${g}`)];
}
