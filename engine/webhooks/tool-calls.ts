/**
 * `tool-calls` (spec §6.4): the model's function-tool calls of one turn go to their webhooks
 * synchronously (10 s), one request per resolved URL carrying all of that URL's calls. Async tools
 * are sent in the background and answered at once with their `message` (or "OK"). Never retried,
 * never through the outbox. Every call gets a text result for the LLM; failures become
 * `Tool <name> failed: <reason>` so the model can carry on.
 */
import { randomUUID } from 'node:crypto';
import { buildToolCalls, type CallContext, type JsonObject, type ToolCall } from './envelope.js';
import { WebhookError, type WebhookErrorCode } from './errors.js';
import { findWebhookTool, resolveWebhook, type OrgWebhook, type ResolvedWebhook, type WebhookTool } from './resolve.js';
import { attempt, describeStatus, isSuccess, type FetchFn } from './transport.js';

export const TOOL_CALL_TIMEOUT_MS = 10_000;

/** One function call as the LLM produced it; `arguments` may still be the model's JSON text. */
export interface ToolInvocation {
  id: string;
  name: string;
  arguments: JsonObject | string;
}

export type ToolErrorCode =
  | WebhookErrorCode
  | 'unknown_tool' // not a webhook tool of this assistant
  | 'no_webhook' // no URL at any level, or tool-calls excluded by webhook_events
  | 'bad_arguments' // arguments are not a JSON object
  | 'tool_error' // the receiver answered {"error": "..."}
  | 'missing_result'; // format 1 without an entry for this tool_call_id

export type ToolCallResult =
  | { type: 'ok'; toolCallId: string; name: string; async: boolean; /** Text for the LLM. */ content: string }
  | { type: 'error'; toolCallId: string; name: string; async: boolean; code: ToolErrorCode; /** `Tool <name> failed: <reason>`. */ content: string };

/** How a background (async) tool request ended. */
export interface AsyncToolOutcome {
  url: string;
  toolCallIds: string[];
  ok: boolean;
  detail: string;
}

export interface CallToolsOptions {
  calls: ToolInvocation[];
  /** The call's context; `assistant` is the resolved config whose `llm_config.tools` defines the tools. */
  context: CallContext;
  org: OrgWebhook | null;
  allowHttp: boolean;
  /** Sync deadline and the async background deadline. Default 10 s. */
  timeoutMs?: number;
  /** Aborts sync requests (e.g. barge-in or hang-up); background async requests run on. */
  signal?: AbortSignal;
  fetch?: FetchFn;
  now?: () => number;
  onAsyncSettled?: (o: AsyncToolOutcome) => void;
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A tool result as the LLM sees it: strings verbatim, everything else as JSON. */
export function resultText(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v === undefined ? null : v) ?? 'null';
}

const failure = (c: { id: string; name: string }, code: ToolErrorCode, reason: string, isAsync = false): ToolCallResult => ({
  type: 'error', toolCallId: c.id, name: c.name, async: isAsync, code, content: `Tool ${c.name} failed: ${reason}`,
});
const success = (c: { id: string; name: string }, v: unknown, isAsync = false): ToolCallResult => ({
  type: 'ok', toolCallId: c.id, name: c.name, async: isAsync, content: resultText(v),
});

/**
 * Reads a 2xx answer for the calls of one request, in the spec's order: an object with an array
 * `results` (match by `tool_call_id`; an entry with only `error` is an error) → an object whose
 * only key is `result` → an object whose only key is a string `error` → anything else is the
 * result itself. Formats 2–4 apply to every call of the request. A body that is not JSON is
 * taken as a text result.
 */
