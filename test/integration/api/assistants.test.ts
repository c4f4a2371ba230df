import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

describe('assistants API', () => {
  let t: TestEngine;
  before(async () => { t = await startTestEngine(); });
  after(async () => { await t.close(); });

  test('create with only a name applies every default (spec §4.6)', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', { name: 'Front desk' });
    assert.equal(r.status, 201);
    const a = r.body.assistant;
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.equal(a.name, 'Front desk');
    assert.equal(a.is_active, true);
    assert.equal(a.autonomous_silence_handling, false);
    assert.equal(a.voicemail_detection, false);
    assert.equal(a.gdpr_mode, false);
    assert.equal(a.webhook_url, null);
    assert.deepEqual(a.stt_config, { provider: 'deepgram', model: 'nova-3-general', language: 'en' });
    assert.deepEqual(a.llm_config, { provider: 'openai', model: 'gpt-4o-mini', temperature: 0.7, messages: [], tools: [] });
    assert.equal(a.tts_config.provider, 'elevenlabs');
    assert.match(a.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('get, list (newest first), deprecated /agents alias', async () => {
    const a = (await api<Obj>(t, 'POST', '/assistants', { name: 'First' })).body.assistant;
    const b = (await api<Obj>(t, 'POST', '/agents', { name: 'Second' })).body.assistant;
    const got = await api<Obj>(t, 'GET', `/assistants/${a.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.assistant, a);
    const list = await api<Obj>(t, 'GET', '/agents');
    const ids = list.body.assistants.map((x: Obj) => x.id);
    assert.ok(ids.indexOf(b.id) < ids.indexOf(a.id));
  });

  test('realtime provider with stt_config is a 400 naming the field; nothing written', async () => {
    const before = (await api<Obj>(t, 'GET', '/assistants')).body.assistants.length;
    const r = await api<Obj>(t, 'POST', '/assistants', {
      name: 'RT', llm_config: { provider: 'xai_realtime', model: 'grok-realtime-v1' },
      stt_config: { provider: 'deepgram', model: 'nova-3', language: 'en' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'stt_config');
    assert.equal(r.body.code, 'invalid_value');
    assert.equal(r.body.type, 'invalid_request_error');
    assert.equal(r.body.error, 'Bad Request');
    assert.equal((await api<Obj>(t, 'GET', '/assistants')).body.assistants.length, before);
  });

  test('realtime: stt/tts null, default voice, turn_detection clamped (spec §4.2)', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', {
      name: 'RT', llm_config: { provider: 'xai_realtime', model: 'grok-realtime-v1', turn_detection: { threshold: 7, silence_duration_ms: 5, prefix_padding_ms: 9999 } },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.assistant.stt_config, null);
    assert.equal(r.body.assistant.tts_config, null);
    assert.equal(r.body.assistant.llm_config.voice, 'ara');
    assert.deepEqual(r.body.assistant.llm_config.turn_detection, { threshold: 1, silence_duration_ms: 100, prefix_padding_ms: 2000 });
  });

  test('every schema problem is listed in details', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', {
      name: '', llm_config: { provider: 'openai', model: 'x', temperature: 9 }, tts_config: { provider: 'elevenlabs', voice_id: 'v', stability: 2 },
    });
    assert.equal(r.status, 400);
    assert.ok(r.body.details.some((d: string) => d.startsWith('name must be at least 1')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('llm_config.temperature')));
    assert.ok(r.body.details.some((d: string) => d.startsWith('tts_config.stability')));
  });

  test('missing name is missing_field; wrong type names the field', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', { first_message: 5 });
    assert.equal(r.status, 400);
    assert.ok(r.body.details.includes('name is required'));
    assert.ok(r.body.details.some((d: string) => d.startsWith('first_message')));
  });

  test('tool shapes are normalised: OpenAI style, aliases, legacy async_response', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', {
      name: 'Tools', llm_config: { provider: 'openai', model: 'gpt-4o', tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }, async: true },
        { type: 'endCall' },
        { type: 'transferCall', destinations: [{ type: 'number', number: '+31850835037', description: 'Sales' }] },
        { name: 'book', description: 'Book', async_response: 'Booking now', server: { url: 'https://x.example/hook', secret: 's' } },
      ] },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.assistant.llm_config.tools, [
      { name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, async: true },
      { type: 'end_call' },
      { type: 'transfer_call', destinations: [{ type: 'number', number: '+31850835037', description: 'Sales' }] },
      { name: 'book', description: 'Book', server: { url: 'https://x.example/hook', secret: 's' }, message: 'Booking now' },
    ]);
  });

  test('bad tool name and bad transfer number are 400 with the path', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', {
      name: 'T', llm_config: { provider: 'openai', model: 'm', tools: [{ name: 'has space', description: 'x' }, { type: 'transfer_call', destinations: [{ number: '0612', description: 'x' }] }] },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'llm_config.tools[0].name');
    assert.ok(r.body.details.some((d: string) => d.startsWith('llm_config.tools[1].destinations[0].number')));
  });

  test('PATCH merges nested configs one level deep and replaces arrays', async () => {
    const a = (await api<Obj>(t, 'POST', '/assistants', {
      name: 'P', llm_config: { provider: 'openai', model: 'gpt-4o', temperature: 0.2, messages: [{ role: 'system', content: 'Be brief' }] },
    })).body.assistant;
    const r = await api<Obj>(t, 'PATCH', `/assistants/${a.id}`, { llm_config: { tools: [{ type: 'end_call' }] }, first_message: 'Hello', business_name: null });
    assert.equal(r.status, 200);
    const u = r.body.assistant;
    assert.equal(u.llm_config.model, 'gpt-4o');
    assert.equal(u.llm_config.temperature, 0.2);
    assert.deepEqual(u.llm_config.messages, [{ role: 'system', content: 'Be brief' }]);
    assert.deepEqual(u.llm_config.tools, [{ type: 'end_call' }]);
    assert.equal(u.first_message, 'Hello');
    assert.ok(u.updated_at >= a.updated_at);
    const bad = await api<Obj>(t, 'PATCH', `/assistants/${a.id}`, { llm_config: { provider: 'xai_realtime' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'stt_config');
    assert.equal((await api<Obj>(t, 'GET', `/assistants/${a.id}`)).body.assistant.llm_config.provider, 'openai');
  });

  test('local TTS voice must come from GET /voices; 11labs alias', async () => {
    const ok = await api<Obj>(t, 'POST', '/assistants', { name: 'L', tts_config: { provider: 'local', voice_id: 'nl' } });
    assert.equal(ok.status, 201);
    const bad = await api<Obj>(t, 'POST', '/assistants', { name: 'L', tts_config: { provider: 'local', voice_id: 'klingon' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'tts_config.voice_id');
    const alias = await api<Obj>(t, 'POST', '/assistants', { name: 'E', tts_config: { provider: '11labs', voice_id: 'abc' } });
    assert.equal(alias.body.assistant.tts_config.provider, 'elevenlabs');
  });

  test('delete, then 404; malformed id is 404', async () => {
    const a = (await api<Obj>(t, 'POST', '/assistants', { name: 'D' })).body.assistant;
    assert.deepEqual((await api<Obj>(t, 'DELETE', `/assistants/${a.id}`)).body, { success: true });
    const r = await api<Obj>(t, 'GET', `/assistants/${a.id}`);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'not_found');
    assert.equal((await api<Obj>(t, 'GET', '/assistants/not-a-uuid')).status, 404);
    assert.equal((await api<Obj>(t, 'DELETE', `/assistants/${a.id}`)).status, 404);
  });

  test('invalid JSON and wrong content type are clear 4xx errors', async () => {
    const r = await api<Obj>(t, 'POST', '/assistants', undefined, { raw: '{"name": ' });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_json');
    const ct = await api<Obj>(t, 'POST', '/assistants', undefined, { raw: 'name=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(ct.status, 415);
  });
});
