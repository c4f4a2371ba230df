import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

const UNAUTHORIZED = { error: 'Unauthorized', message: 'Invalid or missing API key', code: 'unauthorized', type: 'authentication_error' };

describe('authentication and organization isolation (spec §2.2)', () => {
  let t: TestEngine;
  let b: { url: string; key: string; id: string };
  before(async () => {
    t = await startTestEngine();
    const o = (await api<Obj>(t, 'POST', '/organizations', { name: 'Org B' })).body;
    b = { url: t.url, key: o.api_key, id: o.id };
  });
  after(async () => { await t.close(); });

  const raw = async (path: string, headers: Record<string, string>) => {
    const r = await fetch(t.url + path, { headers });
    return { status: r.status, body: (await r.json()) as Obj, headers: r.headers };
  };

  test('missing key: 401 with the exact body', async () => {
    for (const path of ['/assistants', '/organizations', '/byok', '/voices', '/domains']) {
      const r = await api<Obj>(t, 'GET', path, undefined, { key: null });
      assert.equal(r.status, 401, path);
      assert.deepEqual(r.body, UNAUTHORIZED, path);
    }
  });

  test('malformed Authorization headers: 401', async () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', t.key, `Token ${t.key}`, `Bearer ${t.key} extra`]) {
      const r = await raw('/assistants', { authorization });
      assert.equal(r.status, 401, authorization);
      assert.deepEqual(r.body, UNAUTHORIZED, authorization);
    }
    // The scheme is case-insensitive (RFC 7235).
    assert.equal((await raw('/assistants', { authorization: `bearer ${t.key}` })).status, 200);
  });

  test('wrong key: 401', async () => {
    for (const key of ['vk_live_' + 'x'.repeat(32), t.key.slice(0, -1), t.key + 'k', 'nonsense']) {
      const r = await api<Obj>(t, 'GET', '/assistants', undefined, { key });
      assert.equal(r.status, 401, key);
      assert.deepEqual(r.body, UNAUTHORIZED);
    }
  });

  test('revoked and expired keys: 401 with their codes; other keys of the org keep working', async () => {
    const o = (await api<Obj>(t, 'POST', '/organizations', { name: 'Revoked' })).body;
    const key = o.api_key as string;
    const c = { url: t.url, key };
    assert.equal((await api<Obj>(c, 'GET', '/organizations')).status, 200);
    const row = t.engine.store.apiKeys.findByKey(key);
    assert.ok(row);
    const second = t.engine.store.apiKeys.create(o.id);
    t.engine.store.apiKeys.revoke(row.id);
    const r = await api<Obj>(c, 'GET', '/organizations');
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { ...UNAUTHORIZED, code: 'api_key_revoked' });
    assert.equal((await api<Obj>({ url: t.url, key: second.key }, 'GET', '/organizations')).status, 200);

    t.engine.store.db.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?').run('2001-01-01T00:00:00.000Z', second.row.id);
    const e = await api<Obj>({ url: t.url, key: second.key }, 'GET', '/organizations');
    assert.equal(e.status, 401);
    assert.deepEqual(e.body, { ...UNAUTHORIZED, code: 'api_key_expired' });
  });

  test('health, the OpenAPI document and the docs need no key', async () => {
    assert.equal((await api<Obj>(t, 'GET', '/health', undefined, { key: null })).status, 200);
    assert.equal((await api<Obj>(t, 'GET', '/openapi.json', undefined, { key: null })).status, 200);
    assert.equal((await fetch(t.url + '/docs')).status, 200);
  });

  test('a 401 writes nothing', async () => {
    const before = (await api<Obj>(t, 'GET', '/assistants')).body.assistants.length;
    const r = await api<Obj>(t, 'POST', '/assistants', { name: 'Sneaky' }, { key: 'vk_live_wrong' });
    assert.equal(r.status, 401);
    assert.equal((await api<Obj>(t, 'GET', '/assistants')).body.assistants.length, before);
  });

  test('another organization\'s resources are 404 (never 403) on every resource', async () => {
    const a = t;
    const assistant = (await api<Obj>(a, 'POST', '/assistants', { name: 'A bot' })).body.assistant;
    const created: [string, string][] = [['assistants', assistant.id], ['agents', assistant.id]];

    const trunk = await api<Obj>(a, 'POST', '/sip-trunks', { name: 'A trunk', address: 'sip.example.com', auth_username: 'u', auth_password: 'p' });
    assert.equal(trunk.status, 201, JSON.stringify(trunk.body));
    created.push(['sip-trunks', trunk.body.trunk.id]);
    const number = await api<Obj>(a, 'POST', '/numbers', { phone_number: '+31850835037', agent_id: assistant.id });
    assert.equal(number.status, 201, JSON.stringify(number.body));
    created.push(['numbers', number.body.number.id]);
    const tool = await api<Obj>(a, 'POST', '/tool-templates', { name: 'lookup', tool_type: 'function', tool_config: { parameters: { type: 'object', properties: {} }, url: 'https://example.com/hook' } });
    assert.equal(tool.status, 201, JSON.stringify(tool.body));
    created.push(['tool-templates', tool.body.tool_template.id]);
    const analysis = await api<Obj>(a, 'POST', '/analysis-templates', { name: 'Score', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } });
    assert.equal(analysis.status, 201, JSON.stringify(analysis.body));
    created.push(['analysis-templates', analysis.body.analysis_template.id]);
    const campaign = await api<Obj>(a, 'POST', '/campaigns', { name: 'Spring', agent_id: assistant.id });
    assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
    created.push(['campaigns', campaign.body.campaign.id]);
    const call = t.engine.store.calls.insert(t.engine.store.apiKeys.findByKey(t.key)!.org_id, { id: 'call-of-a', direction: 'inbound', status: 'ended' });
    created.push(['calls', call.id]);

    for (const [res, id] of created) {
      const own = await api<Obj>(a, 'GET', `/${res}/${id}`);
      assert.equal(own.status, 200, `${res} own`);
      const r = await api<Obj>(b, 'GET', `/${res}/${id}`);
      assert.equal(r.status, 404, `GET ${res} foreign`);
      assert.equal(r.body.code, 'not_found');
      assert.equal(r.body.type, 'not_found_error');
    }
    for (const [res, id] of created.filter(([r]) => r !== 'calls')) {
      const d = await api<Obj>(b, 'DELETE', `/${res}/${id}`);
      assert.equal(d.status, 404, `DELETE ${res} foreign`);
      assert.equal((await api<Obj>(a, 'GET', `/${res}/${id}`)).status, 200, `${res} survived`);
    }
    const leads = await api<Obj>(b, 'GET', `/campaigns/${campaign.body.campaign.id}/leads`);
    assert.equal(leads.status, 404);
    const addLead = await api<Obj>(b, 'POST', `/campaigns/${campaign.body.campaign.id}/leads`, { phone_number: '+31612345678' });
    assert.equal(addLead.status, 404);
    const patch = await api<Obj>(b, 'PATCH', `/assistants/${assistant.id}`, { name: 'Hijacked' });
    assert.equal(patch.status, 404);
    assert.equal((await api<Obj>(a, 'GET', `/assistants/${assistant.id}`)).body.assistant.name, 'A bot');
    // Lists never show another organization's rows.
    assert.deepEqual((await api<Obj>(b, 'GET', '/assistants')).body.assistants, []);
    assert.deepEqual((await api<Obj>(b, 'GET', '/numbers')).body.numbers, []);
    assert.deepEqual((await api<Obj>(b, 'GET', '/sip-trunks')).body.trunks, []);
    // Referencing another organization's assistant from B's number is not possible either.
    const cross = await api<Obj>(b, 'POST', '/numbers', { phone_number: '+31850835038', agent_id: assistant.id });
    assert.ok(cross.status === 404 || cross.status === 400, `cross-org reference: ${cross.status}`);
    assert.deepEqual((await api<Obj>(b, 'GET', '/numbers')).body.numbers, []);
  });
});
