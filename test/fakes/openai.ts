// Fake OpenAI chat completions server (also stands in for xAI and Mistral text models).
// Follows: https://platform.openai.com/docs/api-reference/chat/create (request body)
//          https://platform.openai.com/docs/api-reference/chat-streaming (chunk objects, SSE
//          `data: {...}\n\n` framing, `data: [DONE]`, usage chunk with `choices: []` when
//          `stream_options.include_usage` is set, tool_calls fragments keyed by `index`)
//          https://platform.openai.com/docs/guides/error-codes (401/429/500 error bodies)
//
// Script API (`fake.script`, mutable at any time):
//   replies: (FakeReply | (body) => FakeReply)[]   consumed one per request, in order
//   fallback: FakeReply                             when replies run out (default text 'OK.')
//   ttftMs: delay before the first chunk            (default 0)
//   tokensPerSec: pace of content/argument chunks   (default 0 = no pacing)
// A FakeReply is { text?, toolCalls?: {name, arguments}[], status?: 429|500|..., cutAfterChunks?,
// finishReason? }: `status` answers with that HTTP error; `cutAfterChunks` destroys the socket
// after that many chunks (a mid-stream cut).
// Contract checks (400 with an OpenAI-shaped error unless noted): Bearer key (401
// invalid_api_key), unknown top-level fields, missing model/messages, bad roles, tool messages
// not answering a preceding assistant tool_calls id, temperature outside 0..2, stream_options
// without stream, both max_tokens and max_completion_tokens, malformed tool definitions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { delay, readBody, sendJson, serve } from './common.js';
import type { FakeServer } from './common.js';

export interface FakeToolCall { name: string; arguments: string | Record<string, unknown> }
export interface FakeReply {
  text?: string;
  toolCalls?: FakeToolCall[];
  status?: number;
  cutAfterChunks?: number;
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
}
export interface ChatBody {
  model: string;
  messages: { role: string; content?: unknown; tool_call_id?: string; tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[] }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
  temperature?: number;
  max_completion_tokens?: number;
  max_tokens?: number;
  [k: string]: unknown;
}
export interface FakeOpenAiScript {
  replies: (FakeReply | ((body: ChatBody) => FakeReply))[];
  fallback: FakeReply;
  ttftMs: number;
  tokensPerSec: number;
}
export interface FakeOpenAi extends FakeServer {
  /** Base URL for the SDK / `OPENAI_BASE_URL` (ends in /v1). */
  readonly baseUrl: string;
  readonly apiKey: string;
  script: FakeOpenAiScript;
  /** Bodies of accepted requests, in order. */
  readonly requests: ChatBody[];
  /** Number of requests whose client went away before the reply was complete. */
  readonly aborted: number;
  /** The HTTP handler, to mount the same chat API on another fake (xAI text beside realtime). */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

const KNOWN = new Set(['model', 'messages', 'stream', 'stream_options', 'tools', 'tool_choice', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'n', 'stop',
  'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'user', 'seed', 'response_format', 'parallel_tool_calls', 'metadata', 'store',
  'reasoning_effort', 'service_tier', 'modalities', 'audio', 'prediction', 'prompt_cache_key', 'safety_identifier', 'verbosity', 'web_search_options']);
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function err(message: string, type: string, code: string | null, param: string | null = null): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message, type, param, code } };
}

