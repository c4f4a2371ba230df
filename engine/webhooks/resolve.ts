/**
 * Spec §5: which URL (and which secret) an event goes to, and whether it is sent at all.
 * Precedence: tool `url`/`server.url` → assistant `webhook_url` → organization webhook; the
 * signing secret is the one of the level that supplied the URL (none → sent unsigned).
 */
import { WEBHOOK_EVENT_TYPES, type JsonObject, type WebhookEventType } from './envelope.js';

/** The organization's default webhook (the `organizations` row has these two columns). */
export interface OrgWebhook {
  webhook_url: string | null;
  webhook_secret: string | null;
}

export type WebhookSource = 'tool' | 'assistant' | 'organization';
export interface ResolvedWebhook {
  url: string;
  secret: string | null;
  source: WebhookSource;
}

/** A function tool of `llm_config.tools` reduced to what delivery needs (flat and OpenAI-style shapes). */
export interface WebhookTool {
  name: string;
  url: string | null;
  secret: string | null;
  async: boolean;
  /** Spoken while the tool runs; for async tools it is the immediate result (`message` or legacy `async_response`). */
  message: string | null;
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Reads one `llm_config.tools` entry; null for built-ins (`end_call`, `transfer_call`) and malformed entries. */
export function toWebhookTool(def: unknown): WebhookTool | null {
  if (!isObj(def)) return null;
  let t: JsonObject = def;
  if (def.type === 'function' && isObj(def.function)) {
    const { function: fn, ...rest } = def;
    t = { ...rest, ...(fn as JsonObject) };
  } else if (def.type !== undefined && def.type !== 'function') {
    return null;
  }
  const name = str(t.name);
  if (name === null) return null;
  const server = isObj(t.server) ? t.server : null;
  return {
    name,
    url: str(t.url) ?? str(server?.url),
    secret: str(server?.secret),
    async: t.async === true,
    message: str(t.message) ?? str(t.async_response),
  };
}

/** The webhook tool named `name` in the assistant's `llm_config.tools`, if any. */
export function findWebhookTool(assistant: JsonObject | null, name: string): WebhookTool | null {
  const llm = assistant?.llm_config;
  const tools = isObj(llm) && Array.isArray(llm.tools) ? llm.tools : [];
  for (const def of tools) {
    const t = toWebhookTool(def);
    if (t !== null && t.name === name) return t;
  }
  return null;
}

/** `webhook_events` filter; null, missing or empty means all four (spec §4.5 PROPOSED). */
export function eventEnabled(assistant: JsonObject | null, event: WebhookEventType): boolean {
  const ev = assistant?.webhook_events;
  if (!Array.isArray(ev)) return true;
  const known = ev.filter((e): e is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(e));
  return known.length === 0 || known.includes(event);
}

/**
 * Where `event` goes for this call, or null when there is no URL or the assistant's
 * `webhook_events` filter excludes it. The filter is the assistant's choice of events and applies
 * to the assistant and organization levels; a tool's own URL always receives that tool's calls.
 */
export function resolveWebhook(opts: {
  event: WebhookEventType;
  /** The resolved assistant config of the call (null: the number has none, e.g. assistant-request to the org). */
  assistant: JsonObject | null;
  org: OrgWebhook | null;
  /** Only for `tool-calls`. */
  tool?: WebhookTool | null;
}): ResolvedWebhook | null {
  const { event, assistant, org, tool } = opts;
  if (event === 'tool-calls' && tool?.url) return { url: tool.url, secret: tool.secret, source: 'tool' };
  if (!eventEnabled(assistant, event)) return null;
  const aUrl = str(assistant?.webhook_url);
  if (aUrl !== null) return { url: aUrl, secret: str(assistant?.webhook_secret), source: 'assistant' };
  const oUrl = str(org?.webhook_url);
  if (oUrl !== null) return { url: oUrl, secret: str(org?.webhook_secret), source: 'organization' };
  return null;
}
