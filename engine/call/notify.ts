/**
 * End-of-call e-mail (spec §8.7 PROPOSED): when the assistant has notification addresses, the
 * summary goes out through the organization's verified sending domain with its Resend key.
 * Best effort: a missing domain or key is logged and skipped, never an error for the call.
 */
import type { Logger } from 'pino';
import { Resend } from 'resend';
import type { EngineConfig } from '../../config/index.js';
import type { Store } from '../store/index.js';
import type { CallRecord } from '../store/repos/calls.js';

type Obj = Record<string, unknown>;

export type NotifyResult = { sent: true; id: string; to: string[] } | { sent: false; reason: string };

export function recipientsOf(assistant: Obj): string[] {
  const list = [
    ...(Array.isArray(assistant.notification_emails) ? assistant.notification_emails : []),
    assistant.notification_email,
  ].filter((x): x is string => typeof x === 'string' && x.includes('@'));
  return [...new Set(list.map((x) => x.trim()))];
}

export async function emailCallSummary(o: { store: Store; config: EngineConfig; log: Logger; orgId: string; assistant: Obj; call: CallRecord }): Promise<NotifyResult> {
  const to = recipientsOf(o.assistant);
  if (!to.length) return { sent: false, reason: 'no notification address' };
  const domain = o.store.domains.get(o.orgId);
  if (!domain || domain.status !== 'verified') return { sent: false, reason: 'no verified sending domain (POST /domains, then verify)' };
  const key = o.store.byok.key(o.orgId, 'resend') ?? o.config.providers.resend.apiKey;
  if (!key) return { sent: false, reason: 'no Resend key (POST /byok with provider "resend")' };
  const c = o.call;
  const name = typeof o.assistant.name === 'string' ? o.assistant.name : 'Assistant';
  const transcript = (c.messages ?? []).filter((m) => m.role !== 'system').map((m) => `${m.role === 'user' ? 'Caller' : 'Assistant'}: ${m.content}`).join('\n');
  const text = [
    `Call ${c.id}`,
    `${c.direction === 'outbound' ? 'To' : 'From'}: ${c.caller_phone ?? 'unknown'}   Number: ${c.assistant_phone ?? '-'}`,
    `Ended: ${c.ended_at ?? '-'} (${c.end_reason ?? '-'}), ${c.duration_seconds ?? 0} s`,
    '', 'Summary:', c.summary || '(none)',
    ...(c.analysis_result ? ['', 'Analysis:', JSON.stringify(c.analysis_result, null, 2)] : []),
    '', 'Transcript:', transcript || '(empty)',
  ].join('\n');
  const resend = new Resend(key, { ...(o.config.providers.resend.baseUrl ? { baseUrl: o.config.providers.resend.baseUrl } : {}) });
  const r = await resend.emails.send({
    from: `${name} <notifications@${domain.name}>`, to, subject: `Call summary: ${c.caller_phone ?? 'caller'} with ${name}`, text,
  });
  if (r.error || !r.data) return { sent: false, reason: r.error?.message ?? 'no answer from Resend' };
  return { sent: true, id: r.data.id, to };
}
