/**
 * Assistant ("agent") schemas (spec §4.1–4.7, 4.17, 4.18, 8.3, 8.6) and the normalisation every
 * assistant config goes through before it is stored or used for a call: aliases resolved, tool
 * shapes and templates expanded, realtime rules checked, defaults applied, ranges clamped where
 * the spec says "clamped".
 */
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import type { Store } from '../../store/index.js';
import type { Problems } from '../errors.js';
import { AnyObject, E164_RE, Enum, Nullable, Timestamp, Uuid } from './common.js';

export const STT_PROVIDERS = ['deepgram', 'elevenlabs', 'gladia', 'mistral', 'google'] as const;
export const TEXT_LLM_PROVIDERS = ['openai', 'xai', 'mistral', 'google'] as const;
export const REALTIME_LLM_PROVIDERS = ['xai_realtime', 'google_realtime', 'openai_live'] as const;
export const LLM_PROVIDERS = [...TEXT_LLM_PROVIDERS, ...REALTIME_LLM_PROVIDERS] as const;
export const TTS_PROVIDERS = ['elevenlabs', 'inworld', 'google', 'xai', 'local'] as const;
export const WEBHOOK_EVENTS = ['assistant-request', 'tool-calls', 'status-update', 'end-of-call-report'] as const;
export const XAI_VOICES = [
  { id: 'ara', name: 'Ara', style: 'Warm and friendly' },
  { id: 'rex', name: 'Rex', style: 'Confident and clear' },
  { id: 'sal', name: 'Sal', style: 'Smooth and balanced' },
  { id: 'eve', name: 'Eve', style: 'Energetic and upbeat' },
  { id: 'leo', name: 'Leo', style: 'Authoritative and calm' },
] as const;
/** Spec §8.2. Regional variants (en-US) are accepted too. */
export const STT_LANGUAGES = ['multi', 'nl', 'en', 'de', 'fr', 'es', 'it', 'pt', 'pl', 'ru', 'ja', 'ko', 'zh', 'ar', 'hi', 'da', 'sv',
  'no', 'fi', 'cs', 'hu', 'ro', 'bg', 'hr', 'sk', 'tr', 'id', 'vi'] as const;

export const isRealtime = (provider: unknown): boolean => (REALTIME_LLM_PROVIDERS as readonly unknown[]).includes(provider);

const Message = Type.Object({ role: Enum(['system', 'user', 'assistant'] as const), content: Type.String() });

export const SttConfig = Type.Object({
  provider: Enum(STT_PROVIDERS),
  model: Type.String({ minLength: 1 }),
  language: Type.String({ minLength: 2 }),
  keyterms: Type.Optional(Type.Array(Type.String())),
  tag_audio_events: Type.Optional(Type.Boolean()),
  include_timestamps: Type.Optional(Type.Boolean()),
  sample_rate: Type.Optional(Type.Union([Type.Literal(16000), Type.Literal(8000)])),
  languages: Type.Optional(Type.Array(Type.String())),
  code_switching: Type.Optional(Type.Boolean()),
  region: Type.Optional(Enum(['eu-west', 'us-west'] as const)),
  endpointing: Type.Optional(Type.Number({ minimum: 0 })),
  custom_vocabulary: Type.Optional(Type.Array(Type.String())),
  translation_enabled: Type.Optional(Type.Boolean()),
  translation_target_languages: Type.Optional(Type.Array(Type.String())),
});

const TurnDetection = Type.Object({
  threshold: Type.Optional(Type.Number()),
  prefix_padding_ms: Type.Optional(Type.Number()),
  silence_duration_ms: Type.Optional(Type.Number()),
  idle_timeout_ms: Type.Optional(Nullable(Type.Number())),
});

/** Tools are checked by normaliseTools (three accepted shapes, spec §4.18). */
const ToolEntry = Type.Object({}, { additionalProperties: true, description: 'ToolDefinition: webhook tool, OpenAI-style function, end_call, transfer_call or {tool_template_id}' });

