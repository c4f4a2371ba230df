import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import { startFakeResend, type FakeResend } from '../../fakes/resend.js';
import { emailCallSummary } from '../../../engine/call/notify.js';

type Obj = Record<string, any>;

describe('end-of-call summary e-mail through the verified Resend domain', () => {
  let t: TestEngine;
  let resend: FakeResend;
  let orgId: string;
  before(async () => {
    resend = await startFakeResend({ apiKey: 're_test_key' });
    t = await startTestEngine({ env: { RESEND_BASE_URL: resend.url } });
    orgId = (await api<Obj>(t, 'GET', '/organizations')).body.id;
  });
  after(async () => {
    await t.close();
    await resend.close();
  });

  const call = () => t.engine.store.calls.insert(orgId, {
    id: `call-_+31612345678_${Math.random().toString(36).slice(2, 14)}`, direction: 'inbound', status: 'ended', caller_phone: '+31612345678',
    assistant_phone: '+31850835037', end_reason: 'user_hangup', duration_seconds: 42, summary: 'The caller booked a table.',
    messages: [{ role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'A table for two.' }],
  });
  const assistant = { name: 'Front desk', notification_email: 'owner@example.com', notification_emails: ['ops@example.com', 'owner@example.com'] };

  test('not sent (with the reason) without a key or a verified domain', async () => {
    const log = pino({ level: 'silent' });
    const r1 = await emailCallSummary({ store: t.engine.store, config: t.engine.config, log, orgId, assistant, call: call() });
    assert.deepEqual(r1, { sent: false, reason: 'no verified sending domain (POST /domains, then verify)' });
    assert.equal(resend.emails.length, 0);
  });

  test('sent from the verified domain to every address, with summary and transcript', async () => {
    assert.equal((await api<Obj>(t, 'POST', '/byok', { provider: 'resend', api_key: 're_test_key' })).status, 200);
    assert.equal((await api<Obj>(t, 'POST', '/domains', { domain_name: 'mail.example.com' })).status, 201);
    await api<Obj>(t, 'POST', '/domains/verify');
    const refreshed = await api<Obj>(t, 'POST', '/domains/refresh');
    assert.equal(refreshed.body.domain.status, 'verified');
    const r = await emailCallSummary({ store: t.engine.store, config: t.engine.config, log: pino({ level: 'silent' }), orgId, assistant, call: call() });
    assert.equal(r.sent, true);
    const mail = resend.emails.at(-1);
    assert.equal(mail?.from, 'Front desk <notifications@mail.example.com>');
    assert.deepEqual(mail?.to, ['ops@example.com', 'owner@example.com']);
    assert.match(mail?.text ?? '', /The caller booked a table\./);
    assert.match(mail?.text ?? '', /Caller: A table for two\./);
  });
});
