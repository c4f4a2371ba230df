/** Why one webhook request did not produce a usable answer. Match on `code`, never on the message. */
export type WebhookErrorCode =
  | 'invalid_url' // not an http(s) URL, or http:// while only https:// is allowed
  | 'timeout' // no complete answer within the deadline
  | 'network' // connection refused/reset, DNS, TLS
  | 'aborted' // the caller's AbortSignal fired
  | 'http_status' // a non-2xx answer (3xx included: redirects are never followed)
  | 'bad_response'; // 2xx but the body is not what the event's contract allows

export class WebhookError extends Error {
  readonly code: WebhookErrorCode;
  /** HTTP status for `http_status`. */
  readonly status: number | null;
  constructor(code: WebhookErrorCode, message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WebhookError';
    this.code = code;
    this.status = opts.status ?? null;
  }
}
