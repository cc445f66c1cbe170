/**
 * Placeholder: the cancellation model property is being written on another
 * branch and replaces this file when merged. It keeps the signature the soak
 * runner imports, and fails loudly instead of passing vacuously.
 */
export async function checkTaskTrees(options: {
  runs: number;
  driver: "virtual time" | "event loop" | "host pump";
  seed?: number;
}): Promise<void> {
  void options;
  throw new Error("checkTaskTrees: not merged yet");
}
