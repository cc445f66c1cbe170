/**
 * The code in the guides (docs/guide-*.md, docs/cookbook.md) runs, so the
 * guides cannot rot. Each fenced block whose info string is exactly `ts` is
 * the body of a generator function run with `run()`; a block marked
 * `ts module` is module code (top-level `await` allowed). Either way every
 * export of the five entry points is in scope, `import … from "weftjs…"`
 * lines are dropped and other imports (`node:…`) are moved to the top. Other blocks (`ts effection`, `ts async`, `ts excerpt`,
 * `sh`) are shown, not run.
 *
 * A block runs in its own Node process, which must exit 0 by itself (nothing
 * left running) and print exactly the lines its `// prints …` comments give,
 * in order.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { startNode, tempDir } from "./child.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const ENTRY_POINTS = ["index", "io", "testing", "host", "node"].map((name) => new URL(`../../src/${name}.js`, import.meta.url).href);
const GUIDES = ["docs/guide-async-await.md", "docs/guide-effection.md", "docs/cookbook.md"];

interface Block {
  file: string;
  line: number;
  kind: "body" | "module";
  code: string;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const info = open[1]!.trim();
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (info === "ts" || info === "ts module") {
      blocks.push({ file, line: start + 1, kind: info === "ts" ? "body" : "module", code: body.join("\n") });
    }
  }
  return blocks;
}

/** The lines a block says it prints, from its `// prints …` comments. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ prints (.*)$/gm)].map((match) => match[1]!.trim());
}

async function programOf(block: Block): Promise<string> {
  const names = new Set<string>();
  for (const url of ENTRY_POINTS) for (const name of Object.keys((await import(url)) as object)) names.add(name);
  const hoisted: string[] = [];
  const code = block.code.replace(/^import .* from "([^"]+)";$/gm, (line, from: string) => {
    if (!/^weftjs(\/[a-z]+)?$/.test(from)) hoisted.push(line);
    return "";
  });
  const imports = [...hoisted, ...ENTRY_POINTS.map((url, i) => `import * as __m${i} from ${JSON.stringify(url)};`)].join("\n");
  const scope = `const { ${[...names].join(", ")} } = { ${ENTRY_POINTS.map((_, i) => `...__m${i}`).join(", ")} };`;
  const source =
    block.kind === "body"
      ? `${imports}\n${scope}\nawait run(function* () {\n${code}\n});\n`
      : `${imports}\n${scope}\n${code}\nexport {};\n`;
  return (await transform(source, { loader: "ts", format: "esm", target: "es2022", sourcefile: `${block.file}:${block.line}` })).code;
}

const dir = tempDir("weft-guides-");
process.on("exit", () => dir.remove());

for (const file of GUIDES) {
  for (const block of blocksOf(file)) {
    test(`${file}:${block.line}: the example runs, ends by itself and prints what it says`, { timeout: 30_000 }, async () => {
      const path = join(dir.path, `${file.replaceAll("/", "_")}_${block.line}.mjs`);
      const { writeFileSync } = await import("node:fs");
      writeFileSync(path, await programOf(block));
      const done = await startNode(path, [], {}, 15_000).done;
      assert.equal(done.code, 0, `exit ${done.code ?? done.signal}\nstdout:\n${done.stdout}\nstderr:\n${done.stderr}`);
      const expected = expectedOutput(block.code);
      if (expected.length > 0) assert.deepEqual(done.stdout.trimEnd().split("\n"), expected, done.stderr);
    });
  }
}
