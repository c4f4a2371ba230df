import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import { callId } from '../../../engine/store/ids.js';
import type { CallInsert } from '../../../engine/store/repos/calls.js';

type Obj = Record<string, any>;

const CALL_KEYS = ['id', 'caller_phone', 'assistant_phone', 'status', 'direction', 'end_reason', 'error', 'started_at', 'ended_at',
  'duration_seconds', 'summary', 'analysis_result', 'messages', 'metadata', 'room_name', 'recording_url', 'agent_id', 'number_id',
  'agent_name', 'business_name', 'phone_number', 'created_at', 'updated_at', 'latency'].sort();

describe('calls API (read side)', () => {
  let t: TestEngine;
  let orgId: string;
  let other: { url: string; key: string; orgId: string };
  /** Inserted calls, oldest first, created one hour apart from 2026-03-01T10:00Z. */
  const calls: Obj[] = [];

  const insert = (org: string, c: CallInsert, createdAt: string) => {
    t.engine.store.calls.insert(org, c);
    t.engine.store.db.prepare('UPDATE calls SET created_at = ?, updated_at = ? WHERE id = ?').run(createdAt, createdAt, c.id);
  };

  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '10000' } });
    orgId = t.engine.store.apiKeys.findByKey(t.key)?.org_id as string;
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key, orgId: org.id };
    const statuses = ['ended', 'failed', 'in-progress', 'ended', 'connecting', 'ended'] as const;
    statuses.forEach((status, i) => {
      const id = callId('+3161234567' + i);
      const createdAt = new Date(Date.UTC(2026, 2, 1, 10 + i)).toISOString();
      insert(orgId, {
        id, direction: i % 2 ? 'outbound' : 'inbound', status, caller_phone: '+3161234567' + i, assistant_phone: '+31850835037',
        phone_number: '+31850835037', agent_name: 'Front desk', business_name: 'Roma', summary: status === 'ended' ? 'Booked a table' : null,
        messages: [{ role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Hi' }], analysis_result: { sentiment: 8 },
        metadata: { crm: i }, timings: { turns: [{ stt_ms: 120, llm_first_token_ms: 300 }] }, duration_seconds: 30 + i,
        end_reason: status === 'ended' ? 'customer-ended-call' : null,
      }, createdAt);
      calls.push({ id, status, createdAt });
    });
    insert(other.orgId, { id: callId('+31699999999'), direction: 'inbound', status: 'ended' }, '2026-03-01T12:30:00.000Z');
  });
  after(async () => { await t.close(); });

  test('GET /calls: {calls, pagination}, newest first, defaults limit 100 / offset 0, own org only', async () => {
    const r = await api<Obj>(t, 'GET', '/calls');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['calls', 'pagination']);
    assert.deepEqual(r.body.pagination, { total: 6, limit: 100, offset: 0 });
    assert.deepEqual(r.body.calls.map((c: Obj) => c.id), [...calls].reverse().map((c) => c.id));
    const first = r.body.calls[0];
    assert.deepEqual(Object.keys(first).sort(), CALL_KEYS);
    assert.deepEqual(first.messages, [{ role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Hi' }], 'lists carry full data');
    assert.deepEqual(first.analysis_result, { sentiment: 8 });
    assert.deepEqual(first.metadata, { crm: 5 });
  });

  test('pagination: limit and offset; total counts the whole filter', async () => {
    const r = await api<Obj>(t, 'GET', '/calls?limit=2&offset=1');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.pagination, { total: 6, limit: 2, offset: 1 });
    assert.deepEqual(r.body.calls.map((c: Obj) => c.id), [calls[4]?.id, calls[3]?.id]);
    const past = await api<Obj>(t, 'GET', '/calls?offset=50&limit=1000');
    assert.deepEqual(past.body, { calls: [], pagination: { total: 6, limit: 1000, offset: 50 } });
  });

  test('status filter', async () => {
    const r = await api<Obj>(t, 'GET', '/calls?status=ended');
    assert.equal(r.body.pagination.total, 3);
    assert.ok(r.body.calls.every((c: Obj) => c.status === 'ended'));
    const live = await api<Obj>(t, 'GET', '/calls?status=in-progress');
    assert.deepEqual(live.body.calls.map((c: Obj) => c.id), [calls[2]?.id]);
  });

  test('start_date / end_date filter created_at, both inclusive, any RFC 3339 offset', async () => {
    const r = await api<Obj>(t, 'GET', `/calls?start_date=${encodeURIComponent('2026-03-01T11:00:00Z')}&end_date=${encodeURIComponent('2026-03-01T13:00:00.000Z')}`);
    assert.deepEqual(r.body.calls.map((c: Obj) => c.id), [calls[3]?.id, calls[2]?.id, calls[1]?.id]);
    assert.equal(r.body.pagination.total, 3);
    // 13:00+02:00 is 11:00Z
    const tz = await api<Obj>(t, 'GET', `/calls?end_date=${encodeURIComponent('2026-03-01T13:00:00+02:00')}`);
    assert.deepEqual(tz.body.calls.map((c: Obj) => c.id), [calls[1]?.id, calls[0]?.id]);
    const combined = await api<Obj>(t, 'GET', `/calls?status=ended&start_date=${encodeURIComponent('2026-03-01T12:00:00Z')}`);
    assert.deepEqual(combined.body.calls.map((c: Obj) => c.id), [calls[5]?.id, calls[3]?.id]);
  });

  test('query validation: limit 1..1000, offset >= 0, status enum, dates, end before start', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=-1', 'limit'], ['limit=abc', 'limit'],
      ['offset=-1', 'offset'], ['offset=x', 'offset'], ['status=done', 'status'], ['start_date=yesterday', 'start_date'],
      ['end_date=2026-13-45T00:00:00Z', 'end_date'],
      [`start_date=${encodeURIComponent('2026-03-02T00:00:00Z')}&end_date=${encodeURIComponent('2026-03-01T00:00:00Z')}`, 'end_date'],
    ];
    for (const [q, param] of cases) {
      const r = await api<Obj>(t, 'GET', `/calls?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.param, param, q);
      assert.equal(r.body.code, 'invalid_value', q);
    }
  });

  test('GET /calls/{id}: the bare Call object with the latency extension', async () => {
    const c = calls[0] as Obj;
    const r = await api<Obj>(t, 'GET', `/calls/${encodeURIComponent(c.id)}`);
    assert.equal(r.status, 200);
    assert.deepEqual({ ...r.body, updated_at: 'x' }, {
      id: c.id, caller_phone: '+31612345670', assistant_phone: '+31850835037', status: 'ended', direction: 'inbound',
      end_reason: 'customer-ended-call', error: null, started_at: null, ended_at: null, duration_seconds: 30, summary: 'Booked a table',
      analysis_result: { sentiment: 8 }, messages: [{ role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Hi' }],
      metadata: { crm: 0 }, room_name: null, recording_url: null, agent_id: null, number_id: null, agent_name: 'Front desk',
      business_name: 'Roma', phone_number: '+31850835037', created_at: c.createdAt, updated_at: 'x',
      latency: { turns: [{ stt_ms: 120, llm_first_token_ms: 300 }] },
    });
    // the list carries the same object
    const listed = (await api<Obj>(t, 'GET', '/calls')).body.calls.find((x: Obj) => x.id === c.id);
    assert.deepEqual(listed, r.body);
  });

  test('a call without timings has latency null', async () => {
    const id = callId(null);
    t.engine.store.calls.insert(orgId, { id, direction: 'web', status: 'connecting' });
    const r = await api<Obj>(t, 'GET', `/calls/${id}`);
    assert.equal(r.body.latency, null);
    assert.equal(r.body.direction, 'web');
    assert.equal(r.body.messages, null);
    t.engine.store.db.prepare('DELETE FROM calls WHERE id = ?').run(id);
  });

  test('unknown and foreign calls are 404', async () => {
    const foreign = (await api<Obj>(other, 'GET', '/calls')).body.calls[0];
    assert.ok(foreign);
    for (const id of [foreign.id, 'call-_+31600000000_AAAAAAAAAAAA', 'nope']) {
      const r = await api<Obj>(t, 'GET', `/calls/${encodeURIComponent(id)}`);
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'not_found');
      assert.equal(r.body.type, 'not_found_error');
    }
    assert.equal((await api<Obj>(other, 'GET', `/calls/${encodeURIComponent(calls[0]?.id)}`)).status, 404);
  });

  test('recording: recording_url points at an authenticated download of the file', async () => {
    const id = callId('+31611111111');
    mkdirSync(join(t.dataDir, 'recordings'), { recursive: true });
    const bytes = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(40, 7)]);
    writeFileSync(join(t.dataDir, 'recordings', 'r1.wav'), bytes);
    t.engine.store.calls.insert(orgId, { id, direction: 'inbound', status: 'ended', recording_path: 'recordings/r1.wav' });
    const call = (await api<Obj>(t, 'GET', `/calls/${encodeURIComponent(id)}`)).body;
    assert.equal(call.recording_url, `/api/v1/calls/${encodeURIComponent(id)}/recording`);
    const url = t.url.replace(/\/api\/v1$/, '') + call.recording_url;
    const res = await fetch(url, { headers: { authorization: `Bearer ${t.key}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'audio/wav');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${other.key}` } })).status, 404);
    // no recording / file gone: 404
    assert.equal((await api<Obj>(t, 'GET', `/calls/${encodeURIComponent(calls[0]?.id)}/recording`)).status, 404);
    t.engine.store.calls.update(id, { recording_path: 'recordings/missing.wav' });
    assert.equal((await api<Obj>(t, 'GET', `/calls/${encodeURIComponent(id)}/recording`)).status, 404);
    t.engine.store.db.prepare('DELETE FROM calls WHERE id = ?').run(id);
  });

  test('the OpenAPI document lists the telephony operations with their schemas', async () => {
    const doc = (await api<Obj>(t, 'GET', '/openapi.json')).body;
    const ops = (p: string) => Object.keys(doc.paths[`/api/v1${p}`] ?? {}).sort();
    assert.deepEqual(ops('/numbers'), ['get', 'post']);
    assert.deepEqual(ops('/numbers/{id}'), ['delete', 'get', 'patch']);
    assert.deepEqual(ops('/sip-trunks'), ['get', 'post']);
    assert.deepEqual(ops('/sip-trunks/{id}'), ['delete', 'get']);
    assert.deepEqual(ops('/calls'), ['get']);
    assert.deepEqual(ops('/calls/{id}'), ['get']);
    assert.deepEqual(ops('/calls/outbound'), ['post']);
    assert.deepEqual(ops('/calls/{id}/control'), ['post']);
    assert.deepEqual(ops('/usage'), ['get']);
    const control = doc.paths['/api/v1/calls/{id}/control'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(control.anyOf.map((x: Obj) => x.title), ['InjectContextCommand', 'SayCommand', 'EndCallCommand', 'TransferCommand']);
    assert.deepEqual(doc.paths['/api/v1/calls'].get.parameters.map((x: Obj) => x.name).sort(), ['end_date', 'limit', 'offset', 'start_date', 'status']);
    const trunkBody = doc.paths['/api/v1/sip-trunks'].post.requestBody.content['application/json'].schema;
    assert.match(trunkBody.properties.register.description, /REGISTER/);
  });
});
