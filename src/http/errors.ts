/** TEMPORARY stub of the lead's errors (replaced by main's codec on merge). */
export class HttpProtocolError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpProtocolError";
    this.status = status;
  }
}
export class HttpBodyLengthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HttpBodyLengthError";
  }
}
