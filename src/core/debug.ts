/**
 * Debug mode: when on, every spawn records where it happened, and deadlock
 * reports print those places. Off by default because capturing a stack costs
 * more than the spawn itself. Turned on by `WEFT_DEBUG=1` in the environment or
 * by `run(body, { debug: true })` for as long as that run lasts.
 */

interface MaybeProcess {
  env?: Record<string, string | undefined>;
}

function envDebug(): boolean {
  const proc = (globalThis as { process?: MaybeProcess }).process;
  const value = proc?.env?.["WEFT_DEBUG"];
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

const fromEnv = envDebug();
let runsInDebug = 0;

/** Whether spawns should record their location now. */
export let debugEnabled = fromEnv;

/** Turns debug mode on for the span of one run; returns the undo function. */
export function enterDebug(): () => void {
  runsInDebug++;
  debugEnabled = true;
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    runsInDebug--;
    debugEnabled = fromEnv || runsInDebug > 0;
  };
}

// The folder this module was loaded from; frames inside it are weft's own.
const ownFolder = (() => {
  try {
    const url = new URL("..", import.meta.url).href;
    return url.replace(/^file:\/\//, "");
  } catch {
    return "";
  }
})();

/** The first stack frame outside weft, as "at fn (file:line:col)". */
export function captureLocation(): string {
  const stack = new Error().stack ?? "";
  const lines = stack.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    if (ownFolder !== "" && line.includes(ownFolder)) continue;
    if (line.startsWith("at ") || line.includes("@")) return line;
  }
  return "<unknown location>";
}
