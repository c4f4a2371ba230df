/**
 * `assistant-request` (spec §6.3): sent synchronously before an inbound call is answered, 5 s
 * deadline, never retried, never through the outbox. The answer is one of five forms; anything
 * that goes wrong becomes `failed` and the call falls back to the saved assistant.
 */
import { randomUUID } from 'node:crypto';
import type { AssistantRequestMessage, JsonObject, WebhookPayload } from './envelope.js';
import { WebhookError, type WebhookErrorCode } from './errors.js';
import type { ResolvedWebhook } from './resolve.js';
import { attempt, describeStatus, isSuccess, type FetchFn } from './transport.js';

export const ASSISTANT_REQUEST_TIMEOUT_MS = 5_000;

export type AssistantRequestResult =
  /** `{}`: the number's saved assistant, unchanged. */
  | { type: 'use-saved'; maxDurationSeconds: number | null }
  /** `{"assistant": {…}}`: a transient config for this call (merged over the saved one by the caller when there is one). */
  | { type: 'transient'; assistant: JsonObject; maxDurationSeconds: number | null }
  /** `{"assistant_id", "assistant_override"}`: a saved assistant plus a shallow override. */
  | { type: 'hybrid'; assistantId: string; override: JsonObject; maxDurationSeconds: number | null }
  /** `{"error": "…"}`: speak the text and hang up (`end_reason: "rejected"`). */
  | { type: 'reject'; error: string; maxDurationSeconds: number | null }
  /** Timeout, network error, non-2xx or an unusable body: proceed with the saved assistant. */
  | { type: 'failed'; reason: WebhookErrorCode; detail: string };

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a 2xx body. An empty body counts as `{}`. `error` wins over everything, then
 * `assistant_id` (hybrid), then `assistant` (transient); `max_duration_seconds` (a positive
 * number) combines with any of them.
 */
export function parseAssistantResponse(text: string): AssistantRequestResult {
  let body: unknown;
  if (text.trim() === '') body = {};
  else {
    try {
      body = JSON.parse(text);
    } catch {
      return { type: 'failed', reason: 'bad_response', detail: 'response is not JSON' };
    }
  }
  if (!isObj(body)) return { type: 'failed', reason: 'bad_response', detail: 'response is not a JSON object' };
  const md = body.max_duration_seconds;
  let maxDurationSeconds: number | null = null;
  if (md !== undefined && md !== null) {
    if (typeof md !== 'number' || !Number.isFinite(md) || md <= 0) {
      return { type: 'failed', reason: 'bad_response', detail: 'max_duration_seconds must be a positive number' };
    }
    maxDurationSeconds = Math.floor(md);
  }
  if (body.error !== undefined && body.error !== null) {
    if (typeof body.error !== 'string') return { type: 'failed', reason: 'bad_response', detail: 'error must be a string' };
    return { type: 'reject', error: body.error, maxDurationSeconds };
  }
  if (body.assistant_id !== undefined && body.assistant_id !== null) {
    if (typeof body.assistant_id !== 'string' || body.assistant_id === '') {
      return { type: 'failed', reason: 'bad_response', detail: 'assistant_id must be a non-empty string' };
    }
    const o = body.assistant_override;
    if (o !== undefined && o !== null && !isObj(o)) return { type: 'failed', reason: 'bad_response', detail: 'assistant_override must be an object' };
    return { type: 'hybrid', assistantId: body.assistant_id, override: isObj(o) ? o : {}, maxDurationSeconds };
  }
  if (body.assistant !== undefined && body.assistant !== null) {
    if (!isObj(body.assistant)) return { type: 'failed', reason: 'bad_response', detail: 'assistant must be an object' };
    return { type: 'transient', assistant: body.assistant, maxDurationSeconds };
  }
  return { type: 'use-saved', maxDurationSeconds };
}

export interface AssistantRequestOptions {
  target: ResolvedWebhook;
  payload: WebhookPayload<AssistantRequestMessage>;
  allowHttp: boolean;
  /** Default 5 s. */
  timeoutMs?: number;
  /** The call's signal (e.g. the caller hung up while we wait). */
  signal?: AbortSignal;
  fetch?: FetchFn;
  now?: () => number;
}

/** Sends `assistant-request` once and classifies the answer. Never throws. */
export async function requestAssistant(opts: AssistantRequestOptions): Promise<AssistantRequestResult> {
  const body = JSON.stringify(opts.payload);
  try {
    const res = await attempt({
      url: opts.target.url, secret: opts.target.secret, event: 'assistant-request', body, id: randomUUID(), attempt: 1,
      timeoutMs: opts.timeoutMs ?? ASSISTANT_REQUEST_TIMEOUT_MS, readBody: true, allowHttp: opts.allowHttp,
      ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.now ? { now: opts.now } : {}),
    });
    if (!isSuccess(res.status)) return { type: 'failed', reason: 'http_status', detail: describeStatus(res.status) };
    return parseAssistantResponse(res.text);
  } catch (err) {
    const e = err instanceof WebhookError ? err : new WebhookError('network', String(err), { cause: err });
    return { type: 'failed', reason: e.code, detail: e.message };
  }
}
