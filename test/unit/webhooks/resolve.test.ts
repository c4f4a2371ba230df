import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventEnabled, findWebhookTool, resolveWebhook, toWebhookTool } from '../../../engine/webhooks/index.js';

const ORG = { webhook_url: 'https://org.example/hook', webhook_secret: 'org-secret' };
const ASST = { id: 'a', webhook_url: 'https://asst.example/hook', webhook_secret: 'asst-secret', webhook_events: null };

describe('resolveWebhook (spec §5)', () => {
  test('assistant URL and secret before the organization', () => {
    assert.deepEqual(resolveWebhook({ event: 'status-update', assistant: ASST, org: ORG }), { url: 'https://asst.example/hook', secret: 'asst-secret', source: 'assistant' });
  });
  test('organization when the assistant has no URL — with the organization secret, not the assistant one', () => {
    assert.deepEqual(resolveWebhook({ event: 'end-of-call-report', assistant: { ...ASST, webhook_url: null }, org: ORG }),
      { url: 'https://org.example/hook', secret: 'org-secret', source: 'organization' });
    assert.deepEqual(resolveWebhook({ event: 'assistant-request', assistant: null, org: ORG }),
      { url: 'https://org.example/hook', secret: 'org-secret', source: 'organization' });
  });
  test('a URL without a secret resolves unsigned', () => {
    assert.deepEqual(resolveWebhook({ event: 'status-update', assistant: { webhook_url: 'https://x/y' }, org: ORG }), { url: 'https://x/y', secret: null, source: 'assistant' });
  });
  test('nothing configured → null', () => {
    assert.equal(resolveWebhook({ event: 'status-update', assistant: {}, org: { webhook_url: null, webhook_secret: 'unused' } }), null);
    assert.equal(resolveWebhook({ event: 'status-update', assistant: null, org: null }), null);
  });
  test('tool URL first for tool-calls, with the tool secret only', () => {
    const withSecret = toWebhookTool({ name: 't', server: { url: 'https://tool/s', secret: 'tool-secret' } });
    const flat = toWebhookTool({ name: 't', url: 'https://tool/flat' });
    assert.deepEqual(resolveWebhook({ event: 'tool-calls', assistant: ASST, org: ORG, tool: withSecret }), { url: 'https://tool/s', secret: 'tool-secret', source: 'tool' });
    assert.deepEqual(resolveWebhook({ event: 'tool-calls', assistant: ASST, org: ORG, tool: flat }), { url: 'https://tool/flat', secret: null, source: 'tool' });
    const noUrl = toWebhookTool({ name: 't' });
    assert.equal(resolveWebhook({ event: 'tool-calls', assistant: ASST, org: ORG, tool: noUrl })?.source, 'assistant');
  });
  test('webhook_events filters assistant and organization levels, not a tool URL', () => {
    const a = { ...ASST, webhook_events: ['end-of-call-report', 'tool-calls'] };
    assert.equal(resolveWebhook({ event: 'status-update', assistant: a, org: ORG }), null);
    assert.equal(resolveWebhook({ event: 'status-update', assistant: { ...a, webhook_url: null }, org: ORG }), null);
    assert.equal(resolveWebhook({ event: 'end-of-call-report', assistant: a, org: ORG })?.source, 'assistant');
    const b = { ...ASST, webhook_events: ['status-update'] };
    assert.equal(resolveWebhook({ event: 'tool-calls', assistant: b, org: ORG, tool: toWebhookTool({ name: 't', url: 'https://t' }) })?.source, 'tool');
    assert.equal(resolveWebhook({ event: 'tool-calls', assistant: b, org: ORG, tool: toWebhookTool({ name: 't' }) }), null);
  });
  test('null or empty webhook_events means all four', () => {
    for (const ev of [null, [], undefined]) {
      for (const e of ['assistant-request', 'tool-calls', 'status-update', 'end-of-call-report'] as const) assert.equal(eventEnabled({ webhook_events: ev }, e), true);
    }
  });
});

describe('tools', () => {
  test('flat, OpenAI-style and built-in shapes', () => {
    assert.deepEqual(toWebhookTool({ name: 'a', description: 'd', url: 'https://u', server: { url: 'https://s', secret: 'x' }, async: true, async_response: 'wait' }),
      { name: 'a', url: 'https://u', secret: 'x', async: true, message: 'wait' });
    assert.deepEqual(toWebhookTool({ type: 'function', function: { name: 'b', parameters: {} }, server: { url: 'https://s' } }),
      { name: 'b', url: 'https://s', secret: null, async: false, message: null });
    assert.equal(toWebhookTool({ type: 'end_call' }), null);
    assert.equal(toWebhookTool({ type: 'transfer_call', destinations: [] }), null);
    assert.equal(toWebhookTool('nope'), null);
  });
  test('findWebhookTool looks in llm_config.tools', () => {
    const a = { llm_config: { tools: [{ type: 'end_call' }, { name: 'x', message: 'one moment' }] } };
    assert.equal(findWebhookTool(a, 'x')?.message, 'one moment');
    assert.equal(findWebhookTool(a, 'end_call'), null);
    assert.equal(findWebhookTool({}, 'x'), null);
  });
});
