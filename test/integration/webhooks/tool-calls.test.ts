import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { callTools, type AsyncToolOutcome, type JsonObject, type ToolCallResult } from '../../../engine/webhooks/index.js';
import { Receiver, header, type Received, type Reply } from './receiver.js';
import { context, until } from './helpers.js';

const msg = (r: Received): JsonObject => (r.json as { message: JsonObject }).message;
const list = (r: Received): { id: string; type: string; function: { name: string; arguments: JsonObject } }[] =>
  msg(r).tool_call_list as { id: string; type: string; function: { name: string; arguments: JsonObject } }[];

describe('callTools against a real receiver', () => {
  let rx: Receiver;
  let replies: Record<string, (r: Received) => Reply> = {};
  before(async () => {
    rx = await Receiver.start();
    rx.secret('/assistant', 'whsec_asst').secret('/crm', 'whsec_crm');
    rx.respond((r) => replies[r.path]?.(r) ?? { status: 200, body: { result: 'default' } });
  });
  after(() => rx.close());

  const assistant = (): JsonObject => ({
    id: 'c0ffee00-0000-4000-8000-000000000001', name: 'Agent', webhook_url: rx.url + '/assistant', webhook_secret: 'whsec_asst',
    metadata: { tenant: 7 },
    llm_config: {
      provider: 'openai', model: 'gpt-4o-mini',
      tools: [
        { name: 'lookup', description: 'find a customer' },
        { name: 'weather', description: 'weather', parameters: { type: 'object' } },
        { type: 'function', function: { name: 'crm_note', description: 'add a note' }, server: { url: rx.url + '/crm', secret: 'whsec_crm' } },
        { name: 'crm_flat', description: 'flat url, no secret', url: rx.url + '/crm-flat' },
        { name: 'notify', description: 'fire and forget', url: rx.url + '/async', async: true, message: 'I will let them know.' },
        { name: 'notify_quiet', description: 'fire and forget', url: rx.url + '/async', async: true },
        { type: 'end_call' },
      ],
    },
  });
  const run = (calls: { id: string; name: string; arguments: JsonObject | string }[], extra: { timeoutMs?: number; onAsyncSettled?: (o: AsyncToolOutcome) => void } = {}): Promise<ToolCallResult[]> =>
    callTools({ calls, context: context('call-tools', assistant()), org: null, allowHttp: true, ...extra });

  test('format 1 ({results}) with several calls in one request to the assistant webhook', async () => {
    const n = rx.on('/assistant').length;
    replies['/assistant'] = (r) => ({
      body: { results: list(r).map((c) => ({ tool_call_id: c.id, result: c.function.name === 'lookup' ? { name: 'Ada', vip: true } : 'sunny' })) },
    });
    const res = await run([
      { id: 'tool_1', name: 'lookup', arguments: '{"phone":"+31612345678"}' },
      { id: 'tool_2', name: 'weather', arguments: { city: 'Utrecht' } },
    ]);
    assert.equal(rx.on('/assistant').length, n + 1, 'one webhook for both calls');
    const r = rx.on('/assistant').at(-1)!;
    assert.deepEqual(r.verified, { ok: true });
    assert.equal(header(r, 'x-webhook-event'), 'tool-calls');
    const m = msg(r);
    assert.equal((m.call as JsonObject).status, 'in-progress');
    assert.equal((m.assistant as JsonObject).webhook_secret, undefined);
    assert.deepEqual((m.assistant as JsonObject).metadata, { tenant: 7 });
    assert.deepEqual(list(r), [
      { id: 'tool_1', type: 'function', function: { name: 'lookup', arguments: { phone: '+31612345678' } } },
      { id: 'tool_2', type: 'function', function: { name: 'weather', arguments: { city: 'Utrecht' } } },
    ]);
    assert.deepEqual(res, [
      { type: 'ok', toolCallId: 'tool_1', name: 'lookup', async: false, content: '{"name":"Ada","vip":true}' },
      { type: 'ok', toolCallId: 'tool_2', name: 'weather', async: false, content: 'sunny' },
    ]);
  });

  test('format 1: an unmatched id gets an error result; an entry with only error is a tool error', async () => {
    replies['/assistant'] = () => ({ body: { results: [{ tool_call_id: 'tool_b', error: 'Contact not found' }, { tool_call_id: 'other', result: 1 }] } });
    const res = await run([{ id: 'tool_a', name: 'lookup', arguments: {} }, { id: 'tool_b', name: 'weather', arguments: {} }]);
    assert.equal(res[0]?.type, 'error');
    assert.equal(res[0]?.type === 'error' && res[0].code, 'missing_result');
    assert.equal(res[0]?.content, 'Tool lookup failed: no result for tool_call_id tool_a');
    assert.deepEqual(res[1], { type: 'error', toolCallId: 'tool_b', name: 'weather', async: false, code: 'tool_error', content: 'Tool weather failed: Contact not found' });
  });

  test('format 2 ({result})', async () => {
    replies['/assistant'] = () => ({ body: { result: { balance: 12.5 } } });
    const [r] = await run([{ id: 't2', name: 'lookup', arguments: {} }]);
    assert.deepEqual(r, { type: 'ok', toolCallId: 't2', name: 'lookup', async: false, content: '{"balance":12.5}' });
  });

  test('format 3 (direct value): any other JSON is the result itself', async () => {
    replies['/assistant'] = () => ({ body: { balance: 3, result: 'not alone' } });
    const [a] = await run([{ id: 't3', name: 'lookup', arguments: {} }]);
    assert.equal(a?.content, '{"balance":3,"result":"not alone"}');
    replies['/assistant'] = () => ({ body: '"plain string"' });
    const [b] = await run([{ id: 't3b', name: 'lookup', arguments: {} }]);
    assert.equal(b?.content, 'plain string');
    replies['/assistant'] = () => ({ body: '[1,2]' });
    const [c] = await run([{ id: 't3c', name: 'lookup', arguments: {} }]);
    assert.equal(c?.content, '[1,2]');
  });

  test('format 4 ({error}) is a tool error', async () => {
    replies['/assistant'] = () => ({ body: { error: 'Contact not found' } });
    const [r] = await run([{ id: 't4', name: 'lookup', arguments: {} }]);
    assert.deepEqual(r, { type: 'error', toolCallId: 't4', name: 'lookup', async: false, code: 'tool_error', content: 'Tool lookup failed: Contact not found' });
  });

  test('grouping by URL: tool URLs win over the assistant webhook, each signed with its own level secret', async () => {
    const before = { a: rx.on('/assistant').length, crm: rx.on('/crm').length, flat: rx.on('/crm-flat').length };
    replies['/assistant'] = () => ({ body: { result: 'from assistant' } });
    replies['/crm'] = () => ({ body: { result: 'from crm' } });
    replies['/crm-flat'] = () => ({ body: { result: 'from flat' } });
    const res = await run([
      { id: 'g1', name: 'crm_note', arguments: { text: 'a' } },
      { id: 'g2', name: 'lookup', arguments: {} },
      { id: 'g3', name: 'crm_note', arguments: { text: 'b' } },
      { id: 'g4', name: 'crm_flat', arguments: {} },
    ]);
    assert.deepEqual(res.map((r) => r.content), ['from crm', 'from assistant', 'from crm', 'from flat']);
    assert.equal(rx.on('/crm').length, before.crm + 1);
    assert.equal(rx.on('/assistant').length, before.a + 1);
    assert.equal(rx.on('/crm-flat').length, before.flat + 1);
    const crm = rx.on('/crm').at(-1)!;
    assert.deepEqual(crm.verified, { ok: true }, 'signed with server.secret');
    assert.deepEqual(list(crm).map((c) => c.id), ['g1', 'g3']);
    assert.equal(header(rx.on('/crm-flat').at(-1)!, 'x-webhook-signature'), undefined, 'a tool URL without its own secret is unsigned');
  });

  test('async tools return their message (or "OK") at once; the webhook goes out in the background', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    replies['/async'] = () => ({ status: 200, delayMs: 300 });
    const settledList: AsyncToolOutcome[] = [];
    const before = rx.on('/async').length;
    const res = await run(
      [{ id: 'as1', name: 'notify', arguments: { to: 'ops' } }, { id: 'as2', name: 'notify_quiet', arguments: {} }],
      { onAsyncSettled: (o) => { settledList.push(o); release(); } },
    );
    assert.equal(settledList.length, 0, 'results came before the receiver answered');
    assert.deepEqual(res, [
      { type: 'ok', toolCallId: 'as1', name: 'notify', async: true, content: 'I will let them know.' },
      { type: 'ok', toolCallId: 'as2', name: 'notify_quiet', async: true, content: 'OK' },
    ]);
    await gate;
    assert.deepEqual(settledList, [{ url: rx.url + '/async', toolCallIds: ['as1', 'as2'], ok: true, detail: 'HTTP 200' }]);
    await until(() => rx.on('/async').length === before + 1, 'async webhook');
    assert.deepEqual(list(rx.on('/async').at(-1)!).map((c) => c.id), ['as1', 'as2']);
  });

  test('timeout, non-2xx, unknown tools and bad arguments become error results', async () => {
    replies['/assistant'] = () => ({ body: { result: 'late' }, delayMs: 30_000 });
    replies['/crm'] = () => ({ status: 502 });
    const res = await run([
      { id: 'e1', name: 'lookup', arguments: {} },
      { id: 'e2', name: 'crm_note', arguments: {} },
      { id: 'e3', name: 'no_such_tool', arguments: {} },
      { id: 'e4', name: 'end_call', arguments: {} },
      { id: 'e5', name: 'crm_flat', arguments: '{not json' },
    ], { timeoutMs: 1_000 });
    assert.deepEqual(res.map((r) => (r.type === 'error' ? r.code : 'ok')), ['timeout', 'http_status', 'unknown_tool', 'unknown_tool', 'bad_arguments']);
    assert.equal(res[0]?.content, 'Tool lookup failed: no answer within 1000 ms');
    assert.equal(res[1]?.content, 'Tool crm_note failed: HTTP 502');
  });

  test('no URL at any level, or tool-calls filtered out → error result without a request', async () => {
    const n = rx.received.length;
    const a = { ...assistant(), webhook_url: null };
    const [r1] = await callTools({ calls: [{ id: 'n1', name: 'lookup', arguments: {} }], context: context('c', a), org: null, allowHttp: true });
    assert.equal(r1?.type === 'error' && r1.code, 'no_webhook');
    const b = { ...assistant(), webhook_events: ['status-update'] };
    const [r2] = await callTools({ calls: [{ id: 'n2', name: 'lookup', arguments: {} }], context: context('c', b), org: null, allowHttp: true });
    assert.equal(r2?.type === 'error' && r2.code, 'no_webhook');
    assert.equal(rx.received.length, n);
  });
});
