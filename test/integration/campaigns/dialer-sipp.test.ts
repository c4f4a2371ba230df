/**
 * Campaigns through the real engine (SIP stack, media, call runtime, fake providers) against a
 * sipp UAS whose callees answer, are busy, never pick up (480), do not exist (404) or are
 * unreachable (503), chosen by the last digit of the number.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../../e2e/harness.js';
import { maxOverlap, startSippUas, utcTime, type SippUas } from './helpers.js';

type Obj = Record<string, any>;
const CONCURRENCY = 5;
const EXPECTED: Record<string, { status: string; attempts: number; outcome: string }> = {
  0: { status: 'completed', attempts: 1, outcome: 'answered' },
  6: { status: 'failed', attempts: 2, outcome: 'busy' },
  7: { status: 'failed', attempts: 2, outcome: 'no_answer' },
  8: { status: 'failed', attempts: 1, outcome: 'rejected' },
  9: { status: 'failed', attempts: 2, outcome: 'failed_to_connect' },
};
const expected = (phone: string) => EXPECTED[Number(phone.at(-1)) <= 5 ? '0' : phone.at(-1)!]!;

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('campaign dialled through the engine against sipp', () => {
  let h: Harness;
  let uas: SippUas;
  let agent: string;
  before(async () => {
    uas = await startSippUas('uas-mixed.xml');
    h = await startHarness({
      parts: { vad: null, dialer: { intervalMs: 150, retryIntervalMs: 1000, maxAttempts: 2, limits: { engine: CONCURRENCY, org: CONCURRENCY, campaignDefault: 1 } } },
    });
    const must = async (method: string, path: string, body?: unknown): Promise<Obj> => {
      const r = await h.api<Obj>(method, path, body);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    agent = (await must('POST', '/assistants', {
      name: 'Campaign caller', first_message: 'Hello {{name}}, this is a test call.',
      llm_config: { provider: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You call customers.' }] },
      stt_config: { provider: 'deepgram', model: 'nova-3', language: 'en' },
      tts_config: { provider: 'elevenlabs', voice_id: 'voice-e2e' },
    })).assistant.id;
    const trunk = (await must('POST', '/sip-trunks', { name: 'sipp callees', address: `127.0.0.1:${uas.port}` })).trunk.id;
    await must('POST', '/numbers', { phone_number: '+31850000111', agent_id: agent, transfer_trunk_id: trunk, name: 'Campaign line' });
  });
  after(async () => {
    await h?.close();
    const errors = await uas?.stop();
    if (errors) process.stderr.write(`sipp errors:\n${errors.slice(0, 2000)}\n`);
  });

  test('50 leads, mixed outcomes: right final statuses, concurrency held, nothing dialled outside the window', { timeout: 110_000 }, async (t) => {
    const t0 = Date.now();
    // 50 numbers: 30 answer (last digit 0-5), and 5 each busy, no answer, invalid, unreachable.
    const phones = Array.from({ length: 50 }, (_, i) => `+316120${String(i).padStart(2, '0')}${i % 10}`);
    const created = await h.api<Obj>('POST', '/campaigns', {
      name: 'Fifty', agent_id: agent, timezone: 'UTC', max_concurrency: CONCURRENCY,
      system_message_template: 'The customer is {{name}} from {{company}}; their number is {{phone_number}}.',
      // The window closes 6 s after the start; it is reopened below once the live calls have ended.
      schedule_start_time: utcTime(t0 - 3_600_000), schedule_end_time: utcTime(t0 + 6_000),
      leads: phones.map((p, i) => ({ phone_number: p, variables: { name: `Lead ${i}`, company: 'Acme' } })),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.campaign.id as string;
    const windowEnd = Math.floor((t0 + 6_000) / 1000) * 1000;
    assert.equal((await h.api<Obj>('PATCH', `/campaigns/${id}`, { status: 'scheduled' })).status, 200);

    // Phase 1: dial until the window closes; then nothing new starts and live calls finish.
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now()) + 2500));
    const store = h.engine.store;
    const attempts1 = store.campaigns.attempts(id);
    assert.ok(attempts1.length > 0, 'calls were placed while the window was open');
    for (const a of attempts1) assert.ok(Date.parse(a.started_at) < windowEnd, `attempt started at ${a.started_at}, window ended ${new Date(windowEnd).toISOString()}`);
    const mid = (await h.api<Obj>('GET', `/campaigns/${id}`)).body.campaign;
    assert.equal(mid.status, 'scheduled');
    assert.ok(mid.lead_counts.pending > 0, 'leads are left for the next window');
    await until('the live calls to end after the window closed', () => (store.campaigns.openAttempts().length === 0 ? true : undefined), 20_000);
    const straddling = (store.db.prepare('SELECT end_reason, created_at, ended_at FROM calls WHERE campaign_id = ?').all(id) as Obj[])
      .filter((c) => Date.parse(c.created_at) < windowEnd && Date.parse(c.ended_at) > windowEnd);
    for (const c of straddling) assert.notEqual(c.end_reason, 'error', 'a call live at the window end was not cut');

    // Phase 2: reopen the window and run to completion.
    const reopen = await h.api<Obj>('PATCH', `/campaigns/${id}`, { schedule_end_time: utcTime(Date.now() + 3_600_000) });
    assert.equal(reopen.status, 200, JSON.stringify(reopen.body));
    const done = await until('the campaign to complete', async () => {
      const c = (await h.api<Obj>('GET', `/campaigns/${id}`)).body.campaign;
      return c.status === 'completed' ? c : undefined;
    }, 90_000);

    const leads = (await h.api<Obj>('GET', `/campaigns/${id}/leads`)).body.leads as Obj[];
    assert.equal(leads.length, 50);
    for (const l of leads) {
      const want = expected(l.phone_number);
      const stored = store.campaigns.lead(id, l.id)!;
      assert.deepEqual([l.status, l.attempts, stored.last_outcome], [want.status, want.attempts, want.outcome], l.phone_number);
      assert.ok(l.call_id, 'the lead points at its last call');
    }
    assert.equal(done.completed_leads, 30);
    assert.equal(done.failed_leads, 20);
    assert.deepEqual(done.lead_counts, { pending: 0, calling: 0, completed: 30, failed: 20, skipped: 0 });

    // Concurrency: call records' lifetimes (a superset of each dialog's) never overlap more than the limit.
    const calls = store.db.prepare('SELECT id, lead_id, metadata, created_at, ended_at, end_reason FROM calls WHERE campaign_id = ?').all(id) as Obj[];
    const totalAttempts = leads.reduce((a, l) => a + l.attempts, 0);
    assert.equal(calls.length, totalAttempts, 'one call per attempt, none dialled twice');
    const peak = maxOverlap(calls.map((c) => [Date.parse(c.created_at), Date.parse(c.ended_at)]));
    assert.ok(peak <= CONCURRENCY, `peak ${peak} simultaneous calls`);
    // Metadata reaches the call (and so every webhook): ids and the lead's variables.
    for (const c of calls) {
      const md = JSON.parse(c.metadata);
      assert.equal(md.campaign_id, id);
      assert.equal(md.lead_id, c.lead_id);
      assert.equal(md.company, 'Acme');
    }
    const answered = calls.find((c) => c.end_reason === 'user_hangup')!;
    const cfg = store.calls.getById(answered.id)!.assistant_config as Obj;
    const lead = leads.find((l) => l.id === answered.lead_id)!;
    assert.equal(cfg.llm_config.messages.at(-1).content, `The customer is ${lead.variables.name} from Acme; their number is ${lead.phone_number}.`);
    const report = { leads: 50, calls: calls.length, peak_concurrency: peak, limit: CONCURRENCY, completed: done.completed_leads, failed: done.failed_leads,
      phase1_attempts: attempts1.length, straddling_window_end: straddling.length, seconds: Math.round((Date.now() - t0) / 1000),
      end_reasons: calls.reduce<Record<string, number>>((a, c) => ({ ...a, [c.end_reason]: (a[c.end_reason] ?? 0) + 1 }), {}) };
    t.diagnostic(JSON.stringify(report));
  });
});
