/** TEMPORARY stub of the lead's HttpHeaders (replaced by main's codec on merge). */
export type HttpHeadersInit = HttpHeaders | Iterable<readonly [string, string]> | Record<string, string | number | readonly string[]>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;

function checkName(name: string): void {
  if (typeof name !== "string" || !TOKEN.test(name)) throw new TypeError(`HttpHeaders: bad header name ${JSON.stringify(name)}`);
}
function checkValue(name: string, value: string): string {
  if (BAD_VALUE.test(value)) throw new TypeError(`HttpHeaders: the value of ${name} contains CR, LF or NUL`);
  return value.trim();
}

export class HttpHeaders implements Iterable<[name: string, value: string]> {
  #lines: [string, string][] = [];
  constructor(init?: HttpHeadersInit) {
    if (init === undefined) return;
    if (init instanceof HttpHeaders) {
      for (const [n, v] of init) this.#lines.push([n, v]);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const [n, v] of init as Iterable<readonly [string, string]>) this.append(n, v);
    } else {
      for (const [n, v] of Object.entries(init as Record<string, string | number | readonly string[]>)) {
        if (Array.isArray(v)) for (const x of v as readonly string[]) this.append(n, x);
        else this.append(n, v as string | number);
      }
    }
  }
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    let out: string | undefined;
    for (const [n, v] of this.#lines) if (n.toLowerCase() === lower) out = out === undefined ? v : `${out}, ${v}`;
    return out;
  }
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    return this.#lines.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
  }
  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.#lines.some(([n]) => n.toLowerCase() === lower);
  }
  set(name: string, value: string | number): this {
    this.delete(name);
    return this.append(name, value);
  }
  append(name: string, value: string | number): this {
    checkName(name);
    this.#lines.push([name, checkValue(name, String(value))]);
    return this;
  }
  delete(name: string): boolean {
    const lower = name.toLowerCase();
    const before = this.#lines.length;
    this.#lines = this.#lines.filter(([n]) => n.toLowerCase() !== lower);
    return this.#lines.length !== before;
  }
  get size(): number {
    return this.#lines.length;
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    return this.#lines[Symbol.iterator]();
  }
  hasToken(name: string, token: string): boolean {
    const t = token.toLowerCase();
    return this.getAll(name).some((v) => v.split(",").some((x) => x.trim().toLowerCase() === t));
  }
}
