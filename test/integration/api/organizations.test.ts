import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;
const ORG_KEYS = ['active_agents', 'active_calls', 'active_numbers', 'has_local_models_access', 'id', 'minutes_balance', 'monthly_usage_minutes', 'name', 'parent_org_id'];
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('organizations API (spec §3.12, §4.20)', () => {
  let t: TestEngine;
  let rootId: string;
  before(async () => {
    t = await startTestEngine();
    rootId = (await api<Obj>(t, 'GET', '/organizations')).body.id;
  });
  after(async () => { await t.close(); });

  const as = (key: string) => ({ url: t.url, key });

  test('GET /organizations: the bare Organization, no children unless asked', async () => {
    const r = await api<Obj>(t, 'GET', '/organizations');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ORG_KEYS);
    assert.match(r.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.body.name, 'Default organization');
    assert.equal(r.body.parent_org_id, null);
    assert.equal(r.body.minutes_balance, 1e9);
    assert.equal(r.body.has_local_models_access, true);
    const no = await api<Obj>(t, 'GET', '/organizations?include_children=false');
    assert.equal('children' in no.body, false);
  });

  test('POST creates a child of the caller by default; api_key shown once and works; stored hashed', async () => {
    const r = await api<Obj>(t, 'POST', '/organizations', { name: '  Agency client  ', email: 'ignored@example.com' });
    assert.equal(r.status, 201);
    assert.deepEqual(Object.keys(r.body).sort(), ['api_key', 'created_at', 'id', 'name', 'parent_org_id']);
    assert.equal(r.body.name, 'Agency client');
    assert.equal(r.body.parent_org_id, rootId);
    assert.match(r.body.api_key, /^vk_live_[0-9A-Za-z]{32}$/);
    assert.match(r.body.created_at, TS);
    const me = await api<Obj>(as(r.body.api_key), 'GET', '/organizations');
    assert.equal(me.status, 200);
    assert.equal(me.body.id, r.body.id);
    assert.equal(me.body.parent_org_id, rootId);
    const raw = t.engine.store.db.prepare('SELECT key_hash, key_hint FROM api_keys WHERE org_id = ?').get(r.body.id) as Obj;
    assert.notEqual(raw.key_hash, r.body.api_key);
    assert.ok(!String(raw.key_hash).includes(r.body.api_key));

    // The older `email` field is accepted and ignored, whatever it holds.
    const legacy = await api<Obj>(t, 'POST', '/organizations', { name: 'Legacy', email: null });
    assert.equal(legacy.status, 201);
    assert.equal('email' in legacy.body, false);

    const kids = await api<Obj>(t, 'GET', '/organizations?include_children=true');
    assert.deepEqual(kids.body.children.find((c: Obj) => c.id === r.body.id), { id: r.body.id, name: 'Agency client', created_at: r.body.created_at });
    for (const c of kids.body.children) assert.deepEqual(Object.keys(c).sort(), ['created_at', 'id', 'name']);
  });

  test('counts come from the store: agents, numbers, live calls, this month\'s usage minutes', async () => {
    const org = (await api<Obj>(t, 'POST', '/organizations', { name: 'Counted' })).body;
    const c = as(org.api_key);
    const zero = (await api<Obj>(c, 'GET', '/organizations')).body;
    assert.deepEqual([zero.active_agents, zero.active_numbers, zero.active_calls, zero.monthly_usage_minutes], [0, 0, 0, 0]);

    const a = (await api<Obj>(c, 'POST', '/assistants', { name: 'A' })).body.assistant;
    await api<Obj>(c, 'POST', '/assistants', { name: 'Inactive', is_active: false });
    const s = t.engine.store;
    s.numbers.create(org.id, { phone_number: '+31850000001', name: null, agent_id: a.id, transfer_trunk_id: null, workflow_id: null, is_active: true });
    s.numbers.create(org.id, { phone_number: '+31850000002', name: null, agent_id: null, transfer_trunk_id: null, workflow_id: null, is_active: false });
    s.calls.insert(org.id, { id: 'call-live-1', direction: 'inbound', status: 'in-progress' });
    s.calls.insert(org.id, { id: 'call-done-1', direction: 'inbound', status: 'ended' });
    const usage = { call_id: null, byok_stt: false, byok_llm: false, byok_tts: false, phone_number: null, agent_name: null, business_name: null, call_type: 'phone' as const };
    s.usage.insert(org.id, { ...usage, duration_sec: 60 });
    s.usage.insert(org.id, { ...usage, duration_sec: 30 });
    s.usage.insert(org.id, { ...usage, duration_sec: 600, created_at: '2001-01-01T00:00:00.000Z' });

    const r = await api<Obj>(c, 'GET', '/organizations');
    assert.equal(r.body.active_agents, 1);
    assert.equal(r.body.active_numbers, 1);
    assert.equal(r.body.active_calls, 1);
    assert.equal(r.body.monthly_usage_minutes, 1.5);
    // The parent's figures do not include the child's.
    const parent = (await api<Obj>(t, 'GET', '/organizations')).body;
    assert.equal(parent.active_calls, 0);
  });

  test('GET /account (deprecated): the same information plus email and company_name', async () => {
    const org = await api<Obj>(t, 'GET', '/organizations');
    const acc = await api<Obj>(t, 'GET', '/account');
    assert.equal(acc.status, 200);
    assert.deepEqual(Object.keys(acc.body).sort(), [...ORG_KEYS, 'company_name', 'email'].sort());
    assert.equal(acc.body.email, null);
    assert.equal(acc.body.company_name, org.body.name);
    const { email: _e, company_name: _c, ...rest } = acc.body;
    assert.deepEqual(rest, org.body);
  });

  test('top-level organizations need the admin key; foreign parents are 403', async () => {
    const child = (await api<Obj>(t, 'POST', '/organizations', { name: 'Child' })).body;
    const top = await api<Obj>(as(child.api_key), 'POST', '/organizations', { name: 'Top', parent_org_id: null });
    assert.equal(top.status, 403);
    assert.deepEqual(top.body, { error: 'Forbidden', message: "You don't have access to this resource", code: 'forbidden', type: 'permission_error' });

    const foreign = await api<Obj>(as(child.api_key), 'POST', '/organizations', { name: 'X', parent_org_id: rootId });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.code, 'forbidden');
    const ghost = await api<Obj>(as(child.api_key), 'POST', '/organizations', { name: 'X', parent_org_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(ghost.status, 403);

    const own = await api<Obj>(as(child.api_key), 'POST', '/organizations', { name: 'Grandchild', parent_org_id: child.id });
    assert.equal(own.status, 201);
    assert.equal(own.body.parent_org_id, child.id);

    const admin = await api<Obj>(t, 'POST', '/organizations', { name: 'Top level', parent_org_id: null });
    assert.equal(admin.status, 201);
    assert.equal(admin.body.parent_org_id, null);
    const adminUnder = await api<Obj>(t, 'POST', '/organizations', { name: 'Under child', parent_org_id: child.id });
    assert.equal(adminUnder.status, 201);
    assert.equal(adminUnder.body.parent_org_id, child.id);
    const adminGhost = await api<Obj>(t, 'POST', '/organizations', { name: 'X', parent_org_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(adminGhost.status, 400);
    assert.equal(adminGhost.body.param, 'parent_org_id');
  });

  test('a parent key does not see a child\'s resources (404), and the other way round', async () => {
    const child = (await api<Obj>(t, 'POST', '/organizations', { name: 'Isolated' })).body;
    const mine = (await api<Obj>(as(child.api_key), 'POST', '/assistants', { name: 'Child bot' })).body.assistant;
    const fromParent = await api<Obj>(t, 'GET', `/assistants/${mine.id}`);
    assert.equal(fromParent.status, 404);
    assert.equal(fromParent.body.code, 'not_found');
    assert.ok(!(await api<Obj>(t, 'GET', '/assistants')).body.assistants.some((a: Obj) => a.id === mine.id));
    const parentBot = (await api<Obj>(t, 'POST', '/assistants', { name: 'Parent bot' })).body.assistant;
    assert.equal((await api<Obj>(as(child.api_key), 'GET', `/assistants/${parentBot.id}`)).status, 404);
    assert.equal((await api<Obj>(as(child.api_key), 'DELETE', `/assistants/${parentBot.id}`)).status, 404);
    assert.equal((await api<Obj>(t, 'GET', `/assistants/${parentBot.id}`)).status, 200);
  });

  test('validation: name required and non-blank, parent_org_id a UUID or null, include_children a boolean; nothing written', async () => {
    const count = () => t.engine.store.organizations.count();
    const n = count();
    const missing = await api<Obj>(t, 'POST', '/organizations', { email: 'a@b.c' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'missing_field');
    assert.equal(missing.body.param, 'name');
    const empty = await api<Obj>(t, 'POST', '/organizations', { name: '' });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.param, 'name');
    const blank = await api<Obj>(t, 'POST', '/organizations', { name: '   ' });
    assert.equal(blank.status, 400);
    assert.equal(blank.body.message, 'name must not be blank');
    const badParent = await api<Obj>(t, 'POST', '/organizations', { name: 'X', parent_org_id: 'not-a-uuid' });
    assert.equal(badParent.status, 400);
    assert.equal(badParent.body.param, 'parent_org_id');
    const both = await api<Obj>(t, 'POST', '/organizations', { name: 5, parent_org_id: 7 });
    assert.equal(both.status, 400);
    assert.equal(both.body.details.length, 2);
    const q = await api<Obj>(t, 'GET', '/organizations?include_children=maybe');
    assert.equal(q.status, 400);
    assert.equal(q.body.param, 'include_children');
    const notJson = await api<Obj>(t, 'POST', '/organizations', undefined, { raw: '{"name":' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.code, 'invalid_json');
    assert.equal(count(), n);
  });
});
