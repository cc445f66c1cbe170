/**
 * `npm run test:package`: the package as a user gets it. Packs the tarball
 * (running `prepack`), installs it into a fresh temporary project with no
 * other dependency, and checks it from the outside:
 *
 * - the tarball holds the entry points' `.js` and `.d.ts`, nothing from the
 *   tests, and every source map points to a file that ships;
 * - a file importing every entry point typechecks with TypeScript 5.9 and
 *   TypeScript 7 under `module: nodenext`, under `moduleResolution: bundler`,
 *   and (portable entry points only) in a browser project whose `lib` is
 *   `["ES2022", "DOM"]` with no `@types/node`;
 * - a smoke program imports `weftjs` … `weftjs/node` on Node and runs;
 * - esbuild bundles the portable entry points for the browser, and the
 *   bundle imports nothing from `node:`;
 * - `deno publish --dry-run` accepts `jsr.json` (the sources, for Deno and JSR).
 *
 * The compilers, esbuild and `@types/node` are this repository's own
 * (`@types/node` is linked into the temporary project), so the install needs
 * no registry. Ends with `N passed, N failed`; the temporary project is
 * removed.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const portableEntries = ["weftjs", "weftjs/io", "weftjs/host", "weftjs/testing", "weftjs/web"];
const allEntries = [...portableEntries, "weftjs/node", "weftjs/http", "weftjs/ws"];
const compilers = [
  { name: "TypeScript 5.9", tsc: join(root, "node_modules", "typescript5", "bin", "tsc") },
  { name: "TypeScript 7", tsc: join(root, "node_modules", "typescript", "bin", "tsc") },
];

interface CommandResult {
  code: number;
  /** stdout and stderr, for the reader of a failure. */
  output: string;
  stdout: string;
}

function runCommand(command: string, args: string[], cwd: string, timeoutMs = 5 * 60_000, env = process.env): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      done({ code, output: `${stdout}${stderr}`, stdout });
    });
  });
}

let passed = 0;
let failed = 0;

/** Runs one check; a check fails by throwing, and its message is printed. */
async function check(name: string, body: () => Promise<string | void>): Promise<boolean> {
  try {
    const note = await body();
    passed++;
    console.log(`ok   ${name}${note ? ` (${note})` : ""}`);
    return true;
  } catch (error) {
    failed++;
    const message = error instanceof Error ? error.message : String(error);
    console.log(`FAIL ${name}\n${message.replace(/^/gm, "     ")}`);
    return false;
  }
}

function importLines(entries: string[]): string {
  return entries.map((entry, i) => `import * as entry${i} from "${entry}";`).join("\n");
}

/** What the typechecked files use besides the imports: a few calls whose types must line up. */
const portableUse = `
export const entries = [${portableEntries.map((_, i) => `entry${i}`).join(", ")}];
export function* body(): entry0.Operation<string[]> {
  const [reader, writer] = entry1.pipe();
  return yield* entry0.withTaskGroup<string[]>(function* (group) {
    group.startSoon(function* () {
      yield* writer.write("a\\nb\\n");
      writer.close();
    });
    const lines: string[] = [];
    for (let line; (line = yield* reader.readLine()) !== undefined; ) lines.push(line);
    return lines;
  });
}
export function* fetches(): entry0.Operation<string> {
  const res = yield* entry${portableEntries.indexOf("weftjs/web")}.fetchResponse("http://127.0.0.1/", { method: "GET" });
  return yield* res.text({ maxSize: 1024 });
}
export const virtual: Promise<number> = entry3.runVirtual(function* () {
  yield* entry0.sleep(1000);
  return entry0.now();
});
`;

/** `using` on weft handles: needs a lib with disposables (ESNext.Disposable, or @types/node's declarations). */
const usingUse = `
export function* closesWithUsing(): entry0.Operation<void> {
  using writer = entry1.pipe()[1];
  yield* writer.write("x");
}
`;

const nodeUse = `
export function* listens(): entry0.Operation<number> {
  using server = yield* entry${allEntries.indexOf("weftjs/node")}.listenTcp({ host: "127.0.0.1", port: 0 });
  return server.port;
}
`;

