import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const CAMPAIGN_KEYS = ['id', 'name', 'agent_id', 'status', 'system_message_template', 'schedule_start_time', 'schedule_end_time', 'timezone',
  'schedule_days', 'max_concurrency', 'total_leads', 'completed_leads', 'failed_leads', 'lead_counts', 'last_error', 'created_at', 'updated_at'];
const LEAD_KEYS = ['id', 'campaign_id', 'phone_number', 'variables', 'status', 'call_id', 'attempts', 'last_attempt_at', 'created_at', 'updated_at'];

describe('campaigns API (spec §3.13, §4.22, §8.4)', () => {
  let t: TestEngine;
  let other: { url: string; key: string };
  let agent: string;
  let foreignAgent: string;
  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '100000', DEFAULT_TIMEZONE: 'Europe/Amsterdam' } });
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
    agent = (await api<Obj>(t, 'POST', '/assistants', { name: 'Dialler' })).body.assistant.id;
    foreignAgent = (await api<Obj>(other, 'POST', '/assistants', { name: 'Theirs' })).body.assistant.id;
  });
  after(async () => { await t.close(); });
  const create = async (body: Obj = {}): Promise<Obj> => {
    const r = await api<Obj>(t, 'POST', '/campaigns', { name: 'Spring promo', agent_id: agent, ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.campaign;
  };
  const patch = (id: string, body: Obj) => api<Obj>(t, 'PATCH', `/campaigns/${id}`, body);
  const count = async () => (await api<Obj>(t, 'GET', '/campaigns')).body.campaigns.length;

  test('create with defaults: draft, 09:00:00-17:00:00, engine time zone, exact shape', async () => {
    const c = await create();
    assert.deepEqual(Object.keys(c), CAMPAIGN_KEYS);
    assert.match(c.id, /^[0-9a-f-]{36}$/);
    assert.equal(c.name, 'Spring promo');
    assert.equal(c.agent_id, agent);
    assert.equal(c.status, 'draft');
    assert.equal(c.system_message_template, null);
    assert.equal(c.schedule_start_time, '09:00:00');
    assert.equal(c.schedule_end_time, '17:00:00');
    assert.equal(c.timezone, 'Europe/Amsterdam');
    assert.equal(c.schedule_days, null);
    assert.equal(c.max_concurrency, null);
    assert.equal(c.total_leads, 0);
    assert.equal(c.completed_leads, 0);
    assert.equal(c.failed_leads, 0);
    assert.deepEqual(c.lead_counts, { pending: 0, calling: 0, completed: 0, failed: 0, skipped: 0 });
    assert.equal(c.last_error, null);
    assert.match(c.created_at, TS);
    assert.match(c.updated_at, TS);
    const got = await api<Obj>(t, 'GET', `/campaigns/${c.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { campaign: c });
    const list = await api<Obj>(t, 'GET', '/campaigns');
    assert.deepEqual(list.body.campaigns[0], c);
  });

  test('create with everything: assistant_id alias, HH:MM normalised, extensions, bulk leads; status ignored', async () => {
    const c = await create({
      agent_id: undefined, assistant_id: agent, status: 'scheduled', name: 'Renewals', system_message_template: 'You are calling {{name}} from {{company}}.',
      schedule_start_time: '08:30', schedule_end_time: '20:15:30', timezone: 'America/New_York', schedule_days: [5, 1, 3, 1], max_concurrency: 4,
      leads: [
        { phone_number: '+31612345678', variables: { name: 'John', company: 'Acme Corp' } },
        { phone_number: '+442071234567', name: 'Jane' },
        { phone_number: '+14155550100', name: 'Ignored', variables: { name: 'Kept' } },
      ],
    });
    assert.equal(c.status, 'draft');
    assert.equal(c.agent_id, agent);
    assert.equal(c.schedule_start_time, '08:30:00');
    assert.equal(c.schedule_end_time, '20:15:30');
    assert.equal(c.timezone, 'America/New_York');
    assert.deepEqual(c.schedule_days, [1, 3, 5]);
    assert.equal(c.max_concurrency, 4);
    assert.equal(c.total_leads, 3);
    assert.deepEqual(c.lead_counts, { pending: 3, calling: 0, completed: 0, failed: 0, skipped: 0 });
    const leads = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads;
    assert.deepEqual(leads.map((l: Obj) => l.phone_number), ['+31612345678', '+442071234567', '+14155550100']);
    assert.deepEqual(leads.map((l: Obj) => l.variables), [{ name: 'John', company: 'Acme Corp' }, { name: 'Jane' }, { name: 'Kept' }]);
  });

  test('create validation: each kind of rule, every problem listed, nothing written', async () => {
    const before = await count();
    let r = await api<Obj>(t, 'POST', '/campaigns', {});
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details, ['name is required', 'agent_id is required']);
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: foreignAgent });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'agent_id');
    assert.equal(r.body.code, 'invalid_value');
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', assistant_id: 'not-a-uuid' });
    assert.equal(r.body.param, 'assistant_id');
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, assistant_id: foreignAgent });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'assistant_id');
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, schedule_start_time: '9:00', schedule_end_time: '24:00:00', timezone: 'Mars/Olympus' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details.map((d: string) => d.split(' ')[0]), ['schedule_start_time', 'schedule_end_time', 'timezone']);
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, timezone: 'Mars/Olympus' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'timezone');
    assert.match(r.body.message, /IANA/);
    // schema and engine rules are reported together, one problem per field
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 7, agent_id: foreignAgent, leads: [{ phone_number: '+31612345678' }, { phone_number: '+31612345678' }] });
    assert.deepEqual(r.body.details, ['name must be a string', 'agent_id does not name an assistant of this organization',
      'leads[1].phone_number duplicates leads[0].phone_number (+31612345678)']);
    r = await api<Obj>(t, 'POST', '/campaigns', [{ name: 'x' }]);
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'body');
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: { id: agent }, leads: [null, 'x'] });
    assert.equal(r.status, 400);
    assert.ok(r.body.details.includes('agent_id must be a string'));
    assert.ok(r.body.details.some((d: string) => d.startsWith('leads[0] must be an object')));
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, schedule_start_time: '10:00', schedule_end_time: '10:00:00' });
    assert.equal(r.body.param, 'schedule_end_time');
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, schedule_days: [0, 8], max_concurrency: 101 });
    assert.equal(r.status, 400);
    assert.ok(r.body.details.some((d: string) => d.startsWith('schedule_days[0] must be >= 1')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('schedule_days[1] must be <= 7')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('max_concurrency')));
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, max_concurrency: 0, system_message_template: 5 });
    assert.ok(r.body.details.some((d: string) => d.startsWith('max_concurrency')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('system_message_template')));

    // leads: E.164, duplicates in the request, variables string -> string
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, leads: [{ phone_number: '+31612345678' }, { phone_number: '0612345678' }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'leads[1].phone_number');
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, leads: [{ phone_number: '+31612345678' }, { phone_number: '+31600000000' }, { phone_number: '+31612345678' }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'leads[2].phone_number');
    assert.match(r.body.message, /duplicates leads\[0\]\.phone_number/);
    r = await api<Obj>(t, 'POST', '/campaigns', { name: 'x', agent_id: agent, leads: [{ phone_number: '+31612345678', variables: { age: 42 } }, {}] });
    assert.equal(r.status, 400);
    assert.ok(r.body.details.some((d: string) => d.startsWith('leads[0].variables.age must be a string')));
    assert.ok(r.body.details.includes('leads[1].phone_number is required'));
    assert.equal(await count(), before);
  });

  test('PATCH fields: only given fields change; same validation; agent must be ours', async () => {
    const c = await create({ system_message_template: 'Hi {{name}}' });
    let r = await patch(c.id, { name: 'Renamed', schedule_end_time: '18:45', timezone: 'Asia/Tokyo', schedule_days: null, max_concurrency: 2 });
    assert.equal(r.status, 200);
    const u = r.body.campaign;
    assert.equal(u.name, 'Renamed');
    assert.equal(u.schedule_start_time, '09:00:00');
    assert.equal(u.schedule_end_time, '18:45:00');
    assert.equal(u.timezone, 'Asia/Tokyo');
    assert.equal(u.max_concurrency, 2);
    assert.equal(u.system_message_template, 'Hi {{name}}');
    assert.equal(u.status, 'draft');
    assert.equal(u.created_at, c.created_at);
    r = await patch(c.id, { system_message_template: null, max_concurrency: null });
    assert.equal(r.body.campaign.system_message_template, null);
    assert.equal(r.body.campaign.max_concurrency, null);
    for (const [body, param] of [[{ timezone: 'Nowhere/City' }, 'timezone'], [{ agent_id: foreignAgent }, 'agent_id'], [{ schedule_start_time: '18:45:00' }, 'schedule_end_time'], [{ name: '' }, 'name'], [{ status: 'running' }, 'status']] as const) {
      r = await patch(c.id, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.param, param);
    }
    r = await patch(c.id, { status: 'completed' });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'status');
    assert.equal((await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).body.campaign.timezone, 'Asia/Tokyo');
  });

  test('status transitions of §8.4', async () => {
    const c = await create({ leads: [{ phone_number: '+31611111111' }] });
    const to = async (status: string) => patch(c.id, { status });
    // draft -> paused is not a transition
    let r = await to('paused');
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'conflict');
    assert.equal(r.body.param, 'status');
    assert.equal((await to('scheduled')).body.campaign.status, 'scheduled');
    assert.equal((await to('paused')).body.campaign.status, 'paused');
    assert.equal((await to('paused')).status, 200); // same status: no-op
    r = await to('draft');
    assert.equal(r.status, 409);
    assert.equal((await to('scheduled')).body.campaign.status, 'scheduled');
    // scheduled -> draft before any attempt
    assert.equal((await to('draft')).body.campaign.status, 'draft');
    assert.equal((await to('scheduled')).status, 200);
    // after an attempt, scheduled -> draft is refused
    const lead = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads[0];
    t.engine.store.campaigns.updateLead(lead.id, { attempts: 1, last_attempt_at: new Date().toISOString(), next_attempt_at: new Date().toISOString() });
    r = await to('draft');
    assert.equal(r.status, 409);
    assert.match(r.body.message, /before any call attempt/);
    assert.equal((await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).body.campaign.status, 'scheduled');
    // cancel; cancelled is final
    assert.equal((await to('cancelled')).body.campaign.status, 'cancelled');
    for (const s of ['draft', 'scheduled', 'paused']) assert.equal((await to(s)).status, 409, s);
    // renaming a cancelled campaign is fine
    assert.equal((await patch(c.id, { name: 'Old promo' })).status, 200);
    // draft -> cancelled and paused -> cancelled
    const d = await create();
    assert.equal((await patch(d.id, { status: 'cancelled' })).body.campaign.status, 'cancelled');
    const p = await create();
    await patch(p.id, { status: 'scheduled' });
    await patch(p.id, { status: 'paused' });
    assert.equal((await patch(p.id, { status: 'cancelled' })).body.campaign.status, 'cancelled');
  });

  test('cancelling skips pending leads and leaves the others', async () => {
    const c = await create({ leads: [{ phone_number: '+31611111111' }, { phone_number: '+31622222222' }, { phone_number: '+31633333333' }, { phone_number: '+31644444444' }] });
    const leads = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads;
    const repo = t.engine.store.campaigns;
    repo.updateLead(leads[0].id, { status: 'completed', attempts: 1 });
    repo.updateLead(leads[1].id, { status: 'failed', attempts: 3 });
    repo.updateLead(leads[2].id, { status: 'calling', attempts: 1 });
    await patch(c.id, { status: 'scheduled' });
    const r = await patch(c.id, { status: 'cancelled' });
    assert.equal(r.status, 200);
    const x = r.body.campaign;
    assert.deepEqual(x.lead_counts, { pending: 0, calling: 1, completed: 1, failed: 1, skipped: 1 });
    assert.equal(x.total_leads, 4);
    assert.equal(x.completed_leads, 1);
    assert.equal(x.failed_leads, 1);
    const after = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads;
    assert.deepEqual(after.map((l: Obj) => l.status), ['completed', 'failed', 'calling', 'skipped']);
  });

  test('a completed campaign cannot be changed: 409 campaign_completed', async () => {
    const c = await create({ leads: [{ phone_number: '+31611111111' }] });
    const lead = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads[0];
    t.engine.store.campaigns.setStatus(c.id, 'completed');
    for (const r of [
      await patch(c.id, { name: 'x' }),
      await patch(c.id, { status: 'paused' }),
      await api<Obj>(t, 'DELETE', `/campaigns/${c.id}`),
      await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31622222222' }),
      await api<Obj>(t, 'DELETE', `/campaigns/${c.id}/leads/${lead.id}`),
    ]) {
      assert.equal(r.status, 409);
      assert.equal(r.body.code, 'campaign_completed');
      assert.equal(r.body.type, 'conflict_error');
    }
    const got = (await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).body.campaign;
    assert.equal(got.name, 'Spring promo');
    assert.equal(got.total_leads, 1);
    assert.equal((await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).status, 200);
  });

  test('leads: add (exact shape, legacy name), list oldest first, duplicates 409, validation, remove', async () => {
    const c = await create();
    let r = await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31612345678', variables: { name: 'John', company: 'Acme Corp' } });
    assert.equal(r.status, 201);
    const l = r.body.lead;
    assert.deepEqual(Object.keys(l), LEAD_KEYS);
    assert.match(l.id, /^[0-9a-f-]{36}$/);
    assert.equal(l.campaign_id, c.id);
    assert.equal(l.phone_number, '+31612345678');
    assert.deepEqual(l.variables, { name: 'John', company: 'Acme Corp' });
    assert.equal(l.status, 'pending');
    assert.equal(l.call_id, null);
    assert.equal(l.attempts, 0);
    assert.equal(l.last_attempt_at, null);
    assert.match(l.created_at, TS);
    assert.match(l.updated_at, TS);
    const l2 = (await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+442071234567', name: 'Jane' })).body.lead;
    assert.deepEqual(l2.variables, { name: 'Jane' });
    const l3 = (await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+14155550100' })).body.lead;
    assert.deepEqual(l3.variables, {});

    r = await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['leads']);
    assert.deepEqual(r.body.leads, [l, l2, l3]);

    r = await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31612345678' });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'conflict');
    assert.equal(r.body.param, 'phone_number');
    // the same number in another campaign is fine
    const other2 = await create();
    assert.equal((await api<Obj>(t, 'POST', `/campaigns/${other2.id}/leads`, { phone_number: '+31612345678' })).status, 201);

    for (const [body, param] of [[{ phone_number: '0612345678' }, 'phone_number'], [{}, 'phone_number'], [{ phone_number: '+31699999999', variables: { n: 1 } }, 'variables.n'],
      [{ phone_number: '+31699999999', variables: ['a'] }, 'variables'], [{ phone_number: '+31699999999', name: 7 }, 'name']] as const) {
      r = await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.param, param);
    }

    const got = (await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).body.campaign;
    assert.equal(got.total_leads, 3);

    r = await api<Obj>(t, 'DELETE', `/campaigns/${c.id}/leads/${l2.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true });
    assert.equal((await api<Obj>(t, 'DELETE', `/campaigns/${c.id}/leads/${l2.id}`)).status, 404);
    // a lead of another campaign is not found through this one
    assert.equal((await api<Obj>(t, 'DELETE', `/campaigns/${other2.id}/leads/${l.id}`)).status, 404);
    assert.deepEqual((await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads.map((x: Obj) => x.id), [l.id, l3.id]);

    // leads may be added to scheduled and paused campaigns, not to cancelled ones
    await patch(c.id, { status: 'scheduled' });
    assert.equal((await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31600000001' })).status, 201);
    await patch(c.id, { status: 'paused' });
    assert.equal((await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31600000002' })).status, 201);
    await patch(c.id, { status: 'cancelled' });
    r = await api<Obj>(t, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31600000003' });
    assert.equal(r.status, 409);
  });

  test('a lead being called cannot be removed; a campaign with live calls cannot be deleted', async () => {
    const c = await create({ leads: [{ phone_number: '+31611111111' }, { phone_number: '+31622222222' }] });
    const [a] = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads;
    t.engine.store.campaigns.updateLead(a.id, { status: 'calling', attempts: 1, call_id: 'call-1' });
    let r = await api<Obj>(t, 'DELETE', `/campaigns/${c.id}/leads/${a.id}`);
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'lead_in_progress');
    r = await api<Obj>(t, 'DELETE', `/campaigns/${c.id}`);
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'conflict');
    assert.match(r.body.message, /pause/);
    const lead = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads[0];
    assert.equal(lead.call_id, 'call-1');
    assert.equal(lead.attempts, 1);
    // the call ends: now both go
    t.engine.store.campaigns.updateLead(a.id, { status: 'completed' });
    assert.equal((await api<Obj>(t, 'DELETE', `/campaigns/${c.id}/leads/${a.id}`)).status, 200);
    r = await api<Obj>(t, 'DELETE', `/campaigns/${c.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true });
    assert.equal((await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).status, 404);
    assert.equal((await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).status, 404);
    assert.equal(t.engine.store.campaigns.leads(c.id).length, 0);
  });

  test('another organization: every route is a 404', async () => {
    const c = await create({ leads: [{ phone_number: '+31611111111' }] });
    const lead = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads[0];
    const rs = [
      await api<Obj>(other, 'GET', `/campaigns/${c.id}`),
      await api<Obj>(other, 'PATCH', `/campaigns/${c.id}`, { name: 'hijack' }),
      await api<Obj>(other, 'DELETE', `/campaigns/${c.id}`),
      await api<Obj>(other, 'GET', `/campaigns/${c.id}/leads`),
      await api<Obj>(other, 'POST', `/campaigns/${c.id}/leads`, { phone_number: '+31699999999' }),
      await api<Obj>(other, 'DELETE', `/campaigns/${c.id}/leads/${lead.id}`),
    ];
    for (const r of rs) {
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'not_found');
    }
    assert.deepEqual((await api<Obj>(other, 'GET', '/campaigns')).body, { campaigns: [] });
    const mine = (await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).body.campaign;
    assert.equal(mine.name, 'Spring promo');
    assert.equal(mine.total_leads, 1);
    assert.equal((await api<Obj>(t, 'GET', '/campaigns/not-a-uuid')).status, 404);
    assert.equal((await api<Obj>(t, 'GET', '/campaigns', undefined, { key: null })).status, 401);
  });

  test('persists across a restart; documented in the OpenAPI document', async () => {
    const c = await create({ schedule_days: [6, 7], leads: [{ phone_number: '+31611111111', variables: { name: 'Piet' } }] });
    const leads = (await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads;
    t = await t.restart();
    assert.deepEqual((await api<Obj>(t, 'GET', `/campaigns/${c.id}`)).body.campaign, c);
    assert.deepEqual((await api<Obj>(t, 'GET', `/campaigns/${c.id}/leads`)).body.leads, leads);
    const doc = (await api<Obj>(t, 'GET', '/openapi.json')).body;
    assert.ok(doc.paths['/api/v1/campaigns'].post.summary);
    assert.ok(doc.paths['/api/v1/campaigns/{id}'].patch.summary);
    assert.ok(doc.paths['/api/v1/campaigns/{id}/leads'].post.summary);
    assert.ok(doc.paths['/api/v1/campaigns/{id}/leads/{leadId}'].delete.summary);
    const props = JSON.stringify(doc);
    assert.match(props, /ISO weekdays/);
  });
});
