/**
 * The durable webhook outbox (spec §6.8) for `status-update` and `end-of-call-report`.
 *
 * An event is serialised once and written to the `webhook_outbox` table before any attempt, so a
 * crash or restart loses nothing: `start()` picks up every pending row. The loop sends due rows
 * (several calls in parallel), retries network errors, timeouts, 408, 429 and 5xx with backoff
 * (2 s, 10 s, 60 s ±20 % by default), gives up on other answers, and keeps per-call order: a
 * call's event is not sent before its earlier events are delivered or have finally failed.
 * Delivery is at least once; `X-Webhook-Id` (the row id) lets receivers drop duplicates.
 */
import type { Logger } from 'pino';
import type { OutboxItem, OutboxRepo } from '../store/repos/outbox.js';
import {
  WEBHOOK_EVENT_TYPES, type EndOfCallReportMessage, type JsonObject, type StatusUpdateMessage, type WebhookEventType, type WebhookPayload,
} from './envelope.js';
import { WebhookError } from './errors.js';
import { resolveWebhook, type OrgWebhook, type ResolvedWebhook } from './resolve.js';
import { attempt, describeStatus, isRetryableStatus, isSuccess, type FetchFn } from './transport.js';

export const DEFAULT_BACKOFF_MS: readonly number[] = [2_000, 10_000, 60_000];
export const DEFAULT_OUTBOX_TIMEOUT_MS = 10_000;

export type OutboxPayload = WebhookPayload<StatusUpdateMessage> | WebhookPayload<EndOfCallReportMessage>;