export function parseToolResponse(text: string, calls: readonly { id: string; name: string }[]): ToolCallResult[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return calls.map((c) => success(c, text));
  }
  if (isObj(body) && Array.isArray(body.results)) {
    const byId = new Map<string, JsonObject>();
    for (const r of body.results) if (isObj(r) && typeof r.tool_call_id === 'string' && !byId.has(r.tool_call_id)) byId.set(r.tool_call_id, r);
    return calls.map((c) => {
      const r = byId.get(c.id);
      if (r === undefined) return failure(c, 'missing_result', `no result for tool_call_id ${c.id}`);
      if (!('result' in r) && typeof r.error === 'string') return failure(c, 'tool_error', r.error);
      return success(c, r.result);
    });
  }
  if (isObj(body)) {
    const keys = Object.keys(body);
    if (keys.length === 1 && keys[0] === 'result') return calls.map((c) => success(c, body.result));
    if (keys.length === 1 && keys[0] === 'error' && typeof body.error === 'string') {
      const error = body.error;
      return calls.map((c) => failure(c, 'tool_error', error));
    }
  }
  return calls.map((c) => success(c, body));
}

interface Group {
  target: ResolvedWebhook;
  async: boolean;
  calls: { id: string; name: string; tool: WebhookTool; args: JsonObject }[];
}

function parseArgs(a: JsonObject | string): JsonObject | null {
  if (isObj(a)) return a;
  if (typeof a !== 'string') return null;
  if (a.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(a);
    return isObj(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Runs the function tools of one model turn. Resolves with one result per invocation, in the
 * order given; never rejects.
 */
export async function callTools(opts: CallToolsOptions): Promise<ToolCallResult[]> {
  const timeoutMs = opts.timeoutMs ?? TOOL_CALL_TIMEOUT_MS;
  const results = new Map<string, ToolCallResult>();
  const groups = new Map<string, Group>();
  for (const c of opts.calls) {
    const tool = findWebhookTool(opts.context.assistant, c.name);
    if (tool === null) {
      results.set(c.id, failure(c, 'unknown_tool', 'no such webhook tool'));
      continue;
    }
    const args = parseArgs(c.arguments);
    if (args === null) {
      results.set(c.id, failure(c, 'bad_arguments', 'arguments are not a JSON object', tool.async));
      continue;
    }
    const target = resolveWebhook({ event: 'tool-calls', assistant: opts.context.assistant, org: opts.org, tool });
    if (target === null) {
      results.set(c.id, failure(c, 'no_webhook', 'no webhook URL is configured for tool-calls', tool.async));
      continue;
    }
    const key = `${tool.async ? 'async' : 'sync'}\n${target.url}\n${target.secret ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { target, async: tool.async, calls: [] }));
    g.calls.push({ id: c.id, name: c.name, tool, args });
  }

  const send = (g: Group, signal: AbortSignal | undefined, readBody: boolean): Promise<{ status: number; text: string }> => {
    const list: ToolCall[] = g.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }));
    return attempt({
      url: g.target.url, secret: g.target.secret, event: 'tool-calls', body: JSON.stringify(buildToolCalls(opts.context, list)),
      id: randomUUID(), attempt: 1, timeoutMs, readBody, allowHttp: opts.allowHttp,
      ...(signal ? { signal } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.now ? { now: opts.now } : {}),
    });
  };

  const pending: Promise<void>[] = [];
  for (const g of groups.values()) {
    if (g.async) {
      for (const c of g.calls) results.set(c.id, success(c, c.tool.message ?? 'OK', true));
      const ids = g.calls.map((c) => c.id);
      send(g, undefined, false).then(
        (r) => opts.onAsyncSettled?.({ url: g.target.url, toolCallIds: ids, ok: isSuccess(r.status), detail: describeStatus(r.status) }),
        (err: unknown) => opts.onAsyncSettled?.({ url: g.target.url, toolCallIds: ids, ok: false, detail: err instanceof Error ? err.message : String(err) }),
      );
      continue;
    }
    pending.push(send(g, opts.signal, true).then(
      (r) => {
        if (!isSuccess(r.status)) {
          for (const c of g.calls) results.set(c.id, failure(c, 'http_status', describeStatus(r.status)));
          return;
        }
        for (const res of parseToolResponse(r.text, g.calls)) results.set(res.toolCallId, res);
      },
      (err: unknown) => {
        const e = err instanceof WebhookError ? err : new WebhookError('network', String(err), { cause: err });
        for (const c of g.calls) results.set(c.id, failure(c, e.code, e.message));
      },
    ));
  }
  await Promise.all(pending);
  return opts.calls.map((c) => results.get(c.id) ?? failure(c, 'missing_result', 'no result'));
}
