/** TEMPORARY stub of the lead's limits (replaced by main's codec on merge). */
export interface HttpLimits {
  maxStartLineLength?: number;
  maxHeaderSize?: number;
  maxHeaderCount?: number;
}
export function resolveLimits(api: string, limits: HttpLimits | undefined): Required<HttpLimits> {
  if (limits !== undefined && (typeof limits !== "object" || limits === null)) throw new TypeError(`${api}: limits must be an object`);
  return {
    maxStartLineLength: limits?.maxStartLineLength ?? 8192,
    maxHeaderSize: limits?.maxHeaderSize ?? 16384,
    maxHeaderCount: limits?.maxHeaderCount ?? 100,
  };
}