export const LlmConfig = Type.Object({
  provider: Enum(LLM_PROVIDERS),
  model: Type.String({ minLength: 1 }),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  messages: Type.Optional(Type.Array(Message)),
  tools: Type.Optional(Type.Array(ToolEntry)),
  voice: Type.Optional(Type.String({ minLength: 1 })),
  max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 32768 })),
  delegation: Type.Optional(Type.Object({ model: Type.Optional(Type.String()), instructions: Type.Optional(Type.String()) })),
  turn_detection: Type.Optional(TurnDetection),
});

export const TtsConfig = Type.Object({
  provider: Enum([...TTS_PROVIDERS, '11labs'] as const),
  voice_id: Type.String({ minLength: 1 }),
  model: Type.Optional(Type.String({ minLength: 1 })),
  language: Type.Optional(Type.String()),
  stability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  similarity_boost: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  use_speaker_boost: Type.Optional(Type.Boolean()),
  style: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  speed: Type.Optional(Type.Number({ minimum: 0.5, maximum: 2 })),
  speaking_rate: Type.Optional(Type.Number({ minimum: 0.25, maximum: 2 })),
});

export const AnalysisPlan = Type.Object({
  structured_data_plan: Type.Optional(Type.Object({
    enabled: Type.Boolean(),
    schema: Type.Optional(AnyObject),
    messages: Type.Optional(Type.Array(Type.Object({ role: Enum(['system', 'user'] as const), content: Type.String() }))),
    template_id: Type.Optional(Uuid),
  })),
  min_messages_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
});

export const SpeechConfig = Type.Object({
  turn_taking: Type.Optional(Type.Object({
    endpointing_min_delay: Type.Optional(Type.Number({ minimum: 0.1, maximum: 5 })),
    endpointing_max_delay: Type.Optional(Type.Number({ minimum: 0.1, maximum: 5 })),
    interruption_min_duration: Type.Optional(Type.Number({ minimum: 0.05, maximum: 2 })),
    interruption_min_words: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    false_interruption_timeout: Type.Optional(Nullable(Type.Number({ minimum: 0.2, maximum: 5 }))),
  })),
  pronunciation: Type.Optional(Type.Array(Type.Object({ from: Type.String({ minLength: 1 }), to: Type.String() }), { maxItems: 50 })),
  background_audio: Type.Optional(Type.Object({
    enabled: Type.Boolean(),
    clip: Type.Optional(Enum(['office', 'city', 'forest', 'crowded_room'] as const)),
    volume: Type.Optional(Type.Number({ minimum: 0.05, maximum: 1 })),
  })),
  silence: Type.Optional(Type.Object({
    messages: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
    final_message: Type.Optional(Nullable(Type.String())),
    first_check_seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 60 })),
    interval_seconds: Type.Optional(Type.Number({ minimum: 3, maximum: 120 })),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  })),
  end_call_message: Type.Optional(Nullable(Type.String())),
  first_message_outbound: Type.Optional(Nullable(Type.String())),
});

const RecordingConsent = Type.Object({ enabled: Type.Boolean(), message: Type.String() });
const Email = Type.String({ format: 'email' });
const WebhookUrl = Type.String({ format: 'uri' });

/** Fields shared by saved and transient assistants (all optional here). */
const assistantFields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  business_name: Nullable(Type.String({ maxLength: 255 })),
  notification_email: Nullable(Email),
  notification_emails: Nullable(Type.Array(Email, { maxItems: 5 })),
  first_message: Nullable(Type.String()),
  is_active: Type.Boolean(),
  max_duration_seconds: Nullable(Type.Integer({ minimum: 1, maximum: 86400 })),
  autonomous_silence_handling: Type.Boolean(),
  silence_timeout_seconds: Nullable(Type.Integer({ minimum: 1, maximum: 3600 })),
  voicemail_detection: Nullable(Type.Boolean()),
  voicemail_message: Nullable(Type.String()),
  gdpr_mode: Type.Boolean(),
  webhook_url: Nullable(WebhookUrl),
  webhook_secret: Nullable(Type.String({ maxLength: 512 })),
  webhook_events: Nullable(Type.Array(Enum(WEBHOOK_EVENTS))),
  analysis_plan: Nullable(AnalysisPlan),
  stt_config: Nullable(SttConfig),
  llm_config: LlmConfig,
  tts_config: Nullable(TtsConfig),
  speech_config: Nullable(SpeechConfig),
  recording_consent: Nullable(RecordingConsent),
};
type Fields = typeof assistantFields;
const optional = <K extends keyof Fields>(keys: readonly K[]): { [P in K]: TOptional<Fields[P]> } =>
  Object.fromEntries(keys.map((k) => [k, Type.Optional(assistantFields[k])])) as unknown as { [P in K]: TOptional<Fields[P]> };
