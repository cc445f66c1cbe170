/**
 * Turns the TSDoc `@example` blocks of src/ into modules that can be
 * typechecked and run (issue 15: no example may rot). The rule each example
 * follows: its code is the body of a generator function run with `run()` on
 * Node, with every export of the entry points in scope (or, when it has
 * a top-level `await`, as `await run(…)`, the module's own top level); `import … from
 * "weftjs…"` lines are dropped, other imports (`node:…`) are lifted to the
 * top of the module. Not a test file (no `_test` suffix).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** The entry points whose exports an example sees, as paths under src/. */
export const ENTRY_POINTS = ["index.ts", "io.ts", "testing.ts", "host.ts", "node.ts", "http.ts", "ws.ts", "web.ts"] as const;

/**
 * A name two entry points export (`connectWebSocket` is both `weft/ws`'s and
 * `weft/web`'s) is taken from the first in ENTRY_POINTS, except in the
 * examples of the entry point's own files: `src/web.ts` and `src/web/` see
 * `weft/web`'s.
 */
function preferredEntry(file: string): string | undefined {
  return /^src\/web(\.ts$|\/)/.test(file) ? "web.ts" : undefined;
}

/** One ```ts block of an `@example`. */
export interface DocExample {
  /** The source file, relative to the repository (`src/core/sleep.ts`). */
  file: string;
  /** The 1-based line of the block's first code line in `file`. */
  line: number;
  /** The code, one string per line, without the comment's ` * `. */
  code: string[];
}

/** Every file under `dir` ending in `.ts`, sorted. */
function tsFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(path);
  }
  return found.sort();
}

/**
 * The examples of every TSDoc comment under `root`/src. A block that is not
 * fenced as ```ts is returned with no code lines, so the test reports it
 * instead of silently passing over it.
 */
