/**
 * Section "property": the cancellation model's random task trees, many of them,
 * on virtual time.
 */
import { checkTaskTrees } from "../test/core/cancellation_model.ts";
import { Section } from "./report.ts";

export async function soakProperty(trees: number, seed: number | undefined): Promise<boolean> {
  const section = new Section("property");
  section.figure("trees", trees, "trees");
  if (seed !== undefined) section.figure("seed", seed);
  const t0 = performance.now();
  try {
    await checkTaskTrees({ runs: trees, driver: "virtual time", seed });
    section.figure("time", performance.now() - t0, "ms");
  } catch (error) {
    section.figure("time", performance.now() - t0, "ms");
    section.check(false, `an invariant broke: ${error instanceof Error ? error.message : String(error)}`);
  }
  return section.verdict();
}
