/**
 * The soak's output: one figure a line (`section.name: value unit`) and one
 * verdict per section, so a log can be compared line by line between runs.
 */

export class Section {
  readonly #name: string;
  readonly #failures: string[] = [];

  constructor(name: string) {
    this.#name = name;
  }

  figure(name: string, value: number | string, unit = ""): void {
    const shown = typeof value === "number" && !Number.isInteger(value) ? value.toFixed(1) : String(value);
    console.log(`${this.#name}.${name}: ${shown}${unit === "" ? "" : ` ${unit}`}`);
  }

  /** Records a broken invariant; the section's verdict becomes FAIL. */
  check(ok: boolean, what: string): void {
    if (!ok) this.#failures.push(what);
  }

  get failed(): boolean {
    return this.#failures.length > 0;
  }

  verdict(): boolean {
    if (this.#failures.length === 0) {
      console.log(`${this.#name}: ok`);
      return true;
    }
    for (const failure of this.#failures) console.log(`${this.#name}: FAIL ${failure}`);
    return false;
  }
}

/** Forces a full collection; the soak is run with --expose-gc. */
export function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("the soak needs --expose-gc (run it with npm run soak)");
  // Twice: the first pass can leave objects that only die once finalizers ran.
  gc();
  gc();
}

/**
 * Bytes the JavaScript heap holds after a full collection, with the backing
 * stores of typed arrays (the timer heap keeps its keys in them), which V8
 * counts outside `heapUsed`.
 */
export function heapUsed(): number {
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
