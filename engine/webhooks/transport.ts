/**
 * One HTTP attempt of one webhook: POST the already-serialised body, signed with a fresh
 * timestamp, with a hard deadline, never following redirects. Shared by the outbox and the
 * synchronous senders; retry decisions are the caller's.
 */
import type { WebhookEventType } from './envelope.js';
import { WebhookError } from './errors.js';
import { webhookHeaders } from './signing.js';

export type FetchFn = typeof fetch;

export interface AttemptRequest {
  url: string;
  secret: string | null;
  event: WebhookEventType;
  /** The exact bytes to send and sign (serialised once by the caller). */
  body: string;
  /** `X-Webhook-Id`: stable across attempts of one event. */
  id: string;
  /** `X-Webhook-Attempt`, 1-based. */
  attempt: number;
  timeoutMs: number;
  /** Read and return the response body (sync senders); otherwise it is discarded. */
  readBody: boolean;
  allowHttp: boolean;
  signal?: AbortSignal;
  fetch?: FetchFn;
  /** Clock for the signature timestamp, ms since the epoch. */
  now?: () => number;
}

export interface AttemptResponse {
  status: number;
  /** The body text when `readBody`, else ''. */
  text: string;
}

/** Checks the URL is http(s) (https only unless `allowHttp`). */
export function checkWebhookUrl(url: string, allowHttp: boolean): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new WebhookError('invalid_url', `not a URL: ${url}`, { cause: err });
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && allowHttp) return u;
  throw new WebhookError('invalid_url', allowHttp ? `not an http(s) URL: ${url}` : `only https:// webhook URLs are allowed: ${url}`);
}

/**
 * Sends one attempt. Resolves with the status for every HTTP answer (2xx or not; 3xx is returned
 * as is, never followed). Rejects with `WebhookError` `invalid_url`, `timeout`, `aborted` or `network`.
 */
export async function attempt(req: AttemptRequest): Promise<AttemptResponse> {
  const url = checkWebhookUrl(req.url, req.allowHttp);
  const fetchFn = req.fetch ?? fetch;
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const fail = (err: unknown): WebhookError => {
    if (err instanceof WebhookError) return err;
    if (req.signal?.aborted) return new WebhookError('aborted', 'aborted by the caller', { cause: err });
    if (timeout.aborted) return new WebhookError('timeout', `no answer within ${req.timeoutMs} ms`, { cause: err });
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const detail = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
    return new WebhookError('network', `request failed: ${detail}`, { cause: err });
  };
  const nowMs = req.now ? req.now() : Date.now();
  const headers = webhookHeaders({
    event: req.event, id: req.id, attempt: req.attempt, secret: req.secret, timestampSeconds: Math.floor(nowMs / 1000), body: req.body,
  });
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'POST', headers, body: req.body, redirect: 'manual', signal });
  } catch (err) {
    throw fail(err);
  }
  if (!req.readBody) {
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, text: '' };
  }
  try {
    return { status: res.status, text: await res.text() };
  } catch (err) {
    throw fail(err);
  }
}

/** Spec §6.8: network errors, timeouts, 408, 429 and 5xx are worth another attempt; nothing else is. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export const isSuccess = (status: number): boolean => status >= 200 && status <= 299;

/** Short text for logs and `last_error`. */
export function describeStatus(status: number): string {
  if (status >= 300 && status <= 399) return `HTTP ${status} (redirect not followed)`;
  return `HTTP ${status}`;
}
