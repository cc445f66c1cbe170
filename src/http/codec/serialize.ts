/** TEMPORARY stub of the lead's serializer (replaced by main's codec on merge). */
import type { HttpHeaders } from "../headers.ts";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const utf8 = new TextEncoder();
export function requestHeadBytes(method: string, target: string, headers: HttpHeaders): Uint8Array {
  if (!TOKEN.test(method)) throw new TypeError(`requestHeadBytes(): method is not a token: ${JSON.stringify(method)}`);
  if (/[\s\0]/.test(target) || target === "") throw new TypeError(`requestHeadBytes(): target has whitespace, CR, LF or NUL`);
  let s = `${method} ${target} HTTP/1.1\r\n`;
  for (const [n, v] of headers) {
    if (!TOKEN.test(n) || /[\r\n\0]/.test(v)) throw new TypeError(`requestHeadBytes(): bad header ${JSON.stringify(n)}`);
    s += `${n}: ${v}\r\n`;
  }
  return utf8.encode(`${s}\r\n`);
}
export function responseHeadBytes(): Uint8Array {
  throw new Error("stub");
}
export function reasonPhrase(status: number): string {
  return String(status);
}
