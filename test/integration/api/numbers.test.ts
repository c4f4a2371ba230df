import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

const NUMBER_KEYS = ['id', 'phone_number', 'name', 'agent_id', 'assistant_id', 'agent_name', 'business_name', 'transfer_trunk_id',
  'transfer_trunk_name', 'source', 'is_active', 'workflow_id', 'workflow_name', 'created_at', 'updated_at'].sort();

let seq = 0;
/** A unique E.164 number per call (tests share one database). */
const phone = (): string => `+3185${String(1_000_000 + ++seq).padStart(7, '0')}`;

describe('numbers API', () => {
  let t: TestEngine;
  let other: { url: string; key: string };
  let assistant: Obj;
  let trunk: Obj;

  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '10000' } });
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
    assistant = (await api<Obj>(t, 'POST', '/assistants', { name: 'Front desk', business_name: 'Pizzeria Roma' })).body.assistant;
    trunk = (await api<Obj>(t, 'POST', '/sip-trunks', { name: 'Carrier A', address: 'sip.carrier.example' })).body.trunk;
  });
  after(async () => { await t.close(); });

  const count = async (): Promise<number> => (await api<Obj>(t, 'GET', '/numbers')).body.numbers.length;

  test('register with only phone_number: exact shape and defaults (spec §4.8, §4.9)', async () => {
    const p = phone();
    const r = await api<Obj>(t, 'POST', '/numbers', { phone_number: p });
    assert.equal(r.status, 201);
    const n = r.body.number;
    assert.deepEqual(Object.keys(n).sort(), NUMBER_KEYS);
    assert.deepEqual({ ...n, id: 'x', created_at: 'x', updated_at: 'x' }, {
      id: 'x', phone_number: p, name: null, agent_id: null, assistant_id: null, agent_name: null, business_name: null,
      transfer_trunk_id: null, transfer_trunk_name: null, source: 'sip', is_active: true, workflow_id: null, workflow_name: null,
      created_at: 'x', updated_at: 'x',
    });
    assert.match(n.id, /^[0-9a-f-]{36}$/);
    assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('assistant_id alias, trunk and name: both spellings emitted, names denormalised; get and list', async () => {
    const p = phone();
    const r = await api<Obj>(t, 'POST', '/numbers', { phone_number: p, assistant_id: assistant.id, transfer_trunk_id: trunk.id, name: 'Main line', is_active: false });
    assert.equal(r.status, 201);
    const n = r.body.number;
    assert.equal(n.agent_id, assistant.id);
    assert.equal(n.assistant_id, assistant.id);
    assert.equal(n.agent_name, 'Front desk');
    assert.equal(n.business_name, 'Pizzeria Roma');
    assert.equal(n.transfer_trunk_id, trunk.id);
    assert.equal(n.transfer_trunk_name, 'Carrier A');
    assert.equal(n.name, 'Main line');
    assert.equal(n.is_active, false);
    const got = await api<Obj>(t, 'GET', `/numbers/${n.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { number: n });
    const list = await api<Obj>(t, 'GET', '/numbers');
    assert.equal(list.status, 200);
    assert.deepEqual(Object.keys(list.body), ['numbers']);
    assert.deepEqual(list.body.numbers.find((x: Obj) => x.id === n.id), n);
    // agent_id spelling works the same
    const r2 = await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: assistant.id });
    assert.equal(r2.body.number.assistant_id, assistant.id);
  });

  test('already registered in this or another organization: 409 conflict, nothing written', async () => {
    const p = phone();
    assert.equal((await api<Obj>(t, 'POST', '/numbers', { phone_number: p })).status, 201);
    const before = await count();
    const again = await api<Obj>(t, 'POST', '/numbers', { phone_number: p });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'conflict');
    assert.equal(again.body.type, 'conflict_error');
    assert.equal(again.body.param, 'phone_number');
    const foreign = await api<Obj>(other, 'POST', '/numbers', { phone_number: p });
    assert.equal(foreign.status, 409);
    assert.equal(foreign.body.code, 'conflict');
    assert.equal(await count(), before);
    assert.equal((await api<Obj>(other, 'GET', '/numbers')).body.numbers.length, 0);
  });

  test('E.164 validation: missing, malformed, wrong type', async () => {
    const before = await count();
    const missing = await api<Obj>(t, 'POST', '/numbers', { name: 'x' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'missing_field');
    assert.equal(missing.body.param, 'phone_number');
    for (const bad of ['0850835037', '+0850835037', '+31 85 083 5037', '+123', '+1234567890123456', 31850835037]) {
      const r = await api<Obj>(t, 'POST', '/numbers', { phone_number: bad });
      assert.equal(r.status, 400, String(bad));
      assert.equal(r.body.param, 'phone_number');
      assert.equal(r.body.code, 'invalid_value');
    }
    assert.equal(await count(), before);
  });

  test('unknown or foreign agent / trunk ids: 400 naming the field used, every problem listed', async () => {
    const foreignAssistant = (await api<Obj>(other, 'POST', '/assistants', { name: 'Theirs' })).body.assistant;
    const foreignTrunk = (await api<Obj>(other, 'POST', '/sip-trunks', { name: 'Theirs', address: '192.0.2.10' })).body.trunk;
    const before = await count();
    const r = await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: foreignAssistant.id, transfer_trunk_id: foreignTrunk.id });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'agent_id');
    assert.equal(r.body.code, 'invalid_value');
    assert.equal(r.body.details.length, 2);
    assert.ok(r.body.details.some((d: string) => d.startsWith('transfer_trunk_id ')));
    const alias = await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), assistant_id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f' });
    assert.equal(alias.status, 400);
    assert.equal(alias.body.param, 'assistant_id');
    const malformed = await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: 'not-a-uuid' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.param, 'agent_id');
    const both = await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: assistant.id, assistant_id: foreignAssistant.id });
    assert.equal(both.status, 400);
    assert.equal(both.body.param, 'assistant_id');
    const mixed = await api<Obj>(t, 'POST', '/numbers', { phone_number: '12', agent_id: foreignAssistant.id, transfer_trunk_id: 5 });
    assert.equal(mixed.status, 400);
    assert.deepEqual(mixed.body.details.map((d: string) => d.split(' ')[0]), ['phone_number', 'transfer_trunk_id', 'agent_id'], 'schema and reference problems are listed together');
    const notObject = await api<Obj>(t, 'POST', '/numbers', ['+31850835037']);
    assert.equal(notObject.status, 400);
    assert.equal(notObject.body.param, 'body');
    const badType = await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), is_active: 'yes', name: 7 });
    assert.equal(badType.status, 400);
    assert.deepEqual(badType.body.details.map((d: string) => d.split(' ')[0]).sort(), ['is_active', 'name']);
    assert.equal(await count(), before);
  });

  test('PATCH: unassign with agent_id null, alias, trunk set/clear, is_active, name', async () => {
    const n = (await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: assistant.id })).body.number;
    const r1 = await api<Obj>(t, 'PATCH', `/numbers/${n.id}`, { transfer_trunk_id: trunk.id, name: 'Sales' });
    assert.equal(r1.status, 200);
    assert.equal(r1.body.number.transfer_trunk_name, 'Carrier A');
    assert.equal(r1.body.number.agent_id, assistant.id, 'fields not sent are kept');
    assert.equal(r1.body.number.name, 'Sales');
    const r2 = await api<Obj>(t, 'PATCH', `/numbers/${n.id}`, { agent_id: null, transfer_trunk_id: null, is_active: false, name: null });
    assert.equal(r2.status, 200);
    assert.deepEqual(
      [r2.body.number.agent_id, r2.body.number.assistant_id, r2.body.number.agent_name, r2.body.number.business_name, r2.body.number.transfer_trunk_id, r2.body.number.transfer_trunk_name, r2.body.number.is_active, r2.body.number.name],
      [null, null, null, null, null, null, false, null],
    );
    const r3 = await api<Obj>(t, 'PATCH', `/numbers/${n.id}`, { assistant_id: assistant.id });
    assert.equal(r3.body.number.agent_id, assistant.id);
    assert.equal(r3.body.number.phone_number, n.phone_number);
    assert.deepEqual((await api<Obj>(t, 'GET', `/numbers/${n.id}`)).body.number, r3.body.number);
  });

  test('PATCH: phone_number is immutable (400 even with the same value); bad refs 400; nothing written', async () => {
    const n = (await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), name: 'Keep' })).body.number;
    for (const body of [{ phone_number: phone() }, { phone_number: n.phone_number, name: 'Changed' }]) {
      const r = await api<Obj>(t, 'PATCH', `/numbers/${n.id}`, body);
      assert.equal(r.status, 400);
      assert.equal(r.body.param, 'phone_number');
      assert.equal(r.body.code, 'invalid_value');
    }
    const bad = await api<Obj>(t, 'PATCH', `/numbers/${n.id}`, { transfer_trunk_id: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f', name: 'Changed' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'transfer_trunk_id');
    const wrongType = await api<Obj>(t, 'PATCH', `/numbers/${n.id}`, { is_active: null });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.param, 'is_active');
    assert.deepEqual((await api<Obj>(t, 'GET', `/numbers/${n.id}`)).body.number, n);
  });

  test('unknown and foreign numbers are 404 for get, patch and delete', async () => {
    const mine = (await api<Obj>(t, 'POST', '/numbers', { phone_number: phone() })).body.number;
    for (const [method, body] of [['GET', undefined], ['PATCH', { name: 'x' }], ['DELETE', undefined]] as const) {
      for (const [who, id] of [[t, '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f'], [t, 'nope'], [other, mine.id]] as const) {
        const r = await api<Obj>(who, method, `/numbers/${id}`, body);
        assert.equal(r.status, 404, `${method} ${id}`);
        assert.equal(r.body.code, 'not_found');
      }
    }
    assert.equal((await api<Obj>(t, 'GET', `/numbers/${mine.id}`)).body.number.name, null);
  });

  test('denormalised names follow the assistant; deleting the assistant unassigns', async () => {
    const a = (await api<Obj>(t, 'POST', '/assistants', { name: 'Temp', business_name: 'Old Biz' })).body.assistant;
    const n = (await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: a.id })).body.number;
    await api<Obj>(t, 'PATCH', `/assistants/${a.id}`, { name: 'Renamed', business_name: 'New Biz' });
    const got = (await api<Obj>(t, 'GET', `/numbers/${n.id}`)).body.number;
    assert.equal(got.agent_name, 'Renamed');
    assert.equal(got.business_name, 'New Biz');
    await api<Obj>(t, 'DELETE', `/assistants/${a.id}`);
    const after = (await api<Obj>(t, 'GET', `/numbers/${n.id}`)).body.number;
    assert.equal(after.agent_id, null);
    assert.equal(after.agent_name, null);
  });

  test('DELETE: 200 {success:true}, then 404', async () => {
    const n = (await api<Obj>(t, 'POST', '/numbers', { phone_number: phone() })).body.number;
    const r = await api<Obj>(t, 'DELETE', `/numbers/${n.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true });
    assert.equal((await api<Obj>(t, 'GET', `/numbers/${n.id}`)).status, 404);
    // the number may be registered again once deleted
    assert.equal((await api<Obj>(t, 'POST', '/numbers', { phone_number: n.phone_number })).status, 201);
  });

  test('DELETE: 409 while a scheduled campaign uses the number as caller ID (spec §8.4 rule)', async () => {
    // A fresh organization so that the caller-ID choice sees only these numbers.
    const org = t.engine.store.organizations.create({ name: 'Dialler org', parent_org_id: null });
    const c = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
    const a = (await api<Obj>(c, 'POST', '/assistants', { name: 'Dialler' })).body.assistant;
    const b = (await api<Obj>(c, 'POST', '/assistants', { name: 'Other' })).body.assistant;
    const tr = (await api<Obj>(c, 'POST', '/sip-trunks', { name: 'Out', address: 'sip.out.example' })).body.trunk;
    const noTrunk = (await api<Obj>(c, 'POST', '/numbers', { phone_number: phone(), agent_id: a.id })).body.number;
    const callerId = (await api<Obj>(c, 'POST', '/numbers', { phone_number: phone(), agent_id: a.id, transfer_trunk_id: tr.id })).body.number;
    const second = (await api<Obj>(c, 'POST', '/numbers', { phone_number: phone(), agent_id: a.id, transfer_trunk_id: tr.id })).body.number;
    const campaign = t.engine.store.campaigns.create(org.id, {
      name: 'Spring', agent_id: a.id, status: 'scheduled', system_message_template: null, schedule_start_time: '09:00',
      schedule_end_time: '17:00', timezone: 'Europe/Amsterdam', schedule_days: null, max_concurrency: null,
    });
    const r = await api<Obj>(c, 'DELETE', `/numbers/${callerId.id}`);
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'conflict');
    assert.match(r.body.message, /Spring/);
    assert.equal((await api<Obj>(c, 'GET', `/numbers/${callerId.id}`)).status, 200);
    // Numbers that are not the campaign's caller ID can go.
    assert.equal((await api<Obj>(c, 'DELETE', `/numbers/${noTrunk.id}`)).status, 200);
    assert.equal((await api<Obj>(c, 'DELETE', `/numbers/${second.id}`)).status, 200);
    // Fallback rule: a campaign whose assistant has no number dials from the org's first number with a trunk.
    const other2 = t.engine.store.campaigns.create(org.id, {
      name: 'Fallback', agent_id: b.id, status: 'scheduled', system_message_template: null, schedule_start_time: '09:00',
      schedule_end_time: '17:00', timezone: 'UTC', schedule_days: null, max_concurrency: null,
    });
    t.engine.store.campaigns.setStatus(campaign.id, 'paused');
    const r2 = await api<Obj>(c, 'DELETE', `/numbers/${callerId.id}`);
    assert.equal(r2.status, 409);
    assert.match(r2.body.message, /Fallback/);
    // Paused / draft campaigns do not block.
    t.engine.store.campaigns.setStatus(other2.id, 'paused');
    assert.deepEqual((await api<Obj>(c, 'DELETE', `/numbers/${callerId.id}`)).body, { success: true });
  });

  test('numbers persist across a restart of the app on the same file', async () => {
    const n = (await api<Obj>(t, 'POST', '/numbers', { phone_number: phone(), agent_id: assistant.id, transfer_trunk_id: trunk.id })).body.number;
    t = await t.restart();
    const got = await api<Obj>(t, 'GET', `/numbers/${n.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.number, n);
  });
});