const ALL_KEYS = Object.keys(assistantFields) as (keyof Fields)[];

export const AssistantCreate = Type.Object({
  ...optional(ALL_KEYS.filter((k) => k !== 'name')),
  name: assistantFields.name,
}, { additionalProperties: true });
/** PATCH: nested blocks are merged, so their own required fields are optional here; the merged
 * result is then checked against AssistantCreate as a whole. */
export const AssistantUpdate = Type.Object({
  ...optional(ALL_KEYS),
  stt_config: Type.Optional(Nullable(Type.Partial(SttConfig))),
  llm_config: Type.Optional(Type.Partial(LlmConfig)),
  tts_config: Type.Optional(Nullable(Type.Partial(TtsConfig))),
  analysis_plan: Type.Optional(Nullable(Type.Partial(AnalysisPlan))),
  speech_config: Type.Optional(Nullable(Type.Partial(SpeechConfig))),
}, { additionalProperties: true });
export type AssistantInput = Static<typeof AssistantUpdate> & Record<string, unknown>;

/** TransientAssistant (spec §4.13): llm_config required; metadata echoed in webhooks. */
export const TransientAssistant = Type.Object({
  ...optional(ALL_KEYS.filter((k) => k !== 'llm_config')),
  llm_config: LlmConfig,
  metadata: Type.Optional(AnyObject),
}, { additionalProperties: true });
export const AssistantOverride = Type.Object({
  ...optional(ALL_KEYS),
  metadata: Type.Optional(AnyObject),
}, { additionalProperties: true });

