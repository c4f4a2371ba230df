import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildAssistantRequest, buildEndOfCallReport, buildStatusUpdate, buildToolCalls, pipelineOf, toAssistantWebhookObject, type CallContext,
} from '../../../engine/webhooks/index.js';

const AT = new Date('2025-12-13T12:00:00.000Z');
const ctx: CallContext = {
  call: { id: 'call-_+31612345678_AbCdEf123456', type: 'inbound_phone_call', pipeline: 'standard' },
  phoneNumber: { id: '6f1c9a52-3d1e-4f7a-9a53-2b6f0f1f4c11', number: '+31850835037', name: 'Main Support Line' },
  customer: { number: '+31612345678' },
  assistant: { id: 'a1', name: 'Support', webhook_url: 'https://x', webhook_secret: 'shh', metadata: { crm_id: 9 }, llm_config: { provider: 'openai' } },
};
const common = {
  timestamp: '2025-12-13T12:00:00.000Z',
  phone_number: { id: '6f1c9a52-3d1e-4f7a-9a53-2b6f0f1f4c11', number: '+31850835037', name: 'Main Support Line' },
  customer: { number: '+31612345678' },
};
const asst = { id: 'a1', name: 'Support', webhook_url: 'https://x', metadata: { crm_id: 9 }, llm_config: { provider: 'openai' } };

describe('envelopes (spec §6.2–§6.6)', () => {
  test('assistant-request: ringing, no assistant', () => {
    assert.deepEqual(buildAssistantRequest(ctx, AT), {
      message: { type: 'assistant-request', ...common, call: { id: ctx.call.id, type: 'inbound_phone_call', status: 'ringing', pipeline: 'standard' } },
    });
  });
  test('tool-calls', () => {
    const calls = [{ id: 'tool_abc', type: 'function' as const, function: { name: 'lookup', arguments: { q: 1 } } }];
    assert.deepEqual(buildToolCalls(ctx, calls, AT), {
      message: { type: 'tool-calls', ...common, call: { id: ctx.call.id, type: 'inbound_phone_call', status: 'in-progress', pipeline: 'standard' }, assistant: asst, tool_call_list: calls },
    });
  });
  test('status-update: error only with ended-with-error, end_reason once ended', () => {
    assert.deepEqual(buildStatusUpdate(ctx, { status: 'in-progress' }, AT).message, {
      type: 'status-update', ...common, call: { id: ctx.call.id, type: 'inbound_phone_call', status: 'in-progress', pipeline: 'standard' }, assistant: asst,
    });
    const ended = buildStatusUpdate(ctx, { status: 'ended', endReason: 'user_hangup' }, AT).message;
    assert.equal(ended.end_reason, 'user_hangup');
    assert.equal('error' in ended, false);
    const err = buildStatusUpdate(ctx, { status: 'ended-with-error', error: 'STT connection failed', endReason: 'error' }, AT).message;
    assert.equal(err.call.status, 'ended-with-error');
    assert.equal(err.error, 'STT connection failed');
  });
  test('end-of-call-report: required fields always, optional ones only when present', () => {
    const min = buildEndOfCallReport(ctx, { durationSeconds: 0, summary: '', messages: [] }, AT).message;
    assert.deepEqual(min, {
      type: 'end-of-call-report', ...common, call: { id: ctx.call.id, type: 'inbound_phone_call', status: 'ended', pipeline: 'standard' },
      assistant: asst, duration_seconds: 0, summary: '', messages: [],
    });
    const full = buildEndOfCallReport(ctx, {
      durationSeconds: 41.6, summary: 'Booked.', messages: [{ role: 'assistant', content: 'Hi' }, { role: 'user', content: 'Hello' }],
      analysis: { sentiment: 8 }, recordingUrl: 'https://engine/api/v1/calls/x/recording', endReason: 'max_duration',
      startedAt: '2025-12-13T11:59:18.000Z', endedAt: '2025-12-13T12:00:00.000Z',
    }, AT).message;
    assert.equal(full.duration_seconds, 42);
    assert.deepEqual(full.analysis, { sentiment: 8 });
    assert.equal(full.recording_url, 'https://engine/api/v1/calls/x/recording');
    assert.equal(full.end_reason, 'max_duration');
    assert.equal(full.started_at, '2025-12-13T11:59:18.000Z');
    assert.equal(full.ended_at, '2025-12-13T12:00:00.000Z');
  });
  test('assistant object: secret removed, id null when transient, metadata defaults to {}', () => {
    assert.deepEqual(toAssistantWebhookObject({ name: 't', webhook_secret: 'x' }), { name: 't', id: null, metadata: {} });
  });
  test('pipeline from the LLM provider', () => {
    assert.equal(pipelineOf({ llm_config: { provider: 'xai_realtime' } }), 'realtime');
    assert.equal(pipelineOf({ llm_config: { provider: 'openai' } }), 'standard');
    assert.equal(pipelineOf({}), 'standard');
  });
});