const smokeProgram = `
import { now, run, sleep, withTaskGroup, withTimeout } from "weftjs";
import { MemoryReader, gunzipReader, gzipWriter, pipe } from "weftjs/io";
import { createHost } from "weftjs/host";
import { runVirtual } from "weftjs/testing";
import { connectTcp, listenTcp } from "weftjs/node";

// No \`using\`: Node 20 does not parse it.
const echoed = await run(function* () {
  const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
  try {
    return yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        const conn = yield* server.accept();
        try {
          yield* conn.writeReader(conn);
        } finally {
          conn.close();
        }
      });
      const conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
      try {
        yield* conn.write("ping\\n");
        return yield* withTimeout(10_000, () => conn.readLine());
      } finally {
        conn.close();
      }
    });
  } finally {
    server.close();
  }
});

const unzipped = await run(function* () {
  const [reader, writer] = pipe();
  return yield* withTaskGroup(function* (group) {
    group.startSoon(function* () {
      const gz = gzipWriter(writer, { closeUnderlying: true });
      yield* gz.write("hello ".repeat(100));
      yield* gz.end();
      gz.close();
    });
    return (yield* gunzipReader(reader).readAll()).text().length;
  });
});

const hour = await runVirtual(function* () {
  yield* sleep(3_600_000);
  return now();
});

let clock = 0;
const host = createHost({ now: () => clock, onWake: () => {} });
const task = host.spawn(function* () {
  yield* sleep(10);
  return "pumped";
});
host.pump();
clock = 10;
host.pump();

const read = await run(function* () {
  return (yield* new MemoryReader("xyz").readAll()).text();
});

console.log(JSON.stringify({ echoed, unzipped, hour, pumped: task.tryWait(), read }));
`;
const smokeExpected = JSON.stringify({ echoed: "ping", unzipped: 600, hour: 3_600_000, pumped: "pumped", read: "xyz" });

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"));
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "weftjs-package-"));
  try {
    const project = join(work, "project");
    await mkdir(project);
    let tarball = "";
    let shipped: string[] = [];

    const packOk = await check("npm pack builds the package (prepack)", async () => {
      const { code, output, stdout } = await runCommand("npm", ["pack", "--json", "--pack-destination", work], root);
      if (code !== 0) throw new Error(`npm pack exited with ${code}\n${output}`);
      // The prepack script's own output comes first on stdout.
      const report = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string; files: { path: string }[]; size: number }[];
      const packed = report[0];
      if (packed === undefined) throw new Error(`npm pack printed no report\n${output}`);
      tarball = join(work, packed.filename);
      shipped = packed.files.map((f) => f.path);
      return `${packed.filename}, ${shipped.length} files, ${(packed.size / 1024).toFixed(0)} KiB`;
    });

    await check("the tarball has every entry point's .js and .d.ts and nothing from the tests", async () => {
      const missing = ["index", "io", "host", "testing", "node"]
        .flatMap((name) => [`dist/src/${name}.js`, `dist/src/${name}.d.ts`])
        .filter((path) => !shipped.includes(path));
      const foreign = shipped.filter((path) => /^(dist\/)?(test|bench|examples|hosts|soak|types-test|scripts)\//.test(path));
      if (missing.length > 0 || foreign.length > 0)
        throw new Error(`missing: ${missing.join(", ")}\nnot ours to ship: ${foreign.join(", ")}`);
    });

    if (!packOk) return;
    const installedOk = await check("npm install <tarball> into a fresh project, with no other dependency", async () => {
      await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
      const { code, output } = await runCommand("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], project);
      if (code !== 0) throw new Error(`npm install exited with ${code}\n${output}`);
      await mkdir(join(project, "node_modules", "@types"));
      await symlink(join(root, "node_modules", "@types", "node"), join(project, "node_modules", "@types", "node"), "dir");
    });

    if (!installedOk) return;
    const installed = join(project, "node_modules", "weftjs");
    await check("every source map of the installed package points to a file that ships", async () => {
      const maps = (await listFiles(installed)).filter((path) => path.endsWith(".map"));
      if (maps.length === 0) throw new Error("no source maps shipped");
      const dangling: string[] = [];
      for (const map of maps) {
        const { sources } = JSON.parse(await readFile(join(installed, map), "utf8")) as { sources: string[] };
        for (const source of sources) {
          const target = resolve(dirname(join(installed, map)), source);
          if (
            !(await readFile(target).then(
              () => true,
              () => false,
            ))
          )
            dangling.push(`${map} → ${source}`);
        }
      }
      if (dangling.length > 0) throw new Error(dangling.slice(0, 10).join("\n"));
      return `${maps.length} maps`;
    });

    const projects = [
      {
        name: "module nodenext, @types/node",
        source: importLines(allEntries) + portableUse + usingUse + nodeUse,
        options: { module: "nodenext", moduleResolution: "nodenext", lib: ["ES2022"], types: ["node"] },
      },
      {
        name: "moduleResolution bundler, ESNext.Disposable, @types/node",
        source: importLines(allEntries) + portableUse + usingUse + nodeUse,
        options: { module: "esnext", moduleResolution: "bundler", lib: ["ES2022", "DOM", "ESNext.Disposable"], types: ["node"] },
      },
      {
        name: 'browser project, lib ["ES2022", "DOM"], no @types/node, portable entry points',
        source: importLines(portableEntries) + portableUse,
        options: { module: "esnext", moduleResolution: "bundler", lib: ["ES2022", "DOM"], types: [] },
      },
    ];
    for (const [i, setup] of projects.entries()) {
      const file = `consumer${i}.ts`;
      await writeFile(join(project, file), setup.source);
      const config = {
        compilerOptions: { target: "ES2022", strict: true, noEmit: true, skipLibCheck: false, ...setup.options },
        files: [file],
      };
      await writeFile(join(project, `tsconfig.${i}.json`), JSON.stringify(config, null, 2));
      for (const compiler of compilers) {
        await check(`${compiler.name} typechecks ${setup.name}`, async () => {
          const version = await runCommand(process.execPath, [compiler.tsc, "--version"], project);
          const { code, output } = await runCommand(process.execPath, [compiler.tsc, "-p", `tsconfig.${i}.json`], project);
          if (code !== 0) throw new Error(`tsc exited with ${code}\n${output}`);
          return version.output.trim();
        });
      }
    }

    await check("a program importing weftjs, /io, /host, /testing and /node runs on Node", async () => {
      await writeFile(join(project, "smoke.mjs"), smokeProgram);
      const { code, output } = await runCommand(process.execPath, ["smoke.mjs"], project, 60_000);
      if (code !== 0 || output.trim() !== smokeExpected) throw new Error(`exit ${code}, printed:\n${output}\nexpected:\n${smokeExpected}`);
    });

    await check("esbuild bundles the portable entry points for the browser with no node: import", async () => {
      const esbuild = (await import(join(root, "node_modules", "esbuild", "lib", "main.js"))) as typeof import("esbuild");
      await writeFile(
        join(project, "browser.mjs"),
        `${importLines(portableEntries)}\nglobalThis.weft = [${portableEntries.map((_, i) => `entry${i}`).join(", ")}];\n`,
      );
      const result = await esbuild.build({
        absWorkingDir: project,
        entryPoints: ["browser.mjs"],
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        metafile: true,
        logLevel: "silent",
      });
      const text = result.outputFiles.map((f) => f.text).join("\n");
      const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
      const nodeImports = text.match(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']node:[^"']*["']/g) ?? [];
      if (imports.length > 0 || nodeImports.length > 0) {
        throw new Error(`the bundle imports: ${[...imports, ...nodeImports].join(", ")}`);
      }
      return `${(text.length / 1024).toFixed(0)} KiB unminified`;
    });

    await check("deno publish --dry-run accepts jsr.json (types checked, no slow types)", async () => {
      const deno = join(root, "node_modules", ".bin", "deno");
      const env = { ...process.env, DENO_DIR: join(work, "deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
      const { code, output } = await runCommand(deno, ["publish", "--dry-run", "--allow-dirty"], root, 5 * 60_000, env);
      if (code !== 0) throw new Error(`deno publish exited with ${code}\n${output}`);
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
