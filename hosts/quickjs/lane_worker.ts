/**
 * A lane of the QuickJS host: a worker thread that runs the test files it is
 * sent, one after the other, each in an engine of its own (`file_runner.ts`),
 * and answers each with its outcome. A thread per lane, as an embedder gives
 * each engine its own thread: a file that keeps its engine busy for seconds
 * cannot make another file's timers late.
 */
import { parentPort } from "node:worker_threads";
import { type FileJob, runFile } from "./file_runner.ts";

if (parentPort === null) throw new Error("lane_worker.ts runs only as a worker thread");
const port = parentPort;
port.on("message", (job: FileJob) => {
  void runFile(job).then((outcome) => port.postMessage(outcome));
});
