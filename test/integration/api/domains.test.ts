import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import { startFakeResend, type FakeResend } from '../../fakes/resend.js';

type Obj = Record<string, any>;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('domains API through Resend (spec §3.10)', () => {
  let fake: FakeResend;
  let t: TestEngine;
  before(async () => {
    fake = await startFakeResend();
    t = await startTestEngine({ env: { RESEND_BASE_URL: fake.url } });
  });
  after(async () => { await t.close(); await fake.close(); });

  /** A fresh organization with (or without) the fake's Resend key stored through BYOK. */
  async function org(withKey = true, resendKey = fake.apiKey): Promise<{ url: string; key: string; id: string }> {
    const o = (await api<Obj>(t, 'POST', '/organizations', { name: 'Mail org' })).body;
    const c = { url: t.url, key: o.api_key as string, id: o.id as string };
    if (withKey) assert.equal((await api<Obj>(c, 'POST', '/byok', { provider: 'resend', api_key: resendKey })).status, 200);
    return c;
  }

  test('GET answers null when no domain is configured', async () => {
    const c = await org(false);
    const r = await api<Obj>(c, 'GET', '/domains');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { domain: null });
  });

  test('every Resend operation needs the BYOK Resend key: 400 resend_key_missing', async () => {
    const c = await org(false);
    for (const [method, path, body] of [['POST', '/domains', { domain_name: 'mail.example.com' }], ['GET', '/domains/sync'], ['POST', '/domains/sync', { resendDomainId: fake.addDomain('x.example.org').id }]] as const) {
      const r = await api<Obj>(c, method, path, body);
      assert.equal(r.status, 400, `${method} ${path}`);
      assert.equal(r.body.code, 'resend_key_missing');
      assert.equal(r.body.type, 'invalid_request_error');
    }
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });
  });

  test('create -> DNS records -> verify (pending) -> refresh (verified) -> delete (also at Resend)', async () => {
    const c = await org();
    const r = await api<Obj>(c, 'POST', '/domains', { domain_name: 'Mail.Example.com', region: 'eu-west-1' });
    assert.equal(r.status, 201);
    const d = r.body.domain;
    assert.deepEqual(Object.keys(d).sort(), ['created_at', 'domain_name', 'id', 'records', 'region', 'resend_domain_id', 'status', 'updated_at']);
    assert.match(d.id, /^[0-9a-f-]{36}$/);
    assert.equal(d.domain_name, 'mail.example.com');
    assert.equal(d.status, 'not_started');
    assert.equal(d.region, 'eu-west-1');
    assert.match(d.created_at, TS);
    assert.ok(fake.domains.has(d.resend_domain_id));
    assert.deepEqual(d.records.map((x: Obj) => [x.record, x.type, x.name]), [['SPF', 'MX', 'send.mail'], ['SPF', 'TXT', 'send.mail'], ['DKIM', 'TXT', 'resend._domainkey.mail']]);
    assert.equal(d.records[0].value, 'feedback-smtp.eu-west-1.amazonses.com');
    assert.equal(d.records[0].priority, 10);
    assert.match(d.records[2].value, /^p=MIG/);
    assert.ok(d.records.every((x: Obj) => x.status === 'not_started'));
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: d });

    const v = await api<Obj>(c, 'POST', '/domains/verify');
    assert.equal(v.status, 200);
    assert.equal(v.body.domain.status, 'pending');
    assert.ok(v.body.domain.records.every((x: Obj) => x.status === 'pending'));
    assert.equal(v.body.domain.id, d.id);

    const f = await api<Obj>(c, 'POST', '/domains/refresh');
    assert.equal(f.status, 200);
    assert.equal(f.body.domain.status, 'verified');
    assert.ok(f.body.domain.records.every((x: Obj) => x.status === 'verified'));
    assert.equal((await api<Obj>(c, 'GET', '/domains')).body.domain.status, 'verified');

    const del = await api<Obj>(c, 'DELETE', '/domains');
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { success: true });
    assert.equal(fake.domains.has(d.resend_domain_id), false);
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });
  });

  test('a failed verification is reported on refresh', async () => {
    const c = await org();
    await api<Obj>(c, 'POST', '/domains', { domain_name: 'failing.example.net' });
    fake.verifyOutcome = 'failed';
    try {
      await api<Obj>(c, 'POST', '/domains/verify');
      const f = await api<Obj>(c, 'POST', '/domains/refresh');
      assert.equal(f.body.domain.status, 'failed');
    } finally {
      fake.verifyOutcome = 'verified';
    }
  });

  test('older alias `domain`; 409 when one exists; 404 verify/refresh/delete without one', async () => {
    const c = await org();
    for (const [method, path] of [['POST', '/domains/verify'], ['POST', '/domains/refresh'], ['DELETE', '/domains']] as const) {
      const r = await api<Obj>(c, method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.code, 'not_found');
    }
    const a = await api<Obj>(c, 'POST', '/domains', { domain: 'alias.example.com' });
    assert.equal(a.status, 201);
    assert.equal(a.body.domain.domain_name, 'alias.example.com');
    const before = fake.requests.length;
    const again = await api<Obj>(c, 'POST', '/domains', { domain_name: 'other.example.com' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'conflict');
    assert.equal(fake.requests.length, before, 'a conflict never reaches Resend');
  });

  test('validation: missing name, bad name, bad region, mismatching aliases; nothing reaches Resend', async () => {
    const c = await org();
    const before = fake.requests.length;
    const missing = await api<Obj>(c, 'POST', '/domains', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'missing_field');
    assert.equal(missing.body.param, 'domain_name');
    for (const bad of ['localhost', 'not a domain', '-x.example.com', 'a..b.com', 'x'.repeat(64) + '.com']) {
      const r = await api<Obj>(c, 'POST', '/domains', { domain_name: bad });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.param, 'domain_name', bad);
    }
    const region = await api<Obj>(c, 'POST', '/domains', { domain_name: 'ok.example.com', region: 'mars-1' });
    assert.equal(region.status, 400);
    assert.equal(region.body.param, 'region');
    const both = await api<Obj>(c, 'POST', '/domains', { domain_name: 'a.example.com', domain: 'b.example.com' });
    assert.equal(both.status, 400);
    assert.equal(both.body.param, 'domain');
    const type = await api<Obj>(c, 'POST', '/domains', { domain_name: 7 });
    assert.equal(type.status, 400);
    assert.equal(type.body.message, 'domain_name must be a string');
    assert.equal(fake.requests.length, before);
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });
  });

  test('Resend validation errors (4xx) become 400 with Resend\'s message', async () => {
    const c = await org();
    fake.addDomain('taken.example.com');
    const r = await api<Obj>(c, 'POST', '/domains', { domain_name: 'taken.example.com' });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_value');
    assert.equal(r.body.param, 'domain_name');
    assert.equal(r.body.message, 'Resend: The taken.example.com domain has been registered already.');
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });
  });

  test('upstream failures become 502 upstream_unavailable with the upstream message; nothing written', async () => {
    const c = await org();
    fake.failNext(500, { statusCode: 500, message: 'Internal server error', name: 'internal_server_error' });
    const r = await api<Obj>(c, 'POST', '/domains', { domain_name: 'flaky.example.com' });
    assert.equal(r.status, 502);
    assert.equal(r.body.code, 'upstream_unavailable');
    assert.equal(r.body.type, 'api_error');
    assert.match(r.body.message, /Internal server error/);
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });

    const ok = await api<Obj>(c, 'POST', '/domains', { domain_name: 'flaky.example.com' });
    assert.equal(ok.status, 201);
    fake.failNext(503, { statusCode: 503, message: 'Service temporarily unavailable', name: 'application_error' });
    const v = await api<Obj>(c, 'POST', '/domains/verify');
    assert.equal(v.status, 502);
    assert.match(v.body.message, /Service temporarily unavailable/);
    assert.equal((await api<Obj>(c, 'GET', '/domains')).body.domain.status, 'not_started');
  });

  test('an unreachable Resend is a 502', async () => {
    const dead = await startFakeResend();
    const url = dead.url;
    await dead.close();
    const t2 = await startTestEngine({ env: { RESEND_BASE_URL: url } });
    try {
      await api<Obj>(t2, 'POST', '/byok', { provider: 'resend', api_key: 're_whatever' });
      const r = await api<Obj>(t2, 'POST', '/domains', { domain_name: 'x.example.com' });
      assert.equal(r.status, 502);
      assert.equal(r.body.code, 'upstream_unavailable');
      assert.match(r.body.message, /Unable to fetch data/);
    } finally {
      await t2.close();
    }
  });

  test('a Resend key that Resend refuses is 400 invalid_provider_key', async () => {
    const c = await org(true, 're_wrong_key');
    const r = await api<Obj>(c, 'POST', '/domains', { domain_name: 'x.example.com' });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_provider_key');
    assert.match(r.body.message, /API key is invalid/);
  });

  test('sync: list the Resend account, select one (alias domain_id), delete unlinks without removing it at Resend', async () => {
    const c = await org();
    const existing = fake.addDomain('news.example.org', { status: 'verified', region: 'us-east-1' });
    const list = await api<Obj>(c, 'GET', '/domains/sync');
    assert.equal(list.status, 200);
    assert.equal(list.body.selected_domain_id, null);
    assert.deepEqual(list.body.domains.find((x: Obj) => x.id === existing.id), { id: existing.id, name: 'news.example.org', status: 'verified', region: 'us-east-1' });
    for (const x of list.body.domains) assert.deepEqual(Object.keys(x).sort(), ['id', 'name', 'region', 'status']);

    const s = await api<Obj>(c, 'POST', '/domains/sync', { domain_id: existing.id });
    assert.equal(s.status, 200);
    assert.equal(s.body.message, 'Domain synced successfully from Resend');
    assert.equal(s.body.domain.resend_domain_id, existing.id);
    assert.equal(s.body.domain.domain_name, 'news.example.org');
    assert.equal(s.body.domain.status, 'verified');
    assert.equal(s.body.domain.records.length, 3);
    assert.equal((await api<Obj>(c, 'GET', '/domains/sync')).body.selected_domain_id, existing.id);

    const again = await api<Obj>(c, 'POST', '/domains/sync', { resendDomainId: existing.id });
    assert.equal(again.body.domain.id, s.body.domain.id, 'syncing the same domain keeps the record');

    const del = await api<Obj>(c, 'DELETE', '/domains');
    assert.equal(del.status, 200);
    assert.ok(fake.domains.has(existing.id), 'a synced domain stays in the Resend account');
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });
  });

  test('sync lists the whole Resend account, page by page', async () => {
    const own = await startFakeResend();
    const t2 = await startTestEngine({ env: { RESEND_BASE_URL: own.url } });
    try {
      for (let i = 0; i < 130; i++) own.addDomain(`d${i}.example.com`);
      await api<Obj>(t2, 'POST', '/byok', { provider: 'resend', api_key: own.apiKey });
      const r = await api<Obj>(t2, 'GET', '/domains/sync');
      assert.equal(r.status, 200);
      assert.equal(r.body.domains.length, 130);
      assert.equal(new Set(r.body.domains.map((d: Obj) => d.id)).size, 130);
      const lists = own.requests.filter((q) => q.method === 'GET' && q.path === '/domains');
      assert.equal(lists.length, 2);
    } finally {
      await t2.close();
      await own.close();
    }
  });

  test('sync validation and unknown Resend ids', async () => {
    const c = await org();
    const missing = await api<Obj>(c, 'POST', '/domains/sync', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'missing_field');
    assert.equal(missing.body.param, 'resendDomainId');
    const bad = await api<Obj>(c, 'POST', '/domains/sync', { resendDomainId: '../emails' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'resendDomainId');
    const unknown = await api<Obj>(c, 'POST', '/domains/sync', { resendDomainId: '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'not_found');
    assert.deepEqual((await api<Obj>(c, 'GET', '/domains')).body, { domain: null });
  });

  test('a domain is per organization: another key sees none and cannot touch it', async () => {
    const a = await org();
    await api<Obj>(a, 'POST', '/domains', { domain_name: 'private.example.com' });
    const b = await org();
    assert.deepEqual((await api<Obj>(b, 'GET', '/domains')).body, { domain: null });
    assert.equal((await api<Obj>(b, 'POST', '/domains/verify')).status, 404);
    assert.equal((await api<Obj>(b, 'DELETE', '/domains')).status, 404);
    assert.equal((await api<Obj>(a, 'GET', '/domains')).body.domain.domain_name, 'private.example.com');
  });

  test('the fake answers like Resend to bad or missing keys', async () => {
    const none = await fetch(`${fake.url}/domains`);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { statusCode: 401, message: 'Missing API key in the authorization header', name: 'missing_api_key' });
    const wrong = await fetch(`${fake.url}/domains`, { headers: { authorization: 'Bearer re_nope' } });
    assert.equal(wrong.status, 403);
    assert.deepEqual(await wrong.json(), { statusCode: 403, message: 'API key is invalid', name: 'invalid_api_key' });
  });
});