/** What happened to one attempt; for metrics, logs and tests. */
export type DeliveryEvent =
  | { type: 'delivered'; id: string; callId: string | null; event: string; attempt: number; status: number }
  | { type: 'retry-scheduled'; id: string; callId: string | null; event: string; attempt: number; error: string; nextAttemptAt: string }
  | { type: 'failed'; id: string; callId: string | null; event: string; attempt: number; error: string };

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WebhookOutboxOptions {
  /** The store's outbox repository (`store.outbox`). */
  repo: OutboxRepo;
  /** Allow http:// URLs (config `webhooks.allowHttp`); https:// only when false. */
  allowHttp: boolean;
  fetch?: FetchFn;
  /** Clock in ms since the epoch (also used for signature timestamps). Default `Date.now`. */
  now?: () => number;
  timers?: Timers;
  /** In [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Delay before retry n (its length is the number of retries). Default 2 s, 10 s, 60 s. */
  backoffMs?: readonly number[];
  /** Relative jitter applied to each delay. Default 0.2 (±20 %). */
  jitter?: number;
  /** Per-attempt deadline. Default 10 s. */
  timeoutMs?: number;
  /** Attempts in flight at once (different calls). Default 16. */
  concurrency?: number;
  /** Safety re-scan interval. Default 1 s. */
  pollMs?: number;
  /** Delivered rows older than this are deleted at start. Default 7 days. */
  retainDeliveredMs?: number;
  log?: Pick<Logger, 'debug' | 'info' | 'warn'>;
  onDelivery?: (e: DeliveryEvent) => void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const asEvent = (t: string): WebhookEventType | null => ((WEBHOOK_EVENT_TYPES as readonly string[]).includes(t) ? (t as WebhookEventType) : null);

export class WebhookOutbox {
  readonly #repo: OutboxRepo;
  readonly #allowHttp: boolean;
  readonly #fetch: FetchFn | undefined;
  readonly #now: () => number;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #backoff: readonly number[];
  readonly #jitter: number;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #retainMs: number;
  readonly #log: WebhookOutboxOptions['log'];
  readonly #onDelivery: WebhookOutboxOptions['onDelivery'];
  readonly #abort = new AbortController();
  readonly #inflight = new Map<string, Promise<void>>();
  #running = false;
  #closing: Promise<void> | null = null;
  #timer: unknown = null;
  #timerAt = Infinity;

  constructor(opts: WebhookOutboxOptions) {
    this.#repo = opts.repo;
    this.#allowHttp = opts.allowHttp;
    this.#fetch = opts.fetch;
    this.#now = opts.now ?? Date.now;
    this.#timers = opts.timers ?? realTimers;
    this.#random = opts.random ?? Math.random;
    this.#backoff = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#jitter = opts.jitter ?? 0.2;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_OUTBOX_TIMEOUT_MS;
    this.#concurrency = Math.max(1, opts.concurrency ?? 16);
    this.#pollMs = opts.pollMs ?? 1_000;
    this.#retainMs = opts.retainDeliveredMs ?? 7 * 24 * 3600_000;
    this.#log = opts.log;
    this.#onDelivery = opts.onDelivery;
  }

  /** Starts the delivery loop; pending rows left by an earlier process are picked up now. */
  start(): void {
    if (this.#running || this.#closing) return;
    this.#running = true;
    const pruned = this.#repo.pruneDelivered(new Date(this.#now() - this.#retainMs).toISOString());
    const pending = this.#repo.pending().length;
    if (pending > 0 || pruned > 0) this.#log?.info({ pending, pruned }, 'webhook outbox started');
    this.#wake();
  }

  /**
   * Writes the event to the outbox (durable when this returns) and wakes the loop. Returns the
   * row id, which is the `X-Webhook-Id` of every attempt. Allowed before `start()`.
   */
  enqueue(input: { orgId: string; callId: string | null; target: ResolvedWebhook; payload: OutboxPayload }): string {
    const body = JSON.stringify(input.payload);
    const item = this.#repo.enqueue({
      org_id: input.orgId, call_id: input.callId, event_type: input.payload.message.type,
      url: input.target.url, secret: input.target.secret, body, at: new Date(this.#now()).toISOString(),
    });
    this.#wake();
    return item.id;
  }

  /**
   * Resolves the URL and secret (spec §5) and enqueues; null when the event is not sent (no URL,
   * or filtered out by the assistant's `webhook_events`).
   */
  dispatch(input: { orgId: string; callId: string | null; assistant: JsonObject | null; org: OrgWebhook | null; payload: OutboxPayload }): string | null {
    const target = resolveWebhook({ event: input.payload.message.type, assistant: input.assistant, org: input.org });
    if (target === null) return null;
    return this.enqueue({ orgId: input.orgId, callId: input.callId, target, payload: input.payload });
  }

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /**
   * Stops the loop. In-flight attempts finish (each bounded by its timeout) unless `abort`, in
   * which case they are cancelled and stay pending for the next start. Idempotent.
   */
  close(opts: { abort?: boolean } = {}): Promise<void> {
    if (opts.abort) this.#abort.abort();
    if (this.#closing) return this.#closing;
    this.#running = false;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#closing = Promise.allSettled([...this.#inflight.values()]).then(() => undefined);
    return this.#closing;
  }

  #wake(): void {
    this.#arm(0);
  }

  #arm(delayMs: number): void {
    if (!this.#running) return;
    const at = this.#now() + delayMs;
    if (this.#timer !== null) {
      if (this.#timerAt <= at) return;
      this.#timers.clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Infinity;
      this.#scan();
    }, delayMs);
  }

  #scan(): void {
    if (!this.#running) return;
    try {
      const free = this.#concurrency - this.#inflight.size;
      if (free > 0) {
        const nowIso = new Date(this.#now()).toISOString();
        const ready = this.#repo.ready(nowIso, free + this.#inflight.size).filter((i) => !this.#inflight.has(i.id)).slice(0, free);
        for (const item of ready) this.#launch(item);
      }
      // Anything due now was launched, is in flight, or waits for an earlier event of its call:
      // completions wake the loop. Otherwise sleep until the next retry time (or the poll).
      const next = this.#repo.nextDueAfter(new Date(this.#now()).toISOString());
      const untilNext = next === null ? Infinity : Date.parse(next) - this.#now();
      this.#arm(Math.max(0, Math.min(this.#pollMs, untilNext)));
    } catch (err) {
      this.#log?.warn({ err }, 'webhook outbox scan failed');
      this.#arm(this.#pollMs);
    }
  }

  #launch(item: OutboxItem): void {
    const p = this.#deliver(item)
      .catch((err: unknown) => this.#log?.warn({ err, id: item.id }, 'webhook outbox bookkeeping failed'))
      .finally(() => {
        this.#inflight.delete(item.id);
        this.#wake();
      });
    this.#inflight.set(item.id, p);
  }

  async #deliver(item: OutboxItem): Promise<void> {
    const n = item.attempts + 1;
    const event = asEvent(item.event_type);
    if (event === null) {
      this.#fail(item, n, `unknown event type ${item.event_type}`);
      return;
    }
    let error: string;
    let retryable: boolean;
    try {
      const res = await attempt({
        url: item.url, secret: item.secret, event, body: item.body, id: item.id, attempt: n, timeoutMs: this.#timeoutMs,
        readBody: false, allowHttp: this.#allowHttp, signal: this.#abort.signal, now: this.#now,
        ...(this.#fetch ? { fetch: this.#fetch } : {}),
      });
      if (isSuccess(res.status)) {
        this.#repo.markDelivered(item.id, n);
        this.#log?.debug({ id: item.id, callId: item.call_id, event, attempt: n, status: res.status }, 'webhook delivered');
        this.#onDelivery?.({ type: 'delivered', id: item.id, callId: item.call_id, event, attempt: n, status: res.status });
        return;
      }
      error = describeStatus(res.status);
      retryable = isRetryableStatus(res.status);
    } catch (err) {
      const e = err instanceof WebhookError ? err : new WebhookError('network', String(err), { cause: err });
      if (e.code === 'aborted') return; // closing: the row stays pending with its attempt count
      error = `${e.code}: ${e.message}`;
      retryable = e.code === 'timeout' || e.code === 'network';
    }
    if (retryable && n <= this.#backoff.length) {
      const base = this.#backoff[n - 1] as number;
      const delay = Math.max(0, Math.round(base * (1 + this.#jitter * (2 * this.#random() - 1))));
      const nextAttemptAt = new Date(this.#now() + delay).toISOString();
      this.#repo.markRetry(item.id, n, nextAttemptAt, error);
      this.#log?.info({ id: item.id, callId: item.call_id, event, attempt: n, error, delay }, 'webhook attempt failed, will retry');
      this.#onDelivery?.({ type: 'retry-scheduled', id: item.id, callId: item.call_id, event, attempt: n, error, nextAttemptAt });
      return;
    }
    this.#fail(item, n, error);
  }

  #fail(item: OutboxItem, n: number, error: string): void {
    this.#repo.markFailed(item.id, n, error);
    this.#log?.warn({ id: item.id, callId: item.call_id, event: item.event_type, attempt: n, error }, 'webhook delivery failed');
    this.#onDelivery?.({ type: 'failed', id: item.id, callId: item.call_id, event: item.event_type, attempt: n, error });
  }
}