export function extractExamples(root: string): DocExample[] {
  const examples: DocExample[] = [];
  for (const path of tsFiles(join(root, "src"))) {
    const file = relative(root, path).split("\\").join("/");
    const lines = readFileSync(path, "utf8").split("\n");
    let inDoc = false;
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      if (!inDoc) {
        if (/^\s*\/\*\*/.test(text) && !text.includes("*/")) inDoc = true;
        continue;
      }
      if (/\*\//.test(text)) {
        inDoc = false;
        continue;
      }
      if (!/^\s*\*\s*@example\b/.test(text)) continue;
      // The fence follows the tag, possibly after a line of prose.
      let j = i + 1;
      while (j < lines.length && !/^\s*\*\s*```/.test(lines[j]!) && !/@\w+|\*\//.test(lines[j]!)) j++;
      const fence = lines[j] ?? "";
      if (!/^\s*\*\s*```(ts|typescript)\s*$/.test(fence)) {
        examples.push({ file, line: i + 1, code: [] });
        continue;
      }
      const code: string[] = [];
      let k = j + 1;
      for (; k < lines.length && !/^\s*\*\s*```\s*$/.test(lines[k]!); k++) {
        code.push(lines[k]!.replace(/^\s*\* ?/, ""));
      }
      examples.push({ file, line: j + 2, code });
      i = k;
    }
  }
  return examples;
}

/**
 * The names (values and types) a module exports, following `export … from`
 * and `export * from` into the files they name. Entry points and their
 * index files only use these forms, which a line-oriented reading covers.
 */
export function exportedNames(path: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(path)) return names;
  seen.add(path);
  const source = readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const match of source.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of match[1]!.split(",")) {
      const name = item
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name !== "") names.add(name);
    }
  }
  for (const match of source.matchAll(/^export\s+\*\s+from\s+"([^"]+)"/gm)) {
    for (const name of exportedNames(join(dirname(path), match[1]!), seen)) names.add(name);
  }
  const declaration =
    /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\s*\*?|class|interface|type|const|let|var|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const match of source.matchAll(declaration)) names.add(match[1]!);
  return names;
}

/** A generated module and how its lines map back to the example. */
export interface GeneratedExample {
  example: DocExample;
  /** The generated `.ts` file. */
  path: string;
  /** `source line = generated line + lineOffset` for the body's lines. */
  lineOffset: number;
}

/** Matches the import statements at the top of a block (several lines each). */
const IMPORT_START = /^\s*import\s/;

/**
 * Writes one module per example into `outDir` (emptied first), importing
 * from the built entry points in `builtSrc` (dist/src), and a tsconfig that
 * typechecks and compiles them in place. Returns the modules in order.
 */
export function generateExamples(root: string, builtSrc: string, outDir: string, examples: DocExample[]): GeneratedExample[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const importsFor = (preferred: string | undefined): string[] => {
    const owner = new Map<string, string>();
    const order = preferred === undefined ? ENTRY_POINTS : [preferred, ...ENTRY_POINTS.filter((e) => e !== preferred)];
    for (const entry of order) {
      for (const name of exportedNames(join(root, "src", entry))) if (!owner.has(name)) owner.set(name, entry);
    }
    const byEntry = new Map<string, string[]>();
    for (const [name, entry] of owner) byEntry.set(entry, [...(byEntry.get(entry) ?? []), name]);
    return [...byEntry].map(([entry, names]) => {
      const spec = relative(outDir, join(builtSrc, entry.replace(/\.ts$/, ".js")))
        .split("\\")
        .join("/");
      return `import { ${names.sort().join(", ")} } from "${spec.startsWith(".") ? spec : `./${spec}`}";`;
    });
  };

  const generated: GeneratedExample[] = [];
  examples.forEach((example, index) => {
    const body = [...example.code];
    const lifted: string[] = [];
    // Imports at the top of the block: weft's are dropped (all names are in
    // scope), the others lifted to module scope. Blank lines keep the mapping.
    for (let i = 0; i < body.length; ) {
      if (body[i]!.trim() === "" || /^\s*\/\//.test(body[i]!)) {
        i++;
        continue;
      }
      if (!IMPORT_START.test(body[i]!)) break;
      let end = i;
      while (end < body.length && !/\bfrom\s+["'][^"']+["']\s*;?\s*$|^\s*import\s+["'][^"']+["']\s*;?\s*$/.test(body[end]!)) end++;
      const statement = body.slice(i, end + 1).join("\n");
      if (!/from\s+["']weft(js)?(\/[\w-]+)?["']/.test(statement)) lifted.push(statement);
      for (let k = i; k <= end && k < body.length; k++) body[k] = "";
      i = end + 1;
    }
    // A program example (`await run(…)` at the top level: the entry points'
    // own examples, and a deadlock, which only a whole run can show) is the
    // module itself; the others are the body of a generator.
    const program = body.some((line) => /\bawait\s+run(Virtual)?\(/.test(line.replace(/\/\/.*$/, "")));
    const header = [
      `// Generated from ${example.file}:${example.line} by test/node/doc_examples.ts; do not edit.`,
      ...importsFor(preferredEntry(example.file)),
      ...lifted.flatMap((s) => s.split("\n")),
      program ? "export default undefined;" : "export default function* example() {",
    ];
    const name = `${String(index).padStart(3, "0")}_${example.file.replace(/^src\//, "").replace(/[^\w]+/g, "_")}_${example.line}`;
    const path = join(outDir, `${name}.ts`);
    writeFileSync(path, [...header, ...body, program ? "" : "}", ""].join("\n"));
    // Generated line header.length + 1 is the example's first line.
    generated.push({ example, path, lineOffset: example.line - (header.length + 1) });
  });

  writeFileSync(
    join(outDir, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noImplicitOverride: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
          lib: ["ES2022", "ESNext.Disposable", "DOM"],
          sourceMap: false,
          declaration: false,
        },
        include: ["*.ts"],
      },
      null,
      2,
    ),
  );
  return generated;
}
