import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dialer, isWindowOpen, type DialerOptions } from '../../../engine/campaigns/index.js';
import type { Store } from '../../../engine/store/index.js';
import { addCampaign, addNumber, addOrg, Clock, FakePort, memoryStore } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Wednesday 2025-01-15 10:00 in Amsterdam. */
const WED_10 = Date.parse('2025-01-15T09:00:00Z');

function rig(o: Partial<DialerOptions> = {}, start = WED_10) {
  const store = memoryStore();
  const clock = new Clock(start);
  const port = new FakePort(store, clock.now);
  const dialer = new Dialer({ store, telephony: port, now: clock.now, retryIntervalMs: HOUR, ...o });
  return { store, clock, port, dialer };
}
const leadsOf = (store: Store, campaignId: string) => store.campaigns.leads(campaignId);
const statusOf = (store: Store, orgId: string, id: string) => store.campaigns.get(orgId, id)?.status;

describe('dialler (fake clock, fake telephony)', () => {
  test('dials every lead once, with the rendered template and metadata, and completes the campaign', async () => {
    const { store, port, dialer, clock } = rig();
    const org = addOrg(store);
    const c = addCampaign(store, org, ['+31611111111', '+31622222222', '+31633333333'], { system_message_template: 'Talk to {{name}} at {{phone_number}} {{x}}.' });
    let s = await dialer.tick();
    assert.equal(s.placed, 1, 'campaign default concurrency is 1');
    const first = port.placed[0]!;
    assert.equal(first.plan.destination, '+31611111111');
    assert.equal(first.plan.numberId, org.numberId);
    assert.equal(first.plan.assistantId, org.agentId);
    const msgs = (first.plan.assistant.llm_config as { messages: { content: string }[] }).messages;
    assert.equal(msgs.at(-1)!.content, 'Talk to N1111 at +31611111111 .');
    assert.deepEqual(first.plan.metadata, { team: 'sales', name: 'N1111', campaign_id: c.id, lead_id: first.leadId, campaign_attempt: 1 });
    const lead = store.campaigns.lead(c.id, first.leadId)!;
    assert.equal(lead.status, 'calling');
    assert.equal(lead.call_id, first.callId);
    assert.equal(lead.attempts, 1);
    assert.equal(lead.last_attempt_at, new Date(clock.t).toISOString());
    // Nothing more while the call is live.
    assert.equal((await dialer.tick()).placed, 0);
    let completedAt = -1;
    for (let i = 0; i < 5; i++) {
      port.endAll(() => 'user_hangup');
      clock.advance(5000);
      s = await dialer.tick();
      if (s.completed) completedAt = i;
    }
    assert.equal(port.placed.length, 3);
    assert.equal(completedAt, 2, 'completed in the loop that resolved the last lead');
    const done = store.campaigns.get(org.id, c.id)!;
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.lead_counts, { pending: 0, calling: 0, completed: 3, failed: 0, skipped: 0 });
    assert.ok(leadsOf(store, c.id).every((l) => l.last_outcome === 'answered' && l.attempts === 1));
    assert.deepEqual(store.campaigns.attempts(c.id).map((a) => [a.state, a.outcome, a.lead_status]), Array(3).fill(['done', 'answered', 'completed']));
  });

  test('never starts a call outside the window; a live call outlives the window and still resolves', async () => {
    // Weekdays 09:00-09:30 and across midnight are exercised over two simulated days, stepping 1 minute.
    const { store, port, dialer, clock } = rig({ retryIntervalMs: 10 * MIN }, Date.parse('2025-01-16T07:00:00Z'));
    const org = addOrg(store);
    const day = addCampaign(store, org, 8, { schedule_start_time: '09:00:00', schedule_end_time: '09:30:00', max_concurrency: 2 });
    const night = addCampaign(store, org, 8, { schedule_start_time: '23:50:00', schedule_end_time: '00:20:00', schedule_days: [4], max_concurrency: 2 });
    const windows = new Map([[day.id, store.campaigns.get(org.id, day.id)!], [night.id, store.campaigns.get(org.id, night.id)!]]);
    let outlived = 0;
    for (let m = 0; m < 2 * 24 * 60; m++) {
      // Calls last 7 minutes; every third is busy.
      for (const p of [...port.live.values()]) {
        if (clock.t - p.at >= 7 * MIN) {
          if (!isWindowOpen(windows.get(p.campaignId)!, clock.t)) outlived++;
          port.end(p.callId, port.placed.indexOf(p) % 3 === 0 ? 'busy' : 'user_hangup');
        }
      }
      await dialer.tick();
      clock.advance(MIN);
    }
    assert.ok(port.placed.length >= 16, `placed ${port.placed.length}`);
    for (const p of port.placed) assert.ok(isWindowOpen(windows.get(p.campaignId)!, p.at), `dialled at ${new Date(p.at).toISOString()}`);
    // The Thursday-night campaign dials Thursday 23:50 - Friday 00:20 only (UTC 22:50 - 23:20).
    for (const p of port.placed.filter((x) => x.campaignId === night.id)) {
      const iso = new Date(p.at).toISOString();
      assert.ok(iso >= '2025-01-16T22:50:00.000Z' && iso < '2025-01-16T23:20:00.000Z', iso);
    }
    assert.ok(outlived > 0, 'some calls were still live when their window closed');
    assert.equal(port.live.size, 0);
    assert.equal(store.campaigns.openAttempts().length, 0, 'calls that outlived the window were resolved');
    assert.ok(port.peak.campaign.get(day.id)! <= 2 && port.peak.campaign.get(night.id)! <= 2);
  });

  test('concurrency: campaign, organization and engine limits are never exceeded', async () => {
    const { store, port, dialer, clock } = rig({ limits: { engine: 5, org: 3, campaignDefault: 1 } });
    const orgs = [addOrg(store, 'A'), addOrg(store, 'B'), addOrg(store, 'C')];
    const campaigns = orgs.flatMap((o) => [addCampaign(store, o, 12, { max_concurrency: 2 }), addCampaign(store, o, 12, { max_concurrency: 4 }), addCampaign(store, o, 4)]);
    let rnd = 7;
    const random = () => ((rnd = (rnd * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < 400 && campaigns.some((c) => statusOf(store, c.org_id, c.id) !== 'completed'); i++) {
      for (const p of [...port.live.values()]) if (random() < 0.3) port.end(p.callId, random() < 0.8 ? 'user_hangup' : 'rejected');
      await dialer.tick();
      const live = store.campaigns.liveCounts();
      assert.ok(live.reduce((a, r) => a + r.live, 0) <= 5);
      clock.advance(5000);
    }
    assert.equal(port.placed.length, orgs.length * 28, 'every lead dialled once');
    assert.equal(port.peak.engine, 5, 'the engine limit was reached but not exceeded');
    for (const o of orgs) assert.ok(port.peak.org.get(o.id)! <= 3);
    for (const c of campaigns) assert.ok(port.peak.campaign.get(c.id)! <= (c.max_concurrency ?? 1), `${c.max_concurrency}`);
    for (const c of campaigns) assert.equal(statusOf(store, c.org_id, c.id), 'completed');
  });

  test('fairness: slots are shared round-robin across campaigns', async () => {
    const { store, port, dialer } = rig({ limits: { engine: 2, org: 10, campaignDefault: 5 } });
    const org = addOrg(store);
    const cs = [addCampaign(store, org, 30), addCampaign(store, org, 30), addCampaign(store, org, 30)];
    const served = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      await dialer.tick();
      for (const p of port.live.values()) served.set(p.campaignId, (served.get(p.campaignId) ?? 0) + 1);
      port.endAll(() => 'user_hangup');
    }
    const n = cs.map((c) => served.get(c.id) ?? 0);
    assert.equal(n.reduce((a, b) => a + b), 60);
    assert.ok(Math.max(...n) - Math.min(...n) <= 1, `served ${n.join('/')}`);
    // In one loop with room for all, each campaign gets a call before any gets a second.
    const r2 = rig({ limits: { engine: 3, org: 10, campaignDefault: 5 } });
    const o2 = addOrg(r2.store);
    const three = [addCampaign(r2.store, o2, 5), addCampaign(r2.store, o2, 5), addCampaign(r2.store, o2, 5)];
    await r2.dialer.tick();
    assert.deepEqual(r2.port.placed.map((p) => p.campaignId).sort(), three.map((c) => c.id).sort());
  });

  test('retries: no_answer/busy/failed_to_connect/voicemail wait the retry interval; max attempts then failed; rejected fails at once', async () => {
    const { store, port, dialer, clock } = rig({ maxAttempts: 3, retryIntervalMs: HOUR, limits: { campaignDefault: 10 } });
    const org = addOrg(store);
    const phones = ['+31600000001', '+31600000002', '+31600000003', '+31600000004', '+31600000005', '+31600000006'];
    const c = addCampaign(store, org, phones);
    const script: Record<string, string[]> = {
      '+31600000001': ['busy', 'no_answer', 'user_hangup'],
      '+31600000002': ['no_answer', 'no_answer', 'no_answer'],
      '+31600000003': ['rejected'],
      '+31600000004': ['voicemail', 'failed_to_connect', 'busy'],
      '+31600000005': ['voicemail+message'],
      '+31600000006': ['error', 'user_hangup'],
    };
    const endScripted = () => {
      for (const p of [...port.live.values()]) {
        const r = script[p.plan.destination]![p.attempt - 1]!;
        if (r === 'voicemail+message') port.end(p.callId, 'voicemail', [{ role: 'user', content: 'leave a message' }, { role: 'assistant', content: 'Call us back' }]);
        else port.end(p.callId, r, r === 'voicemail' ? [{ role: 'user', content: 'leave a message after the tone' }] : null);
      }
    };
    await dialer.tick();
    assert.equal(port.placed.length, 6);
    endScripted();
    await dialer.tick();
    const lead = (p: string) => leadsOf(store, c.id).find((l) => l.phone_number === p)!;
    assert.equal(lead('+31600000003').status, 'failed', 'rejected (invalid number) fails without retry');
    assert.equal(lead('+31600000003').attempts, 1);
    assert.equal(lead('+31600000005').status, 'completed');
    assert.equal(lead('+31600000005').last_outcome, 'voicemail_message_left');
    assert.equal(lead('+31600000004').status, 'pending');
    assert.equal(lead('+31600000004').last_outcome, 'voicemail');
    assert.equal(lead('+31600000001').next_attempt_at, new Date(clock.t + HOUR).toISOString());
    // Not before the retry interval.
    clock.advance(HOUR - 1000);
    await dialer.tick();
    assert.equal(port.placed.length, 6);
    clock.advance(1000);
    await dialer.tick();
    assert.equal(port.placed.length, 10, 'the four retryable leads are dialled again');
    const retryGap = port.placed.slice(6).map((p) => p.at - port.placed.find((q) => q.leadId === p.leadId)!.at);
    assert.deepEqual(retryGap, [HOUR, HOUR, HOUR, HOUR]);
    endScripted();
    await dialer.tick();
    assert.equal(lead('+31600000006').status, 'completed');
    clock.advance(HOUR);
    await dialer.tick();
    assert.equal(port.placed.length, 13);
    endScripted();
    clock.advance(5000);
    await dialer.tick();
    assert.deepEqual(leadsOf(store, c.id).map((l) => [l.phone_number, l.status, l.attempts, l.last_outcome]), [
      ['+31600000001', 'completed', 3, 'answered'],
      ['+31600000002', 'failed', 3, 'no_answer'],
      ['+31600000003', 'failed', 1, 'rejected'],
      ['+31600000004', 'failed', 3, 'busy'],
      ['+31600000005', 'completed', 1, 'voicemail_message_left'],
      ['+31600000006', 'completed', 2, 'answered'],
    ]);
    assert.equal(statusOf(store, org.id, c.id), 'completed');
    clock.advance(10 * HOUR);
    await dialer.tick();
    assert.equal(port.placed.length, 13, 'a completed campaign dials nothing');
    const c2 = store.campaigns.get(org.id, c.id)!;
    assert.equal(c2.completed_leads, 3);
    assert.equal(c2.failed_leads, 3);
  });

  test('pause: no new calls, live calls finish and resolve; resume continues; completion only while scheduled', async () => {
    const { store, port, dialer, clock } = rig({ limits: { campaignDefault: 2 } });
    const org = addOrg(store);
    const c = addCampaign(store, org, 4);
    await dialer.tick();
    assert.equal(port.placed.length, 2);
    store.campaigns.setStatus(c.id, 'paused');
    clock.advance(5000);
    await dialer.tick();
    assert.equal(port.placed.length, 2);
    assert.equal(port.live.size, 2, 'pausing hangs nothing up');
    port.endAll(() => 'user_hangup');
    await dialer.tick();
    assert.equal(leadsOf(store, c.id).filter((l) => l.status === 'completed').length, 2, 'live calls resolve while paused');
    assert.equal(port.placed.length, 2);
    store.campaigns.setStatus(c.id, 'scheduled');
    await dialer.tick();
    assert.equal(port.placed.length, 4);
    port.endAll(() => 'user_hangup');
    store.campaigns.setStatus(c.id, 'paused');
    await dialer.tick();
    assert.equal(statusOf(store, org.id, c.id), 'paused', 'a paused campaign is not completed');
    store.campaigns.setStatus(c.id, 'scheduled');
    await dialer.tick();
    assert.equal(statusOf(store, org.id, c.id), 'completed');
  });

  test('a scheduled campaign without leads stays scheduled; a cancelled one fails a live lead that would retry', async () => {
    const { store, port, dialer } = rig();
    const org = addOrg(store);
    const empty = addCampaign(store, org, 0);
    const c = addCampaign(store, org, 2);
    await dialer.tick();
    assert.equal(statusOf(store, org.id, empty.id), 'scheduled');
    assert.equal(port.placed.length, 1);
    store.campaigns.skipPendingLeads(c.id);
    store.campaigns.setStatus(c.id, 'cancelled');
    port.endAll(() => 'busy');
    await dialer.tick();
    assert.deepEqual(leadsOf(store, c.id).map((l) => l.status).sort(), ['failed', 'skipped']);
    assert.equal(port.placed.length, 1);
  });

  test('no caller-ID number: stays scheduled with last_error and dials nothing; a number clears it', async () => {
    const { store, port, dialer } = rig();
    const org = addOrg(store, 'Bare', { number: false });
    const c = addCampaign(store, org, 2);
    await dialer.tick();
    let got = store.campaigns.get(org.id, c.id)!;
    assert.equal(got.status, 'scheduled');
    assert.match(got.last_error ?? '', /number/);
    assert.equal(port.placed.length, 0);
    const n = addNumber(store, org.id, null);
    await dialer.tick();
    got = store.campaigns.get(org.id, c.id)!;
    assert.equal(got.last_error, null);
    assert.equal(port.placed.length, 1);
    assert.equal(port.placed[0]!.plan.numberId, n.id, 'any active number of the organization with a trunk');
  });

  test('placing throws: the attempt is voided, the lead waits the back-off, last_error says why', async () => {
    const { store, port, dialer, clock } = rig({ placeErrorBackoffMs: MIN });
    const org = addOrg(store);
    const c = addCampaign(store, org, 1);
    port.failWith = new Error('The engine is shutting down');
    await dialer.tick();
    let lead = leadsOf(store, c.id)[0]!;
    assert.equal(lead.status, 'pending');
    assert.equal(lead.attempts, 0);
    assert.equal(lead.next_attempt_at, new Date(clock.t + MIN).toISOString());
    assert.match(store.campaigns.get(org.id, c.id)!.last_error ?? '', /shutting down/);
    assert.deepEqual(store.campaigns.attempts(c.id).map((a) => a.state), ['void']);
    port.failWith = null;
    clock.advance(MIN);
    await dialer.tick();
    lead = leadsOf(store, c.id)[0]!;
    assert.equal(lead.status, 'calling');
    assert.equal(lead.attempts, 1);
    assert.equal(port.placed[0]!.attempt, 1);
    assert.equal(store.campaigns.get(org.id, c.id)!.last_error, null);
  });

  test('an attempt whose call record never appears is lost after lostAfterMs and retried', async () => {
    const { store, port, dialer, clock } = rig({ lostAfterMs: 10 * MIN, retryIntervalMs: MIN });
    const org = addOrg(store);
    const c = addCampaign(store, org, 1);
    await dialer.tick();
    store.calls.update(port.placed[0]!.callId, {});
    store.db.prepare('DELETE FROM calls WHERE id = ?').run(port.placed[0]!.callId);
    clock.advance(9 * MIN);
    await dialer.tick();
    assert.equal(leadsOf(store, c.id)[0]!.status, 'calling');
    clock.advance(MIN);
    await dialer.tick();
    assert.equal(leadsOf(store, c.id)[0]!.last_outcome, 'lost');
    clock.advance(MIN);
    await dialer.tick();
    assert.equal(port.placed.length, 2);
    assert.equal(port.placed[1]!.attempt, 2);
  });
});

