/**
 * weft/node: the program entry `main`, child processes, signals and stdio.
 */
export { main, type MainOptions } from "./main.ts";
export { spawnProcess, Process, type SpawnProcessOptions } from "./spawn.ts";
export type { ExitStatus } from "./children.ts";
export type { StdioOption } from "./stdio_option.ts";
export { runProcess, type RunProcessOptions, type ProcessOutput } from "./run_process.ts";
export { waitSignal, onSignal } from "./signals.ts";
export { stdin, stdout, stderr } from "./stdio.ts";
export type { StreamReader, StreamWriter } from "./stream_io.ts";
