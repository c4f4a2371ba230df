import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAiCompatibleLlm } from '../../../engine/providers/openai/llm.js';
import { ProviderError, withRetry } from '../../../engine/providers/errors.js';
import type { LlmEvent, LlmRequest } from '../../../engine/providers/llm.js';
import { startFakeOpenAi } from '../../fakes/openai.js';

async function run(it: AsyncIterable<LlmEvent>): Promise<LlmEvent[]> {
  const out: LlmEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}
const text = (ev: LlmEvent[]): string => ev.map((e) => (e.type === 'text' ? e.delta : '')).join('');
const req: LlmRequest = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are a receptionist.' }, { role: 'user', content: 'Hi' }], temperature: 0.7 };

describe('OpenAI-compatible LLM against the fake', () => {
  test('streams text deltas, usage and done; sends temperature, max_completion_tokens, stream_options', async () => {
    const fake = await startFakeOpenAi({ script: { replies: [{ text: 'Hello! How can I help you today?' }] } });
    try {
      const llm = new OpenAiCompatibleLlm('openai', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      const ev = await run(llm.complete({ ...req, maxCompletionTokens: 200 }));
      assert.equal(text(ev), 'Hello! How can I help you today?');
      assert.ok(ev.filter((e) => e.type === 'text').length > 3, 'arrives in several deltas');
      const u = ev.find((e) => e.type === 'usage');
      assert.ok(u && u.type === 'usage' && u.usage.totalTokens === u.usage.promptTokens + u.usage.completionTokens && u.usage.completionTokens > 0);
      assert.deepEqual(ev.at(-1), { type: 'done', finishReason: 'stop' });
      const body = fake.requests[0]!;
      assert.equal(body.temperature, 0.7);
      assert.equal(body.max_completion_tokens, 200);
      assert.deepEqual(body.stream_options, { include_usage: true });
    } finally { await fake.close(); }
  });

  test('assembles streamed tool-call arguments, and a tool result round-trips', async () => {
    const fake = await startFakeOpenAi({
      script: { replies: [{ toolCalls: [{ name: 'book_table', arguments: { people: 2, time: '19:30', name: 'Ada Lovelace' } }, { name: 'end_call', arguments: {} }] }, { text: 'Booked.' }] },
    });
    try {
      const llm = new OpenAiCompatibleLlm('openai', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      const tools = [{ name: 'book_table', description: 'Book', parameters: { type: 'object', properties: { people: { type: 'integer' } } } }, { name: 'end_call' }];
      const ev = await run(llm.complete({ ...req, tools }));
      const calls = ev.flatMap((e) => (e.type === 'tool-call' ? [e.call] : []));
      assert.equal(calls.length, 2);
      assert.deepEqual(JSON.parse(calls[0]!.arguments), { people: 2, time: '19:30', name: 'Ada Lovelace' });
      assert.equal(calls[1]!.name, 'end_call');
      assert.match(calls[0]!.id, /^call_/);
      assert.deepEqual(ev.at(-1), { type: 'done', finishReason: 'tool_calls' });
      assert.equal(fake.requests[0]!.tools!.length, 2);
      const ev2 = await run(llm.complete({ ...req, tools, messages: [...req.messages, { role: 'assistant', content: null, toolCalls: calls }, { role: 'tool', toolCallId: calls[0]!.id, content: '{"ok":true}' }, { role: 'tool', toolCallId: calls[1]!.id, content: 'ok' }] }));
      assert.equal(text(ev2), 'Booked.');
    } finally { await fake.close(); }
  });

  test('429 and 500 are retryable, 401 is fatal; withRetry gets through a 429', async () => {
    const fake = await startFakeOpenAi({ script: { replies: [{ status: 429 }, { status: 500 }, { status: 429 }, { text: 'fine' }] } });
    try {
      const llm = new OpenAiCompatibleLlm('openai', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      await assert.rejects(run(llm.complete(req)), (e: unknown) => e instanceof ProviderError && e.code === 'rate_limited' && e.status === 429 && e.retryable);
      await assert.rejects(run(llm.complete(req)), (e: unknown) => e instanceof ProviderError && e.code === 'server' && e.retryable);
      let retries = 0;
      const ev = await withRetry(() => run(llm.complete(req)), { baseDelayMs: 1, onRetry: () => retries++ });
      assert.equal(text(ev), 'fine');
      assert.equal(retries, 1);
      const bad = new OpenAiCompatibleLlm('openai', { apiKey: 'nope', baseUrl: fake.baseUrl });
      let attempts = 0;
      await assert.rejects(withRetry(() => { attempts++; return run(bad.complete(req)); }, { baseDelayMs: 1 }), (e: unknown) => e instanceof ProviderError && e.code === 'auth' && !e.retryable);
      assert.equal(attempts, 1);
    } finally { await fake.close(); }
  });

  test('a mid-stream cut is a retryable network error after the deltas already given', async () => {
    const fake = await startFakeOpenAi({ script: { replies: [{ text: 'This reply will be cut off somewhere in the middle of it.', cutAfterChunks: 4 }] } });
    try {
      const llm = new OpenAiCompatibleLlm('openai', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      const got: LlmEvent[] = [];
      await assert.rejects((async () => { for await (const e of llm.complete(req)) got.push(e); })(), (e: unknown) => e instanceof ProviderError && e.code === 'network' && e.retryable);
      assert.ok(got.some((e) => e.type === 'text'));
      assert.ok(!got.some((e) => e.type === 'done'));
    } finally { await fake.close(); }
  });

  test('first-token timeout fires; abort closes the HTTP stream at once', async () => {
    const fake = await startFakeOpenAi({ script: { ttftMs: 2000 } });
    try {
      const llm = new OpenAiCompatibleLlm('openai', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      await assert.rejects(run(llm.complete({ ...req, firstTokenTimeoutMs: 100 })), (e: unknown) => e instanceof ProviderError && e.code === 'timeout' && e.retryable);
      fake.script.ttftMs = 0;
      fake.script.tokensPerSec = 20;
      fake.script.replies.push({ text: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen' });
      const ac = new AbortController();
      const got: LlmEvent[] = [];
      await assert.rejects((async () => {
        for await (const e of llm.complete(req, ac.signal)) { got.push(e); if (got.length === 2) ac.abort(); }
      })(), (e: unknown) => e instanceof ProviderError && e.code === 'aborted' && !e.retryable);
      const t0 = Date.now();
      while (fake.aborted < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      assert.equal(fake.aborted, 2, 'the server saw both clients go away');
      assert.equal(got.length, 2);
    } finally { await fake.close(); }
  });

  test('xai and mistral go through the same client; mistral gets max_tokens and no stream_options', async () => {
    const fake = await startFakeOpenAi({ script: { replies: [{ text: 'grok here' }, { text: 'mistral here' }] } });
    try {
      const x = new OpenAiCompatibleLlm('xai', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      assert.equal(text(await run(x.complete({ ...req, model: 'grok-4-1-fast-non-reasoning' }))), 'grok here');
      const m = new OpenAiCompatibleLlm('mistral', { apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      const ev = await run(m.complete({ ...req, model: 'mistral-small-latest', maxCompletionTokens: 50 }));
      assert.equal(text(ev), 'mistral here');
      assert.equal(fake.requests[1]!.max_tokens, 50);
      assert.equal(fake.requests[1]!.stream_options, undefined);
      assert.ok(!ev.some((e) => e.type === 'usage'), 'no include_usage, no usage chunk from this fake');
    } finally { await fake.close(); }
  });

  test('contract: the fake refuses what the API refuses', async () => {
    const fake = await startFakeOpenAi();
    try {
      const post = async (body: unknown, key = fake.apiKey): Promise<{ status: number; code: string | null }> => {
        const r = await fetch(`${fake.baseUrl}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const j = (await r.json()) as { error?: { code: string | null } };
        return { status: r.status, code: j.error?.code ?? null };
      };
      const ok = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
      assert.equal((await post(ok)).status, 200);
      assert.deepEqual(await post(ok, 'wrong'), { status: 401, code: 'invalid_api_key' });
      assert.equal((await post({ ...ok, temprature: 1 })).status, 400);
      assert.equal((await post({ ...ok, temperature: 3 })).status, 400);
      assert.equal((await post({ ...ok, stream_options: { include_usage: true } })).status, 400);
      assert.equal((await post({ model: 'gpt-4o-mini', messages: [] })).status, 400);
      assert.equal((await post({ model: 'gpt-4o-mini', messages: [{ role: 'tool', tool_call_id: 'x', content: 'r' }] })).status, 400);
      assert.equal((await post({ ...ok, tools: [{ type: 'function', function: { name: 'has space' } }] })).status, 400);
      assert.equal((await post({ ...ok, max_tokens: 5, max_completion_tokens: 5 })).status, 400);
      const r = await fetch(`${fake.baseUrl}/chat/completions`, { method: 'POST', body: '{}' });
      assert.equal(r.status, 401);
    } finally { await fake.close(); }
  });
});
