/**
 * The soak: `npm run soak [-- --quick] [--only name] [--trees N] [--tasks N]
 * [--connections N] [--http-cases N] [--seed N]`. Prints one figure a line and a verdict per
 * section; exits 1 when an invariant broke. Sizes can also come from the
 * environment (SOAK_TREES, SOAK_TASKS, SOAK_CONNECTIONS, SOAK_HTTP_CASES).
 */
import { soakFiles } from "./files.ts";
import { soakHttp } from "./http.ts";
import { soakProperty } from "./property.ts";
import { soakTasks } from "./tasks.ts";
import { soakTcp } from "./tcp.ts";

const SECTIONS = ["property", "tasks", "tcp", "files", "http"] as const;
type SectionName = (typeof SECTIONS)[number];

function usage(message: string): never {
  console.error(`soak: ${message}`);
  console.error(
    `usage: npm run soak -- [--quick] [--only ${SECTIONS.join("|")}] [--trees N] [--tasks N] [--connections N] [--http-cases N] [--seed N]`,
  );
  process.exit(2);
}

function count(name: string, text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < 1) usage(`${name} must be a whole number >= 1, got ${text}`);
  return n;
}

const args = process.argv.slice(2);
let quick = false;
const only = new Set<SectionName>();
let trees: number | undefined = process.env.SOAK_TREES !== undefined ? count("SOAK_TREES", process.env.SOAK_TREES) : undefined;
let tasks: number | undefined = process.env.SOAK_TASKS !== undefined ? count("SOAK_TASKS", process.env.SOAK_TASKS) : undefined;
let connections: number | undefined =
  process.env.SOAK_CONNECTIONS !== undefined ? count("SOAK_CONNECTIONS", process.env.SOAK_CONNECTIONS) : undefined;
let httpCases: number | undefined =
  process.env.SOAK_HTTP_CASES !== undefined ? count("SOAK_HTTP_CASES", process.env.SOAK_HTTP_CASES) : undefined;
let seed: number | undefined;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  switch (arg) {
    case "--quick":
      quick = true;
      break;
    case "--only": {
      const name = args[++i];
      if (!SECTIONS.includes(name as SectionName)) usage(`--only takes one of ${SECTIONS.join(", ")}, got ${name}`);
      only.add(name as SectionName);
      break;
    }
    case "--trees":
      trees = count("--trees", args[++i]);
      break;
    case "--tasks":
      tasks = count("--tasks", args[++i]);
      break;
    case "--connections":
      connections = count("--connections", args[++i]);
      break;
    case "--http-cases":
      httpCases = count("--http-cases", args[++i]);
      break;
    case "--seed":
      seed = count("--seed", args[++i]);
      break;
    case "--help":
    case "-h":
      usage("help");
    default:
      usage(`unknown argument ${arg}`);
  }
}

const selected = (name: SectionName): boolean => only.size === 0 || only.has(name);
let ok = true;
const started = performance.now();
if (selected("property")) ok = (await soakProperty(trees ?? (quick ? 1_000 : 100_000), seed)) && ok;
if (selected("tasks")) ok = (await soakTasks(tasks ?? (quick ? 20_000 : 1_000_000))) && ok;
if (selected("tcp")) ok = (await soakTcp(connections ?? (quick ? 1_500 : 50_000), quick ? 32 : 128)) && ok;
if (selected("files")) {
  const sizes = quick
    ? { readers: 40, lines: 2_000, ownLines: 1_500, writers: 40, records: 25 }
    : { readers: 50, lines: 6_000, ownLines: 3_000, writers: 50, records: 100 };
  ok = (await soakFiles(sizes)) && ok;
}
if (selected("http")) ok = (await soakHttp(httpCases ?? (quick ? 2_000 : 50_000), seed)) && ok;
console.log(`soak.time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`soak: ${ok ? "ok" : "FAIL"}`);
process.exit(ok ? 0 : 1);