export function checkChatBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'We could not parse the JSON body of your request.';
  const b = body as ChatBody;
  for (const k of Object.keys(b)) if (!KNOWN.has(k)) return `Unrecognized request argument supplied: ${k}`;
  if (typeof b.model !== 'string' || !b.model) return "you must provide a model parameter";
  if (!Array.isArray(b.messages) || b.messages.length === 0) return "Invalid 'messages': empty array. Expected an array with minimum length 1.";
  const pendingIds = new Set<string>();
  for (const [i, m] of b.messages.entries()) {
    if (!m || !ROLES.has(m.role)) return `Invalid value for 'messages[${i}].role'`;
    if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string') return `Missing required parameter: 'messages[${i}].tool_call_id'.`;
      if (!pendingIds.has(m.tool_call_id)) return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      pendingIds.delete(m.tool_call_id);
    } else {
      if (pendingIds.size > 0) return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pendingIds].join(', ')}`;
    }
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      for (const tc of m.tool_calls) {
        if (typeof tc.id !== 'string' || tc.type !== 'function' || typeof tc.function?.name !== 'string' || typeof tc.function?.arguments !== 'string') return `Invalid 'messages[${i}].tool_calls'`;
        pendingIds.add(tc.id);
      }
    } else if (m.role !== 'assistant' && typeof m.content !== 'string' && !Array.isArray(m.content)) return `Invalid type for 'messages[${i}].content'`;
  }
  if (b.temperature !== undefined && (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 2)) return "Invalid 'temperature': must be between 0 and 2.";
  if (b.stream_options !== undefined && b.stream !== true) return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
  if (b.max_tokens !== undefined && b.max_completion_tokens !== undefined) return "max_tokens and max_completion_tokens cannot both be set";
  for (const k of ['max_tokens', 'max_completion_tokens'] as const) if (b[k] !== undefined && (!Number.isInteger(b[k]) || (b[k] as number) < 1)) return `Invalid '${k}'`;
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return "Invalid 'tools'";
    for (const [i, t] of b.tools.entries()) {
      if (t?.type !== 'function' || typeof t.function?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.function.name)) return `Invalid 'tools[${i}]'`;
      const p = t.function.parameters as { type?: unknown } | undefined;
      if (p !== undefined && (typeof p !== 'object' || p === null || p.type !== 'object')) return `Invalid schema for function '${t.function.name}'`;
    }
  }
  return undefined;
}

/** Splits text the way a tokenizer roughly would: words with their trailing space, long words in 4-char pieces. */
export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const w of text.match(/\s*\S+\s*/g) ?? []) for (let i = 0; i < w.length; i += 6) out.push(w.slice(i, i + 6));
  return out;
}

export async function startFakeOpenAi(opts: { apiKey?: string; script?: Partial<FakeOpenAiScript> } = {}): Promise<FakeOpenAi> {
  const apiKey = opts.apiKey ?? 'test-openai-key';
  const script: FakeOpenAiScript = { replies: [], fallback: { text: 'OK.' }, ttftMs: 0, tokensPerSec: 0, ...opts.script };
  const requests: ChatBody[] = [];
  let aborted = 0;
  const fake = {} as FakeOpenAi;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') return sendJson(res, 404, err(`Invalid URL (${req.method} ${url.pathname})`, 'invalid_request_error', null));
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return sendJson(res, 401, err("You didn't provide an API key.", 'invalid_request_error', null));
    if (auth.slice(7) !== apiKey) return sendJson(res, 401, err('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    let body: ChatBody;
    try { body = JSON.parse(await readBody(req)) as ChatBody; } catch { return sendJson(res, 400, err('We could not parse the JSON body of your request.', 'invalid_request_error', null)); }
    const problem = checkChatBody(body);
    if (problem) return sendJson(res, 400, err(problem, 'invalid_request_error', null));
    requests.push(body);
    const next = fake.script.replies.shift();
    const reply: FakeReply = next === undefined ? fake.script.fallback : typeof next === 'function' ? next(body) : next;
    if (reply.status) {
      if (reply.status === 429) return sendJson(res, 429, err('Rate limit reached for requests', 'requests', 'rate_limit_exceeded'), { 'retry-after': '1' });
      return sendJson(res, reply.status, err('The server had an error while processing your request.', 'server_error', null));
    }
    const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, object: 'chat.completion.chunk', created, model: body.model, service_tier: 'default', system_fingerprint: 'fp_fake0001' };
    const toolCalls = (reply.toolCalls ?? []).map((t, i) => ({ id: `call_${randomBytes(9).toString('base64url')}`, index: i, name: t.name, args: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments) }));
    const text = reply.text ?? (toolCalls.length ? '' : 'OK.');
    const finish = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
    const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    const completionPieces = tokens(text).length + toolCalls.reduce((n, t) => n + tokens(t.args).length + 1, 0);

    if (body.stream !== true) {
      const message: Record<string, unknown> = { role: 'assistant', content: text || null, refusal: null, annotations: [] };
      if (toolCalls.length) message.tool_calls = toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.args } }));
      await delay(fake.script.ttftMs);
      return sendJson(res, 200, { id, object: 'chat.completion', created, model: body.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionPieces, total_tokens: promptTokens + completionPieces }, service_tier: 'default', system_fingerprint: 'fp_fake0001' });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': `req_${randomBytes(8).toString('hex')}` });
    let gone = false;
    res.on('close', () => { if (!res.writableFinished) { gone = true; aborted++; } });
    const includeUsage = body.stream_options?.include_usage === true;
    let sent = 0;
    const emit = async (chunk: Record<string, unknown>, paced: boolean): Promise<boolean> => {
      if (gone) return false;
      if (reply.cutAfterChunks !== undefined && sent >= reply.cutAfterChunks) { gone = true; res.socket?.end(); return false; }
      if (paced && fake.script.tokensPerSec > 0 && sent > 0) await delay(1000 / fake.script.tokensPerSec);
      if (gone) return false;
      res.write(`data: ${JSON.stringify({ ...base, ...chunk, ...(includeUsage ? { usage: null } : {}) })}\n\n`);
      sent++;
      return true;
    };
    await delay(fake.script.ttftMs);
    const choice = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    if (!(await emit(choice({ role: 'assistant', content: toolCalls.length && !text ? null : '', refusal: null }), false))) return;
    for (const t of tokens(text)) if (!(await emit(choice({ content: t }), true))) return;
    for (const t of toolCalls) {
      if (!(await emit(choice({ tool_calls: [{ index: t.index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }), true))) return;
      for (const piece of tokens(t.args)) if (!(await emit(choice({ tool_calls: [{ index: t.index, function: { arguments: piece } }] }), true))) return;
    }
    if (!(await emit(choice({}, finish), false))) return;
    if (includeUsage) {
      if (gone) return;
      res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionPieces, total_tokens: promptTokens + completionPieces,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } } })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => { handle(req, res).catch(() => { if (!res.headersSent) sendJson(res, 500, err('fake failure', 'server_error', null)); else res.destroy(); }); };
  const srv = await serve({ http: handler });
  Object.defineProperty(fake, 'aborted', { get: () => aborted });
  return Object.assign(fake, srv, { baseUrl: `${srv.url}/v1`, apiKey, script, requests, handler });
}
