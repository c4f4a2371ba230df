// Provider errors: one class with a code, never matched by message text.
// Retry and fallback live outside the clients; `withRetry` is the small helper for that.

export type ProviderName = 'deepgram' | 'openai' | 'xai' | 'mistral' | 'elevenlabs' | 'xai_realtime' | 'local';

export type ProviderErrorCode =
  | 'auth' // 401/403: wrong or missing key (fatal)
  | 'bad_request' // 400/404/422: the request itself is wrong (fatal)
  | 'rate_limited' // 429 (retryable)
  | 'server' // 5xx (retryable)
  | 'network' // connection refused/reset, socket dropped (retryable)
  | 'timeout' // no answer in time (retryable)
  | 'protocol' // the peer sent something we cannot understand (fatal)
  | 'aborted' // our own AbortSignal fired (not an error to report, not retryable)
  | 'unavailable'; // a local dependency is missing (e.g. espeak-ng) (fatal)

const RETRYABLE: ReadonlySet<ProviderErrorCode> = new Set(['rate_limited', 'server', 'network', 'timeout']);

export interface ProviderErrorInit {
  provider: ProviderName;
  code: ProviderErrorCode;
  message: string;
  status?: number;
  retryable?: boolean;
  cause?: unknown;
}

export class ProviderError extends Error {
  readonly provider: ProviderName;
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(init: ProviderErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.code = init.code;
    this.status = init.status;
    this.retryable = init.retryable ?? RETRYABLE.has(init.code);
  }
}

/** Maps an HTTP status (REST answer or websocket handshake refusal) to an error code. */
export function codeForStatus(status: number): ProviderErrorCode {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return 'bad_request';
}

export function errorFromStatus(provider: ProviderName, status: number, message: string, cause?: unknown): ProviderError {
  return new ProviderError({ provider, code: codeForStatus(status), status, message, cause });
}

export function abortedError(provider: ProviderName): ProviderError {
  return new ProviderError({ provider, code: 'aborted', message: `${provider}: aborted` });
}

export interface RetryOptions {
  /** Attempts in total, including the first (default 3). */
  attempts?: number;
  /** First back-off delay; doubles each time (default 200 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  onRetry?: (err: ProviderError, attempt: number) => void;
}

/**
 * Runs `fn` until it succeeds, a fatal error is thrown, or the attempts run out. Only
 * `ProviderError`s with `retryable: true` are retried; anything else is rethrown at once.
 * Suitable for the start of a stream (connect, first token), not for half-consumed streams.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 3;
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof ProviderError) || !err.retryable || attempt >= attempts || opts.signal?.aborted) throw err;
      opts.onRetry?.(err, attempt);
      await sleep(Math.min(max, base * 2 ** (attempt - 1)), opts.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(t); reject(signal?.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
