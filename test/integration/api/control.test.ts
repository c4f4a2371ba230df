import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import { callId } from '../../../engine/store/ids.js';
import type { CallStatus } from '../../../engine/store/repos/calls.js';
import type { ControlCommand, OutboundPlan, Telephony } from '../../../engine/api/deps.js';

type Obj = Record<string, any>;

/** Test double of the telephony boundary: records the commands the API hands over. */
class RecordingTelephony implements Telephony {
  readonly controls: { orgId: string; callId: string; command: ControlCommand }[] = [];
  async placeOutbound(_orgId: string, plan: OutboundPlan): Promise<{ callId: string }> {
    return { callId: callId(plan.destination) };
  }
  async control(orgId: string, id: string, command: ControlCommand): Promise<void> {
    this.controls.push({ orgId, callId: id, command });
  }
}

describe('call control API', () => {
  let t: TestEngine;
  let bare: TestEngine;
  let orgId: string;
  let clock = Date.UTC(2026, 2, 1, 12);
  const tel = new RecordingTelephony();

  before(async () => {
    t = await startTestEngine({ env: { API_RATE_LIMIT: '10000' }, parts: { telephony: tel, now: () => clock } });
    orgId = t.engine.store.apiKeys.findByKey(t.key)?.org_id as string;
    const cfg = join(t.dataDir, 'control-limit.json');
    writeFileSync(cfg, JSON.stringify({ api: { controlRateLimitPerMinute: 3 } }));
    bare = await startTestEngine({ env: { CONFIG_FILE: cfg } });
  });
  after(async () => {
    await bare.close();
    await t.close();
  });

  /** A call of the engine's default organization in the given status. */
  const liveCall = (status: CallStatus = 'in-progress', e: TestEngine = t): string => {
    const id = callId('+31612345678');
    const org = e.engine.store.apiKeys.findByKey(e.key)?.org_id as string;
    e.engine.store.calls.insert(org, { id, direction: 'inbound', status });
    return id;
  };
  const send = (id: string, body: unknown, e: TestEngine = t) => api<Obj>(e, 'POST', `/calls/${encodeURIComponent(id)}/control`, body);
  const lastCommand = () => tel.controls[tel.controls.length - 1];

  test('the four commands: 200 "Command sent successfully"; the command reaches telephony normalised', async () => {
    const id = liveCall();
    const cases: [Obj, ControlCommand][] = [
      [{ type: 'inject-context', content: 'Verification code: 4711', trigger_response: true }, { type: 'inject-context', content: 'Verification code: 4711', trigger_response: true }],
      [{ type: 'inject-context', content: 'VIP customer' }, { type: 'inject-context', content: 'VIP customer', trigger_response: false }],
      [{ type: 'say', content: 'One moment please', end_after: true }, { type: 'say', content: 'One moment please', end_after: true }],
      [{ type: 'say', content: 'Hi' }, { type: 'say', content: 'Hi', end_after: false }],
      [{ type: 'end-call' }, { type: 'end-call' }],
      [{ type: 'end-call', message: 'Goodbye' }, { type: 'end-call', message: 'Goodbye' }],
      [{ type: 'transfer', destination: '+31201234567', message: 'Transferring you now' }, { type: 'transfer', destination: '+31201234567', message: 'Transferring you now' }],
    ];
    for (const [body, expected] of cases) {
      const r = await send(id, body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { success: true, message: 'Command sent successfully' });
      assert.deepEqual(lastCommand(), { orgId, callId: id, command: expected });
    }
  });

  test('transfer destinations: E.164 or sip:/sips:/tel: URIs', async () => {
    const id = liveCall();
    for (const destination of ['sip:desk@pbx.example.com', 'sips:desk@pbx.example.com:5061;transport=tls', 'sip:192.0.2.5', 'tel:+31201234567', 'sip:100@[2001:db8::1]']) {
      const r = await send(id, { type: 'transfer', destination });
      assert.equal(r.status, 200, destination);
      assert.deepEqual(lastCommand()?.command, { type: 'transfer', destination });
    }
  });

  test('invalid commands: 400 invalid_request naming the field; nothing reaches telephony', async () => {
    const id = liveCall();
    const before = tel.controls.length;
    const cases: [unknown, string][] = [
      [{ type: 'dance' }, 'type'],
      [{ content: 'x' }, 'type'],
      [{ type: 'say' }, 'content'],
      [{ type: 'say', content: '   ' }, 'content'],
      [{ type: 'say', content: 5 }, 'content'],
      [{ type: 'say', content: 'x', end_after: 'yes' }, 'end_after'],
      [{ type: 'inject-context' }, 'content'],
      [{ type: 'inject-context', content: 'x', trigger_response: 1 }, 'trigger_response'],
      [{ type: 'end-call', message: 7 }, 'message'],
      [{ type: 'transfer' }, 'destination'],
      [{ type: 'transfer', destination: '0201234567' }, 'destination'],
      [{ type: 'transfer', destination: 'http://example.com' }, 'destination'],
      [{ type: 'transfer', destination: 'sip:' }, 'destination'],
      [['say'], 'body'],
    ];
    for (const [body, param] of cases) {
      const r = await send(id, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.code, 'invalid_request', JSON.stringify(body));
      assert.equal(r.body.type, 'invalid_request_error');
      assert.equal(r.body.param, param, JSON.stringify(body));
      assert.ok(Array.isArray(r.body.details) && r.body.details.length >= 1);
    }
    const both = await send(id, { type: 'say', content: 5, end_after: 'x' });
    assert.deepEqual(both.body.details.map((d: string) => d.split(' ')[0]), ['content', 'end_after']);
    assert.equal(tel.controls.length, before);
  });

  test('unknown and foreign calls are 404; calls not in progress are 400 call_not_active', async () => {
    const foreignOrg = t.engine.store.organizations.create({ name: 'Other', parent_org_id: null });
    const foreignId = callId('+31699999999');
    t.engine.store.calls.insert(foreignOrg.id, { id: foreignId, direction: 'inbound', status: 'in-progress' });
    for (const id of [foreignId, 'call-_+31600000000_AAAAAAAAAAAA']) {
      const r = await send(id, { type: 'end-call' });
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'not_found');
    }
    for (const status of ['connecting', 'ended', 'failed'] as const) {
      const r = await send(liveCall(status), { type: 'say', content: 'x' });
      assert.equal(r.status, 400, status);
      assert.equal(r.body.code, 'call_not_active');
      assert.match(r.body.message, new RegExp(status));
    }
  });

  test('429 after 10 commands per minute per call; other calls unaffected; a new window allows again', async () => {
    const id = liveCall();
    const otherCall = liveCall();
    for (let i = 0; i < 10; i++) assert.equal((await send(id, { type: 'inject-context', content: `c${i}` })).status, 200, `command ${i + 1}`);
    const r = await send(id, { type: 'inject-context', content: 'one too many' });
    assert.equal(r.status, 429);
    assert.equal(r.body.code, 'rate_limit_exceeded');
    assert.equal(r.body.type, 'rate_limit_error');
    assert.ok(Number.isInteger(r.body.retry_after) && r.body.retry_after >= 1 && r.body.retry_after <= 60);
    assert.equal(r.headers.get('retry-after'), String(r.body.retry_after));
    assert.ok(!tel.controls.some((c) => c.command.type === 'inject-context' && c.command.content === 'one too many'));
    assert.equal((await send(otherCall, { type: 'end-call' })).status, 200);
    clock += 60_000;
    assert.equal((await send(id, { type: 'end-call' })).status, 200);
  });

  test('without telephony: 503 telephony_unavailable after the checks; configured per-call limit; counts toward the key limit', async () => {
    const id = liveCall('in-progress', bare);
    assert.equal((await send(id, { type: 'nope' }, bare)).status, 400);
    assert.equal((await send('call-_+31600000000_AAAAAAAAAAAA', { type: 'end-call' }, bare)).status, 404);
    assert.equal((await send(liveCall('ended', bare), { type: 'end-call' }, bare)).body.code, 'call_not_active');
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await send(id, { type: 'say', content: 'hello' }, bare);
      assert.equal(r.status, 503);
      assert.equal(r.body.code, 'telephony_unavailable');
      assert.equal(r.body.error, 'Service Unavailable');
      remaining.push(Number(r.headers.get('x-ratelimit-remaining')));
    }
    assert.deepEqual(remaining, [remaining[0], (remaining[0] as number) - 1, (remaining[0] as number) - 2], 'each command counts toward the key limit');
    // api.controlRateLimitPerMinute = 3 from the config file
    assert.equal((await send(id, { type: 'say', content: 'hello' }, bare)).status, 429);
  });
});
