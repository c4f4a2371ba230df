import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

const PROVIDERS = ['deepgram', 'openai', 'elevenlabs', 'xai', 'resend', 'gladia', 'mistral', 'inworld', 'google', 'google_vertex'];
const allNull = Object.fromEntries(PROVIDERS.map((p) => [`${p}_secret_id`, null]));

describe('BYOK API (spec §3.9)', () => {
  let t: TestEngine;
  let other: { url: string; key: string };
  before(async () => {
    t = await startTestEngine();
    const org = await api<Obj>(t, 'POST', '/organizations', { name: 'Other' });
    other = { url: t.url, key: org.body.api_key };
  });
  after(async () => { await t.close(); });

  test('GET lists every provider with null secret ids on a fresh organization', async () => {
    const r = await api<Obj>(other, 'GET', '/byok');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { byok_keys: allNull });
  });

  test('POST stores a key: opaque secret id, the key never returned; re-POST rotates the id', async () => {
    const r = await api<Obj>(t, 'POST', '/byok', { provider: 'deepgram', api_key: 'dg-secret-value-1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.deepEqual(Object.keys(r.body).sort(), ['byok_keys', 'success']);
    const id1 = r.body.byok_keys.deepgram_secret_id;
    assert.match(id1, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...r.body.byok_keys, deepgram_secret_id: null }, allNull);
    assert.ok(!JSON.stringify(r.body).includes('dg-secret-value-1'));
    assert.equal(t.engine.store.byok.key((await orgId(t)), 'deepgram'), 'dg-secret-value-1');

    const again = await api<Obj>(t, 'POST', '/byok', { provider: 'deepgram', api_key: 'dg-secret-value-2' });
    assert.equal(again.status, 200);
    assert.notEqual(again.body.byok_keys.deepgram_secret_id, id1);
    assert.equal(t.engine.store.byok.key((await orgId(t)), 'deepgram'), 'dg-secret-value-2');
    const got = await api<Obj>(t, 'GET', '/byok');
    assert.equal(got.body.byok_keys.deepgram_secret_id, again.body.byok_keys.deepgram_secret_id);
    assert.ok(!JSON.stringify(got.body).includes('dg-secret-value'));
  });

  test('keys are per organization', async () => {
    await api<Obj>(t, 'POST', '/byok', { provider: 'openai', api_key: 'sk-org-a' });
    const o = await api<Obj>(other, 'GET', '/byok');
    assert.equal(o.body.byok_keys.openai_secret_id, null);
  });

  test('validation: unknown provider, empty key, blank key, missing fields, wrong types; nothing written', async () => {
    const before = (await api<Obj>(t, 'GET', '/byok')).body;
    const unknown = await api<Obj>(t, 'POST', '/byok', { provider: 'acme', api_key: 'x' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.param, 'provider');
    assert.equal(unknown.body.code, 'invalid_value');
    assert.match(unknown.body.message, /must be one of "deepgram"/);

    const empty = await api<Obj>(t, 'POST', '/byok', { provider: 'xai', api_key: '' });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.param, 'api_key');

    const blank = await api<Obj>(t, 'POST', '/byok', { provider: 'xai', api_key: '   ' });
    assert.equal(blank.status, 400);
    assert.equal(blank.body.param, 'api_key');
    assert.equal(blank.body.message, 'api_key must not be blank');

    const missing = await api<Obj>(t, 'POST', '/byok', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'missing_field');
    assert.deepEqual(missing.body.details.sort(), ['api_key is required', 'provider is required']);

    const wrongType = await api<Obj>(t, 'POST', '/byok', { provider: 'xai', api_key: 42 });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.param, 'api_key');
    assert.equal(wrongType.body.message, 'api_key must be a string');

    assert.deepEqual((await api<Obj>(t, 'GET', '/byok')).body, before);
  });

  test('DELETE with a body removes the key (idempotent), other keys stay', async () => {
    await api<Obj>(t, 'POST', '/byok', { provider: 'elevenlabs', api_key: 'el-key' });
    const r = await api<Obj>(t, 'DELETE', '/byok', { provider: 'elevenlabs' });
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.equal(r.body.byok_keys.elevenlabs_secret_id, null);
    assert.notEqual(r.body.byok_keys.deepgram_secret_id, null);
    assert.equal(t.engine.store.byok.key(await orgId(t), 'elevenlabs'), undefined);
    const again = await api<Obj>(t, 'DELETE', '/byok', { provider: 'elevenlabs' });
    assert.equal(again.status, 200);
    const bad = await api<Obj>(t, 'DELETE', '/byok', { provider: 'nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'provider');
    const none = await api<Obj>(t, 'DELETE', '/byok', {});
    assert.equal(none.status, 400);
    assert.equal(none.body.code, 'missing_field');
  });

  test('GET /byok/config: the provider catalogue', async () => {
    const r = await api<Obj>(t, 'GET', '/byok/config');
    assert.equal(r.status, 200);
    const providers = r.body.providers as Obj[];
    assert.deepEqual(providers.map((p) => p.id), PROVIDERS);
    for (const p of providers) {
      assert.deepEqual(Object.keys(p).sort(), ['category', 'docsUrl', 'id', 'models', 'name']);
      assert.ok(['stt', 'llm', 'tts', 'realtime', 'email'].includes(p.category), p.id);
      assert.match(p.docsUrl, /^https:\/\//);
      if (p.models.length) assert.equal(p.models.filter((m: Obj) => m.default === true).length, 1, `${p.id} has one default model`);
      for (const m of p.models) assert.deepEqual(Object.keys(m).sort(), ['default', 'id', 'name']);
    }
    const dg = providers.find((p) => p.id === 'deepgram') as Obj;
    assert.equal(dg.category, 'stt');
    assert.deepEqual(dg.models[0], { id: 'nova-3-general', name: 'Nova 3 General', default: true });
    const oa = providers.find((p) => p.id === 'openai') as Obj;
    assert.equal(oa.category, 'llm');
    assert.deepEqual(oa.models.slice(0, 2), [{ id: 'gpt-4o-mini', name: 'GPT-4o Mini', default: true }, { id: 'gpt-4o', name: 'GPT-4o', default: false }]);
    assert.equal((providers.find((p) => p.id === 'elevenlabs') as Obj).category, 'tts');
    assert.equal((providers.find((p) => p.id === 'xai') as Obj).category, 'realtime');
    assert.equal((providers.find((p) => p.id === 'resend') as Obj).category, 'email');
  });

  test('POST /byok/config merges settings; needs the key; validates', async () => {
    await api<Obj>(t, 'POST', '/byok', { provider: 'gladia', api_key: 'gl-key' });
    const a = await api<Obj>(t, 'POST', '/byok/config', { provider: 'gladia', config: { region: 'eu-west', code_switching: true } });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { byok_config: { gladia: { region: 'eu-west', code_switching: true } } });
    const b = await api<Obj>(t, 'POST', '/byok/config', { provider: 'gladia', config: { region: 'us-west', code_switching: null } });
    assert.deepEqual(b.body, { byok_config: { gladia: { region: 'us-west' } } });
    // Rotating the key keeps the settings.
    await api<Obj>(t, 'POST', '/byok', { provider: 'gladia', api_key: 'gl-key-2' });
    const c = await api<Obj>(t, 'POST', '/byok/config', { provider: 'gladia', config: {} });
    assert.deepEqual(c.body, { byok_config: { gladia: { region: 'us-west' } } });

    const noKey = await api<Obj>(t, 'POST', '/byok/config', { provider: 'inworld', config: { a: 1 } });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.code, 'provider_key_missing');
    assert.equal(noKey.body.param, 'provider');

    const notObj = await api<Obj>(t, 'POST', '/byok/config', { provider: 'gladia', config: 'x' });
    assert.equal(notObj.status, 400);
    assert.equal(notObj.body.param, 'config');
    const missing = await api<Obj>(t, 'POST', '/byok/config', { provider: 'gladia' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.message, 'config is required');
  });
});

async function orgId(t: TestEngine): Promise<string> {
  return (await api<Obj>(t, 'GET', '/organizations')).body.id;
}
