import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAssistantRequest, requestAssistant, type AssistantRequestResult, type JsonObject } from '../../../engine/webhooks/index.js';
import { Receiver, header, type Reply } from './receiver.js';
import { context } from './helpers.js';

describe('requestAssistant against a real receiver', () => {
  let rx: Receiver;
  let reply: Reply = { status: 200, body: {} };
  before(async () => {
    rx = await Receiver.start();
    rx.secret('/ar', 'whsec_ar').respond(() => reply);
  });
  after(() => rx.close());

  const ctx = context('call-_+31612345678_abcdefABCDEF', {});
  const ask = (r: Reply, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AssistantRequestResult> => {
    reply = r;
    return requestAssistant({
      target: { url: rx.url + '/ar', secret: 'whsec_ar', source: 'organization' }, payload: buildAssistantRequest(ctx), allowHttp: true, ...opts,
    });
  };

  test('the request: signed, ringing, no assistant block, never retried', async () => {
    const before = rx.received.length;
    await ask({ status: 500 });
    assert.equal(rx.received.length, before + 1);
    const r = rx.received.at(-1)!;
    assert.deepEqual(r.verified, { ok: true });
    assert.equal(header(r, 'x-webhook-event'), 'assistant-request');
    assert.equal(header(r, 'x-webhook-attempt'), '1');
    const m = (r.json as { message: JsonObject }).message;
    assert.equal(m.type, 'assistant-request');
    assert.deepEqual(m.call, { id: ctx.call.id, type: 'inbound_phone_call', status: 'ringing', pipeline: 'standard' });
    assert.deepEqual(m.phone_number, ctx.phoneNumber);
    assert.deepEqual(m.customer, { number: '+31612345678' });
    assert.equal('assistant' in m, false);
    assert.match(m.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('form 1: {} uses the saved assistant', async () => {
    assert.deepEqual(await ask({ body: {} }), { type: 'use-saved', maxDurationSeconds: null });
  });

  test('form 2: {"assistant"} is a transient config', async () => {
    const assistant = { llm_config: { provider: 'openai', model: 'gpt-4o-mini' }, metadata: { ticket: 'T-1' } };
    assert.deepEqual(await ask({ body: { assistant } }), { type: 'transient', assistant, maxDurationSeconds: null });
  });

  test('form 3: assistant_id + assistant_override is hybrid', async () => {
    const body = { assistant_id: '0b6f2a1e-8f5c-4a8e-9d3b-7c1e2f3a4b5c', assistant_override: { first_message: 'Hoi!' } };
    assert.deepEqual(await ask({ body }), {
      type: 'hybrid', assistantId: body.assistant_id, override: { first_message: 'Hoi!' }, maxDurationSeconds: null,
    });
  });

  test('form 4: max_duration_seconds alone and combined', async () => {
    assert.deepEqual(await ask({ body: { max_duration_seconds: 300 } }), { type: 'use-saved', maxDurationSeconds: 300 });
    const r = await ask({ body: { assistant: { name: 'x' }, max_duration_seconds: 120 } });
    assert.deepEqual(r, { type: 'transient', assistant: { name: 'x' }, maxDurationSeconds: 120 });
  });

  test('form 5: {"error"} rejects the call with that text', async () => {
    assert.deepEqual(await ask({ body: { error: 'Sorry, we are currently closed.' } }), {
      type: 'reject', error: 'Sorry, we are currently closed.', maxDurationSeconds: null,
    });
  });

  test('timeout → failed', async () => {
    const r = await ask({ body: {}, delayMs: 30_000 }, { timeoutMs: 300 });
    assert.equal(r.type, 'failed');
    assert.equal(r.type === 'failed' && r.reason, 'timeout');
  });

  test('non-2xx → failed', async () => {
    const r = await ask({ status: 503, body: { assistant: { name: 'ignored' } } });
    assert.deepEqual(r, { type: 'failed', reason: 'http_status', detail: 'HTTP 503' });
  });

  test('bad JSON → failed', async () => {
    const r = await ask({ status: 200, body: '{"assistant": ' });
    assert.equal(r.type, 'failed');
    assert.equal(r.type === 'failed' && r.reason, 'bad_response');
  });

  test('connection refused → failed (network)', async () => {
    const dead = await Receiver.start();
    await dead.close();
    const r = await requestAssistant({
      target: { url: dead.url + '/ar', secret: null, source: 'assistant' }, payload: buildAssistantRequest(ctx), allowHttp: true,
    });
    assert.equal(r.type === 'failed' && r.reason, 'network');
  });

  test('the caller hanging up aborts the wait', async () => {
    const ac = new AbortController();
    const p = ask({ body: {}, delayMs: 30_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await p;
    assert.equal(r.type === 'failed' && r.reason, 'aborted');
  });
});
