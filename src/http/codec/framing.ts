/** TEMPORARY stub of the lead's framing (replaced by main's codec on merge). */
import { HttpProtocolError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";
import type { RequestHead, ResponseHead } from "./input.ts";

export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

export function requestFraming(_head: RequestHead): BodyFraming {
  throw new Error("stub");
}
export function responseFraming(head: ResponseHead, method: string): BodyFraming {
  if (method === "HEAD" || head.status < 200 || head.status === 204 || head.status === 304) return { kind: "none" };
  if (method === "CONNECT" && head.status < 300) return { kind: "none" };
  if (head.headers.has("transfer-encoding")) return { kind: "chunked" };
  const cl = head.headers.get("content-length");
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw new HttpProtocolError(400, "bad content-length");
    return { kind: "length", length: Number(cl) };
  }
  return { kind: "close" };
}
export function keepsAlive(minorVersion: 0 | 1, headers: HttpHeaders): boolean {
  if (headers.hasToken("connection", "close")) return false;
  return minorVersion === 1 || headers.hasToken("connection", "keep-alive");
}
