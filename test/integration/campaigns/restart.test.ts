/**
 * A restart of the engine in the middle of a campaign: the calls live at shutdown are ended by
 * the drain (end_reason error), the new process's dialler resolves them from their records,
 * retries them, and dials every remaining lead exactly once per attempt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startEngine, type RunningEngine } from '../../../engine/engine.js';
import { startHarness, type Harness } from '../../e2e/harness.js';
import { maxOverlap, startSippUas, type SippUas } from './helpers.js';

type Obj = Record<string, any>;
const DIALER = { intervalMs: 150, retryIntervalMs: 300, maxAttempts: 3, limits: { engine: 3, org: 3, campaignDefault: 3 } };

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('campaign across an engine restart', () => {
  let h: Harness;
  let uas: SippUas;
  let second: RunningEngine | undefined;
  before(async () => {
    uas = await startSippUas('uas-mixed.xml');
    h = await startHarness({ parts: { vad: null, dialer: DIALER } });
  });
  after(async () => {
    await second?.close();
    await h?.close();
    await uas?.stop();
  });

  test('resumes after a restart with calls live: cut calls are retried, no attempt is dialled twice', { timeout: 100_000 }, async () => {
    const agent = (await h.api<Obj>('POST', '/assistants', {
      name: 'Restart caller', llm_config: { provider: 'openai', model: 'gpt-4o-mini', messages: [] },
      stt_config: { provider: 'deepgram', model: 'nova-3', language: 'en' }, tts_config: { provider: 'elevenlabs', voice_id: 'v' },
    })).body.assistant.id as string;
    const trunk = (await h.api<Obj>('POST', '/sip-trunks', { name: 'sipp', address: `127.0.0.1:${uas.port}` })).body.trunk.id as string;
    assert.equal((await h.api('POST', '/numbers', { phone_number: '+31850000222', agent_id: agent, transfer_trunk_id: trunk })).status, 201);
    const phones = Array.from({ length: 12 }, (_, i) => `+3161300${String(i).padStart(2, '0')}${i % 6}`);
    const c = await h.api<Obj>('POST', '/campaigns', {
      name: 'Restart', agent_id: agent, timezone: 'UTC', schedule_start_time: '00:00:00', schedule_end_time: '23:59:59',
      max_concurrency: 3, leads: phones.map((p) => ({ phone_number: p })),
    });
    assert.equal(c.status, 201);
    const id = c.body.campaign.id as string;
    assert.equal((await h.api('PATCH', `/campaigns/${id}`, { status: 'scheduled' })).status, 200);

    // Shut down while calls are in progress (answered, talking).
    const store1 = h.engine.store;
    await until('calls in progress', () => {
      const n = (store1.db.prepare("SELECT count(*) n FROM calls WHERE campaign_id = ? AND status = 'in-progress'").get(id) as { n: number }).n;
      return n >= 2 ? n : undefined;
    }, 30_000);
    await h.engine.close();

    second = await startEngine(h.engine.config, pino({ level: 'silent' }), { vad: null, dialer: DIALER });
    const store = second.store;
    await until('the campaign to complete after the restart', () => (store.campaigns.statusOf(id) === 'completed' ? true : undefined), 60_000);

    const leads = store.campaigns.leads(id);
    assert.ok(leads.every((l) => l.status === 'completed'), JSON.stringify(leads.map((l) => [l.phone_number, l.status, l.last_outcome])));
    const attempts = store.campaigns.attempts(id).filter((a) => a.state !== 'void');
    const cut = attempts.filter((a) => a.outcome === 'error');
    assert.ok(cut.length >= 2, `${cut.length} attempts were cut by the restart`);
    for (const a of cut) {
      assert.equal(a.lead_status, 'pending', 'a cut call is retried');
      assert.ok(attempts.some((b) => b.lead_id === a.lead_id && b.attempt === a.attempt + 1 && b.outcome === 'answered'));
    }
    const calls = store.db.prepare('SELECT lead_id, metadata, created_at, ended_at FROM calls WHERE campaign_id = ?').all(id) as Obj[];
    const keys = calls.map((x) => `${x.lead_id}#${JSON.parse(x.metadata).campaign_attempt}`);
    assert.equal(new Set(keys).size, keys.length, 'no attempt dialled twice');
    assert.equal(calls.length, leads.reduce((a, l) => a + l.attempts, 0));
    assert.ok(maxOverlap(calls.map((x) => [Date.parse(x.created_at), Date.parse(x.ended_at)])) <= 3);
  });
});
