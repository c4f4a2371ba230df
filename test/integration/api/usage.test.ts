import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

const LOG_KEYS = ['id', 'call_id', 'duration_sec', 'byok_stt', 'byok_llm', 'byok_tts', 'phone_number', 'agent_name', 'business_name',
  'call_type', 'created_at'].sort();

describe('usage API', () => {
  let t: TestEngine;
  let orgId: string;
  let other: { url: string; key: string };
  /** Durations of the inserted rows, oldest first, one day apart from 2026-03-01. */
  const durations = [60, 90, 3600, 3810, 45];
  const ids: string[] = [];

  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '10000' } });
    orgId = t.engine.store.apiKeys.findByKey(t.key)?.org_id as string;
    durations.forEach((d, i) => {
      const row = t.engine.store.usage.insert(orgId, {
        call_id: `call-_+3161234567${i}_AAAAAAAAAAA${i}`, duration_sec: d, byok_stt: i === 1, byok_llm: i === 2, byok_tts: false,
        phone_number: i === 4 ? null : '+31850835037', agent_name: 'Front desk', business_name: i === 0 ? null : 'Roma',
        call_type: i === 4 ? 'web' : 'phone', created_at: new Date(Date.UTC(2026, 2, 1 + i, 12)).toISOString(),
      });
      ids.push(row.id);
    });
    const org = t.engine.store.organizations.create({ name: 'Other org', parent_org_id: null });
    t.engine.store.usage.insert(org.id, {
      call_id: null, duration_sec: 999, byok_stt: false, byok_llm: false, byok_tts: false, phone_number: null, agent_name: null,
      business_name: null, call_type: 'phone', created_at: '2026-03-02T12:00:00.000Z',
    });
    other = { url: t.url, key: t.engine.store.apiKeys.create(org.id).key };
  });
  after(async () => { await t.close(); });

  test('GET /usage: {logs, pagination, summary}, newest first, exact log shape (with call_id)', async () => {
    const r = await api<Obj>(t, 'GET', '/usage');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['logs', 'pagination', 'summary']);
    assert.deepEqual(r.body.pagination, { total: 5, limit: 100, offset: 0 });
    assert.deepEqual(r.body.logs.map((l: Obj) => l.id), [...ids].reverse());
    const total = durations.reduce((a, b) => a + b, 0);
    assert.deepEqual(r.body.summary, { total_calls: 5, total_duration_seconds: total, total_duration_minutes: total / 60 });
    const l = r.body.logs.find((x: Obj) => x.id === ids[1]);
    assert.deepEqual(Object.keys(l).sort(), LOG_KEYS);
    assert.deepEqual(l, {
      id: ids[1], call_id: 'call-_+31612345671_AAAAAAAAAAA1', duration_sec: 90, byok_stt: true, byok_llm: false, byok_tts: false,
      phone_number: '+31850835037', agent_name: 'Front desk', business_name: 'Roma', call_type: 'phone', created_at: '2026-03-02T12:00:00.000Z',
    });
    const web = r.body.logs.find((x: Obj) => x.id === ids[4]);
    assert.equal(web.call_type, 'web');
    assert.equal(web.phone_number, null);
  });

  test('summary covers every row of the date filter, not only the page; minutes = seconds / 60', async () => {
    const q = `start_date=${encodeURIComponent('2026-03-03T12:00:00Z')}&end_date=${encodeURIComponent('2026-03-04T12:00:00.000Z')}&limit=1`;
    const r = await api<Obj>(t, 'GET', `/usage?${q}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.logs.length, 1);
    assert.equal(r.body.logs[0].id, ids[3]);
    assert.deepEqual(r.body.pagination, { total: 2, limit: 1, offset: 0 });
    // 3600 + 3810 = 7410 s = 123.5 min (both boundaries inclusive)
    assert.deepEqual(r.body.summary, { total_calls: 2, total_duration_seconds: 7410, total_duration_minutes: 123.5 });
    const page2 = await api<Obj>(t, 'GET', `/usage?${q}&offset=1`);
    assert.equal(page2.body.logs[0].id, ids[2]);
    assert.deepEqual(page2.body.summary, r.body.summary);
    const none = await api<Obj>(t, 'GET', `/usage?start_date=${encodeURIComponent('2027-01-01T00:00:00Z')}`);
    assert.deepEqual(none.body, { logs: [], pagination: { total: 0, limit: 100, offset: 0 }, summary: { total_calls: 0, total_duration_seconds: 0, total_duration_minutes: 0 } });
  });

  test('another organization sees only its own usage', async () => {
    const r = await api<Obj>(other, 'GET', '/usage');
    assert.equal(r.body.logs.length, 1);
    assert.deepEqual(r.body.summary, { total_calls: 1, total_duration_seconds: 999, total_duration_minutes: 16.65 });
  });

  test('query validation: limit, offset, dates', async () => {
    for (const [q, param] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['offset=-5', 'offset'], ['start_date=2026-03-01', 'start_date'],
      [`start_date=${encodeURIComponent('2026-03-05T00:00:00Z')}&end_date=${encodeURIComponent('2026-03-01T00:00:00Z')}`, 'end_date']] as const) {
      const r = await api<Obj>(t, 'GET', `/usage?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.param, param, q);
    }
    assert.equal((await api<Obj>(t, 'GET', '/usage', undefined, { key: null })).status, 401);
  });
});