export const Assistant = Type.Object({
  id: Uuid,
  ...assistantFields,
  stt_config: Nullable(SttConfig),
  tts_config: Nullable(TtsConfig),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { additionalProperties: true });

/** Spec §4.1–4.3, 4.6 PROPOSED defaults. */
export const DEFAULT_STT = { provider: 'deepgram', model: 'nova-3-general', language: 'en' } as const;
export const DEFAULT_LLM = { provider: 'openai', model: 'gpt-4o-mini', temperature: 0.7, messages: [], tools: [] } as const;
export const DEFAULT_TTS = { provider: 'elevenlabs', voice_id: '21m00Tcm4TlvDq8ikWAM', model: 'eleven_flash_v2_5' } as const;
const DEFAULTS: Record<string, unknown> = {
  business_name: null, notification_email: null, first_message: null, is_active: true, max_duration_seconds: null,
  autonomous_silence_handling: false, silence_timeout_seconds: null, voicemail_detection: false, voicemail_message: null,
  gdpr_mode: false, webhook_url: null, webhook_secret: null, webhook_events: null, analysis_plan: null,
};

/** Objects merged one level deep on PATCH (spec §3.1 PROPOSED). */
export const MERGED_BLOCKS = ['stt_config', 'llm_config', 'tts_config', 'analysis_plan', 'speech_config'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeAssistant(stored: Obj, patch: Obj): Obj {
  const out: Obj = { ...stored };
  for (const [k, v] of Object.entries(patch)) {
    out[k] = (MERGED_BLOCKS as readonly string[]).includes(k) && isObj(v) && isObj(stored[k]) ? { ...(stored[k] as Obj), ...v } : v;
  }
  return out;
}

/** Hybrid mode and assistant-request overrides: each top-level key replaces the whole block. */
export const shallowMerge = (base: Obj, override: Obj): Obj => ({ ...base, ...override });

const FN_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

export interface NormaliseContext {
  readonly store: Store;
  readonly orgId: string;
  /** Ids of the local TTS voices, or null when the local TTS is not installed. */
  readonly localVoices: ReadonlySet<string> | null;
  readonly allowHttpWebhooks: boolean;
  /** 'saved' applies defaults for omitted STT/TTS; 'transient' requires them (spec §3.4). */
  readonly mode: 'saved' | 'transient';
}

/** Normalises one transfer destination list; returns the canonical list. */
export function normaliseDestinations(raw: unknown, at: string, p: Problems): Obj[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    if (raw === undefined) p.missing(at);
    else p.invalid(at, 'must be a non-empty array');
    return [];
  }
  return raw.map((d, i) => {
    const path = `${at}[${i}]`;
    if (!isObj(d)) {
      p.invalid(path, 'must be an object');
      return {};
    }
    const type = d.type ?? 'number';
    if (type !== 'number') p.invalid(`${path}.type`, 'must be "number"');
    if (typeof d.number !== 'string') p.missing(`${path}.number`);
    else if (!E164_RE.test(d.number)) p.invalid(`${path}.number`, 'must be an E.164 number such as +31850835037');
    if (typeof d.description !== 'string' || !d.description.trim()) p.missing(`${path}.description`);
    if (d.message !== undefined && typeof d.message !== 'string') p.invalid(`${path}.message`, 'must be a string');
    const out: Obj = { type: 'number', number: d.number, description: d.description };
    if (typeof d.message === 'string') out.message = d.message;
    return out;
  });
}

/** Normalises a function tool body (shape 1) at `at`. */
export function normaliseFunctionTool(t: Obj, at: string, p: Problems): Obj {
  const out: Obj = {};
  if (typeof t.name !== 'string') p.missing(`${at}.name`);
  else if (!FN_NAME.test(t.name)) p.invalid(`${at}.name`, 'must start with a letter or underscore and contain only letters, digits, _ or - (max 64)');
  out.name = t.name;
  if (t.description !== undefined && typeof t.description !== 'string') p.invalid(`${at}.description`, 'must be a string');
  out.description = typeof t.description === 'string' ? t.description : '';
  if (t.parameters !== undefined) {
    if (!isObj(t.parameters)) p.invalid(`${at}.parameters`, 'must be a JSON Schema object');
    else out.parameters = t.parameters;
  }
  const url = t.url;
  if (url !== undefined && url !== null) {
    if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) p.invalid(`${at}.url`, 'must be an http(s) URL');
    else out.url = url;
  }
  if (t.server !== undefined) {
    const s = t.server;
    if (!isObj(s) || typeof s.url !== 'string' || !/^https?:\/\/\S+$/.test(s.url)) p.invalid(`${at}.server.url`, 'must be an http(s) URL');
    else out.server = s.secret === undefined ? { url: s.url } : { url: s.url, secret: String(s.secret) };
  }
  if (t.async !== undefined) {
    if (typeof t.async !== 'boolean') p.invalid(`${at}.async`, 'must be a boolean');
    else out.async = t.async;
  }
  const message = t.message ?? t.async_response;
  if (message !== undefined) {
    if (typeof message !== 'string') p.invalid(`${at}.message`, 'must be a string');
    else out.message = message;
  }
  return out;
}

/** The three accepted tool shapes and `{tool_template_id}`, to canonical entries (spec §4.18, §4.19). */
export function normaliseTools(raw: unknown[], ctx: NormaliseContext, at: string, p: Problems): Obj[] {
  const out: Obj[] = [];
  raw.forEach((tool, i) => {
    const path = `${at}[${i}]`;
    if (!isObj(tool)) {
      p.invalid(path, 'must be an object');
      return;
    }
    if (typeof tool.tool_template_id === 'string') {
      const tpl = ctx.store.toolTemplates.get(ctx.orgId, tool.tool_template_id);
      if (!tpl) {
        p.invalid(`${path}.tool_template_id`, 'does not name a tool template of this organization');
        return;
      }
      if (tpl.tool_type === 'end_call') out.push({ type: 'end_call' });
      else if (tpl.tool_type === 'transfer_call') out.push({ type: 'transfer_call', destinations: tpl.tool_config.destinations });
      else out.push({ ...normaliseFunctionTool({ ...tpl.tool_config, name: tpl.tool_config.name ?? tpl.name, description: tpl.tool_config.description ?? tpl.description ?? '' }, path, p) });
      return;
    }
    const type = tool.type;
    if (type === 'end_call' || type === 'endCall') {
      out.push({ type: 'end_call' });
    } else if (type === 'transfer_call' || type === 'transferCall') {
      out.push({ type: 'transfer_call', destinations: normaliseDestinations(tool.destinations, `${path}.destinations`, p) });
    } else if (type === 'function' && isObj(tool.function)) {
      const { function: fn, ...rest } = tool;
      out.push(normaliseFunctionTool({ ...rest, ...(fn as Obj) }, path, p));
    } else if (type === undefined || type === 'function') {
      out.push(normaliseFunctionTool(tool, path, p));
    } else {
      p.invalid(`${path}.type`, 'must be one of "function", "end_call", "transfer_call"');
    }
  });
  const names = new Set<string>();
  out.forEach((t, i) => {
    const name = typeof t.name === 'string' ? t.name : typeof t.type === 'string' ? t.type : undefined;
    if (name === undefined) return;
    if (names.has(name)) p.invalid(`${at}[${i}]`, `duplicates the tool name "${name}"`);
    names.add(name);
  });
  return out;
}

