/**
 * Spec §6.1: `X-Webhook-Signature: sha256=<hex(HMAC_SHA256(secret, "<timestamp>.<raw body>"))>`,
 * timestamp in Unix seconds. Receivers (and our tests) check it with `verifySignature`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEventType } from './envelope.js';

export const USER_AGENT = 'VoiceEngine/1.0';
/** Receivers should reject timestamps further than this from their clock (spec §6.1). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const bytes = (body: string | Uint8Array): Uint8Array => (typeof body === 'string' ? Buffer.from(body, 'utf8') : body);

/** `sha256=<hex>` over `"<timestampSeconds>.<rawBody>"` — sign exactly the bytes that are sent. */
export function sign(secret: string, timestampSeconds: number, rawBody: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${Math.trunc(timestampSeconds)}.`, 'utf8');
  mac.update(bytes(rawBody));
  return `sha256=${mac.digest('hex')}`;
}

export type VerifyFailure = 'missing_signature' | 'missing_timestamp' | 'malformed' | 'expired' | 'mismatch';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export interface VerifyInput {
  secret: string;
  rawBody: string | Uint8Array;
  /** The `X-Webhook-Signature` header value (`sha256=<hex>`). */
  signature: string | null | undefined;
  /** The `X-Webhook-Timestamp` header value (Unix seconds). */
  timestamp: string | number | null | undefined;
  /** Receiver clock in Unix seconds; default now. */
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/** Constant-time signature check with a ±300 s timestamp window. */
export function verifySignature(input: VerifyInput): VerifyResult {
  if (input.signature === null || input.signature === undefined || input.signature === '') return { ok: false, reason: 'missing_signature' };
  if (input.timestamp === null || input.timestamp === undefined || input.timestamp === '') return { ok: false, reason: 'missing_timestamp' };
  const tsText = String(input.timestamp);
  if (!/^\d{1,12}$/.test(tsText)) return { ok: false, reason: 'malformed' };
  const m = /^sha256=([0-9a-f]{64})$/i.exec(input.signature.trim());
  if (!m) return { ok: false, reason: 'malformed' };
  const ts = Number(tsText);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(sign(input.secret, ts, input.rawBody).slice('sha256='.length), 'hex');
  const given = Buffer.from((m[1] as string).toLowerCase(), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** `verifySignature` reading the two headers from a Node or fetch header bag. */
export function verifyRequest(
  headers: Headers | Record<string, string | string[] | undefined>,
  rawBody: string | Uint8Array,
  secret: string,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): VerifyResult {
  const get = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const v = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  return verifySignature({
    secret, rawBody, signature: get('x-webhook-signature'), timestamp: get('x-webhook-timestamp'), ...opts,
  });
}

/** The headers of one attempt (spec §6.1 plus the X-Webhook-Id / X-Webhook-Attempt extensions). */
export function webhookHeaders(opts: {
  event: WebhookEventType;
  id: string;
  attempt: number;
  secret: string | null;
  timestampSeconds: number;
  body: string | Uint8Array;
}): Record<string, string> {
  const ts = Math.trunc(opts.timestampSeconds);
  const h: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Webhook-Event': opts.event,
    'X-Webhook-Timestamp': String(ts),
    'X-Webhook-Id': opts.id,
    'X-Webhook-Attempt': String(opts.attempt),
  };
  if (opts.secret !== null && opts.secret !== '') h['X-Webhook-Signature'] = sign(opts.secret, ts, opts.body);
  return h;
}