describe('dialler restart (state in SQLite)', () => {
  test('restart mid-campaign: resumes, never dials an attempt twice, resolves calls a crash left live', async () => {
    const { store, port, clock } = rig({}, WED_10);
    const org = addOrg(store);
    const c = addCampaign(store, org, 10, { max_concurrency: 3 });
    const opts = { store, telephony: port, now: clock.now, retryIntervalMs: 10 * MIN, maxAttempts: 3 };
    const a = new Dialer(opts);
    await a.tick();
    port.endAll(() => 'user_hangup');
    await a.tick();
    assert.equal(port.placed.length, 6);
    // Crash: dialler A is gone without close(); the engine's recovery marks live calls failed/error.
    for (const p of port.live.values()) store.calls.update(p.callId, { status: 'failed', end_reason: 'error', error: 'engine restarted during the call' });
    port.live.clear();
    // And one more attempt was recorded but the crash came before the call existed.
    const lead = store.campaigns.dueLeads(c.id, new Date(clock.t).toISOString(), 1)[0]!;
    const orphan = store.campaigns.claimLead(c.id, lead.id, new Date(clock.t).toISOString())!;
    // And one whose call existed but whose id was never written back.
    const lead2 = store.campaigns.dueLeads(c.id, new Date(clock.t).toISOString(), 1)[0]!;
    const unrecorded = store.campaigns.claimLead(c.id, lead2.id, new Date(clock.t).toISOString())!;
    const { callId: lateId } = await port.placeOutbound(org.id, { destination: lead2.phone_number, numberId: org.numberId, assistantId: org.agentId, assistant: {}, firstMessage: null, metadata: { campaign_id: c.id, lead_id: lead2.id, campaign_attempt: 1 } });
    const before = port.placed.length;

    const b = new Dialer(opts);
    clock.advance(5000);
    await b.tick();
    assert.equal(store.campaigns.attempt(orphan.id)!.state, 'void', 'never placed: voided');
    const adopted = store.campaigns.attempt(unrecorded.id)!;
    assert.equal(adopted.state, 'live');
    assert.equal(adopted.call_id, lateId, 'the call created before the crash is adopted, not dialled again');
    const crashed = store.campaigns.attempts(c.id).filter((x) => x.outcome === 'error');
    assert.equal(crashed.length, 3, 'the three calls live at the crash resolve from their records');
    assert.ok(crashed.every((x) => x.lead_status === 'pending'));
    // B dialled again within the limit: the orphan's lead (attempt 1 again) took the free slot.
    assert.equal(port.placed.length - before, 2);
    // Run to the end.
    for (let i = 0; i < 200 && statusOf(store, org.id, c.id) !== 'completed'; i++) {
      port.endAll(() => 'user_hangup');
      store.calls.update(lateId, { status: 'ended', end_reason: 'user_hangup' });
      clock.advance(MIN);
      await b.tick();
    }
    assert.equal(statusOf(store, org.id, c.id), 'completed');
    const seen = new Set<string>();
    for (const p of port.placed) {
      const k = `${p.leadId}#${p.attempt}`;
      assert.ok(!seen.has(k), `attempt ${k} dialled twice`);
      seen.add(k);
    }
    const leads = leadsOf(store, c.id);
    assert.ok(leads.every((l) => l.status === 'completed'));
    assert.equal(port.placed.length, leads.reduce((a, l) => a + l.attempts, 0), 'calls placed = attempts counted');
    assert.ok(port.peak.campaign.get(c.id)! <= 3);
  });

  test('start() runs a loop at once and then on the timer; close() stops it and is idempotent', async () => {
    const { store, port, clock } = rig();
    const org = addOrg(store);
    addCampaign(store, org, 3);
    const pending: { fn: () => void; ms: number }[] = [];
    const timers = { setTimeout: (fn: () => void, ms: number) => { const h = { fn, ms }; pending.push(h); return h; }, clearTimeout: (h: unknown) => { pending.splice(pending.indexOf(h as never), 1); } };
    const ticks: number[] = [];
    const d = new Dialer({ store, telephony: port, now: clock.now, timers, intervalMs: 5000, onTick: (s) => ticks.push(s.placed) });
    await d.start();
    assert.deepEqual(ticks, [1]);
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.ms, 5000);
    port.endAll(() => 'user_hangup');
    const h = pending.shift()!;
    h.fn();
    await new Promise((r) => setImmediate(r));
    await d.tick();
    assert.deepEqual(ticks, [1, 1, 0]);
    await d.close();
    await d.close();
    assert.equal(pending.length, 0, 'no timer left after close');
  });
});