/**
 * Checks and canonicalises a full assistant config (after any merge). Problems are collected in
 * `p`; the returned object is only meaningful when `p.ok`.
 */
export function normaliseAssistant(input: Obj, ctx: NormaliseContext, p: Problems): Obj {
  const a: Obj = { ...DEFAULTS, ...input };
  const llm: Obj = { ...DEFAULT_LLM, ...(isObj(input.llm_config) ? input.llm_config : {}) };
  const realtime = isRealtime(llm.provider);

  // Realtime assistants: no STT/TTS (spec §4.4); text assistants need both.
  if (realtime) {
    if (isObj(input.stt_config)) p.invalid('stt_config', `must be omitted or null when llm_config.provider is "${String(llm.provider)}"`);
    if (isObj(input.tts_config)) p.invalid('tts_config', `must be omitted or null when llm_config.provider is "${String(llm.provider)}"`);
    a.stt_config = null;
    a.tts_config = null;
    if (llm.provider === 'xai_realtime' && llm.voice === undefined) llm.voice = 'ara';
  } else {
    for (const [key, def] of [['stt_config', DEFAULT_STT], ['tts_config', DEFAULT_TTS]] as const) {
      if (input[key] === undefined && ctx.mode === 'saved') a[key] = { ...def };
      else if (!isObj(input[key])) p.missing(key);
    }
    if (llm.voice !== undefined) p.invalid('llm_config.voice', 'is only for realtime providers (xai_realtime, google_realtime, openai_live)');
  }
  if (llm.turn_detection !== undefined && llm.provider !== 'xai_realtime') p.invalid('llm_config.turn_detection', 'is only for llm_config.provider "xai_realtime"');
  if (llm.delegation !== undefined && llm.provider !== 'openai_live') p.invalid('llm_config.delegation', 'is only for llm_config.provider "openai_live"');
  if (llm.max_completion_tokens !== undefined && realtime) p.invalid('llm_config.max_completion_tokens', 'is only for text providers');
  if (isObj(llm.turn_detection)) {
    // Out-of-range values are clamped, not rejected (spec §4.2, FOUND).
    const td = { ...(llm.turn_detection as Obj) };
    const c = (k: string, lo: number, hi: number): void => {
      if (typeof td[k] === 'number') td[k] = clamp(td[k] as number, lo, hi);
    };
    c('threshold', 0, 1);
    c('prefix_padding_ms', 0, 2000);
    c('silence_duration_ms', 100, 2000);
    c('idle_timeout_ms', 0, 30000);
    llm.turn_detection = td;
  }
  if (llm.provider === 'xai_realtime' && typeof llm.voice === 'string' && !XAI_VOICES.some((v) => v.id === llm.voice)) {
    p.invalid('llm_config.voice', `must be one of ${XAI_VOICES.map((v) => `"${v.id}"`).join(', ')}`);
  }
  llm.messages = Array.isArray(llm.messages) ? llm.messages : [];
  llm.tools = normaliseTools(Array.isArray(llm.tools) ? llm.tools : [], ctx, 'llm_config.tools', p);
  a.llm_config = llm;

  if (isObj(a.stt_config)) {
    const stt = a.stt_config;
    const lang = String(stt.language);
    const base = lang.split('-')[0] as string;
    if (!(STT_LANGUAGES as readonly string[]).includes(base) || !/^[a-z]{2,5}(-[A-Za-z0-9]{2,8})*$/.test(lang)) {
      p.invalid('stt_config.language', `must be one of ${STT_LANGUAGES.join(', ')} (regional variants such as en-US allowed)`);
    }
  }
  if (isObj(a.tts_config)) {
    const tts = { ...a.tts_config };
    if (tts.provider === '11labs') tts.provider = 'elevenlabs';
    if (tts.provider === 'local') {
      if (ctx.localVoices === null) p.invalid('tts_config.provider', '"local" needs espeak-ng installed on the engine host; it is not available');
      else if (!ctx.localVoices.has(String(tts.voice_id))) p.invalid('tts_config.voice_id', 'must be a local voice id from GET /voices');
    }
    if (tts.provider === 'elevenlabs' && tts.model === undefined) tts.model = 'eleven_flash_v2_5';
    a.tts_config = tts;
  }

  if (typeof a.webhook_url === 'string' && !ctx.allowHttpWebhooks && !a.webhook_url.startsWith('https://')) {
    p.invalid('webhook_url', 'must be an https:// URL');
  } else if (typeof a.webhook_url === 'string' && !/^https?:\/\//.test(a.webhook_url)) {
    p.invalid('webhook_url', 'must be an http(s) URL');
  }
  if (Array.isArray(a.webhook_events)) a.webhook_events = [...new Set(a.webhook_events)];

  if (isObj(a.speech_config) && isObj(a.speech_config.turn_taking)) {
    const tt = a.speech_config.turn_taking;
    if (typeof tt.endpointing_min_delay === 'number' && typeof tt.endpointing_max_delay === 'number' && tt.endpointing_max_delay < tt.endpointing_min_delay) {
      p.invalid('speech_config.turn_taking.endpointing_max_delay', 'must be >= endpointing_min_delay');
    }
    if (realtime) p.invalid('speech_config.turn_taking', 'is only for pipeline (non-realtime) assistants');
  }

  if (isObj(a.analysis_plan) && isObj(a.analysis_plan.structured_data_plan)) {
    const sdp: Obj = { ...a.analysis_plan.structured_data_plan };
    if (typeof sdp.template_id === 'string') {
      // Templates are copied, never referenced (spec §3.11).
      const tpl = ctx.store.analysisTemplates.get(ctx.orgId, sdp.template_id);
      if (!tpl) p.invalid('analysis_plan.structured_data_plan.template_id', 'does not name an analysis template of this organization');
      else {
        sdp.schema ??= tpl.schema;
        sdp.messages ??= [{ role: 'system', content: tpl.system_prompt }, { role: 'user', content: tpl.user_prompt }];
      }
    }
    if (sdp.enabled === true && !isObj(sdp.schema)) p.missing('analysis_plan.structured_data_plan.schema');
    a.analysis_plan = { ...a.analysis_plan, structured_data_plan: sdp };
  }
  return a;
}

/** Makes the normalise context for an organization (local voices are looked up once). */
export async function normaliseContext(
  deps: { store: Store; voices: { listLocalVoices(): Promise<{ available: boolean; voices: { id: string }[] }> }; allowHttpWebhooks: boolean },
  orgId: string,
  mode: 'saved' | 'transient',
  needLocalVoices: boolean,
): Promise<NormaliseContext> {
  let localVoices: Set<string> | null = null;
  if (needLocalVoices) {
    const cat = await deps.voices.listLocalVoices();
    localVoices = cat.available ? new Set(cat.voices.map((v) => v.id)) : null;
  }
  return { store: deps.store, orgId, localVoices, allowHttpWebhooks: deps.allowHttpWebhooks, mode };
}

/** Whether a config asks for the local TTS anywhere (so the voice list is needed). */
export const wantsLocalTts = (cfg: Obj): boolean => isObj(cfg.tts_config) && cfg.tts_config.provider === 'local';
