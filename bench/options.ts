/**
 * The command line of `npm run bench`: `--quick`, `--hosts a,b`, `--peers a,b`,
 * `--workloads a,b` (a workload's name or its family, e.g. `timer_burst`),
 * `--runs N`, `--processes N`, `--render results.json` (write the report and
 * chart again from a results file), `--help`. `--name value` and `--name=value`
 * both work.
 */
import { hosts, peers, workloads, type HostId, type PeerId } from "./catalog.ts";
import { loadSectionNames } from "./load_sections.ts";

export interface BenchOptions {
  quick: boolean;
  hosts: HostId[];
  peers: PeerId[];
  workloads: string[];
  /** The load sections to run after the cells (Node only): see bench/load_sections.ts. */
  loads: string[];
  /** Timed runs per process (default: 5, or 3 with --quick). */
  runs: number;
  /** Processes per cell on Node (default: 3, or 1 with --quick); other hosts use 1. */
  processes: number | undefined;
  /** Re-render the Markdown and SVG from this results JSON instead of running anything. */
  render: string | undefined;
  /** Every host, peer and workload, full size: the run whose results are committed. */
  complete: boolean;
  help: boolean;
}

export const usage = `usage: npm run bench -- [--quick] [--hosts ${hosts.join(",")}] [--peers ${peers.join(",")}]
                      [--workloads name|family,…] [--runs N] [--processes N]
       npm run bench -- --render bench/results/latest.json   (report and chart again, from the samples)
workloads: ${workloads.map((w) => w.name).join(", ")}
load sections (Node only, after the cells): ${loadSectionNames.join(", ")}
families: ${[...new Set(workloads.map((w) => w.family))].filter((f) => !workloads.some((w) => w.name === f)).join(", ")}`;

function list<T extends string>(option: string, value: string, known: readonly T[], aliases: (name: string) => T[] = () => []): T[] {
  const out: T[] = [];
  for (const raw of value.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    const expanded = (known as readonly string[]).includes(name) ? [name as T] : aliases(name);
    if (expanded.length === 0) throw new RangeError(`bench: ${option}: unknown name "${name}" (known: ${known.join(", ")})`);
    for (const e of expanded) if (!out.includes(e)) out.push(e);
  }
  if (out.length === 0) throw new RangeError(`bench: ${option}: empty list`);
  // Report order is the catalogue's order, whatever the command line's.
  return known.filter((k) => out.includes(k));
}

function count(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bench: ${option}: expected an integer >= 1, got "${value}"`);
  return n;
}

/** Parses the arguments; throws a RangeError naming the option on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    quick: false,
    hosts: [...hosts],
    peers: [...peers],
    workloads: workloads.map((w) => w.name),
    loads: [...loadSectionNames],
    runs: 5,
    processes: undefined,
    render: undefined,
    complete: true,
    help: false,
  };
  let runsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const takesValue = ["--hosts", "--peers", "--workloads", "--runs", "--processes", "--render"].includes(name);
    let value = "";
    if (takesValue) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new RangeError(`bench: ${name} needs a value`);
    } else if (eq >= 0) throw new RangeError(`bench: ${name} takes no value`);
    switch (name) {
      case "--quick":
        options.quick = true;
        options.complete = false;
        break;
      case "--help":
      case "-h":
        options.help = true;
        break;
      case "--hosts":
        options.hosts = list(name, value, hosts);
        options.complete = false;
        break;
      case "--peers":
        options.peers = list(name, value, peers);
        options.complete = false;
        break;
      case "--workloads":
        {
          const named = list(name, value, [...workloads.map((w) => w.name), ...loadSectionNames], (family) =>
            workloads.filter((w) => w.family === family).map((w) => w.name),
          );
          options.workloads = named.filter((n) => !loadSectionNames.includes(n));
          options.loads = named.filter((n) => loadSectionNames.includes(n));
        }
        options.complete = false;
        break;
      case "--runs":
        options.runs = count(name, value);
        runsGiven = true;
        if (options.runs < 5) options.complete = false;
        break;
      case "--render":
        options.render = value;
        break;
      case "--processes":
        options.processes = count(name, value);
        options.complete = false;
        break;
      default:
        throw new RangeError(`bench: unknown option "${arg}"\n${usage}`);
    }
  }
  if (options.quick && !runsGiven) options.runs = 3;
  return options;
}
