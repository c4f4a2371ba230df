/**
 * Picks the provider clients for a call from the assistant config: an explicit factory map keyed
 * by `provider`, keys from the organization's BYOK secret, else the engine default, base URLs
 * from config.
 */
import type { EngineConfig } from '../../config/index.js';
import type { Store } from '../store/index.js';
import type { LlmProvider } from '../providers/llm.js';
import type { TtsProvider } from '../providers/tts.js';
import type { SttProvider } from '../providers/stt.js';
import type { RealtimeProvider } from '../providers/realtime.js';
import { OpenAiCompatibleLlm } from '../providers/openai/llm.js';
import {
  credentialVendor, isLlmProvider, isRealtimeProvider, isSttProvider, isTtsProvider, llmProviders, realtimeProviders, sttProviders, ttsProviders,
} from '../providers/index.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ByokUse { stt: boolean; llm: boolean; tts: boolean }

export type CallProviders =
  | { kind: 'pipeline'; stt: SttProvider; llm: LlmProvider; tts: TtsProvider; byok: ByokUse }
  | { kind: 'realtime'; realtime: RealtimeProvider; byok: ByokUse; provider: string };

/** No usable key or no client for a provider: the call cannot run (end_reason "error"). */
export class ProviderSetupError extends Error {
  readonly code: 'provider_key_missing' | 'provider_unsupported';
  readonly provider: string;
  constructor(code: ProviderSetupError['code'], provider: string, message: string) {
    super(message);
    this.name = 'ProviderSetupError';
    this.code = code;
    this.provider = provider;
  }
}

export class ProviderResolver {
  readonly #config: EngineConfig;
  readonly #store: Store;

  constructor(config: EngineConfig, store: Store) {
    this.#config = config;
    this.#store = store;
  }

  /** The key for `vendor`: BYOK first (and whether it was BYOK), else the engine default. */
  key(orgId: string, vendor: string): { key: string; byok: boolean } | null {
    const own = this.#store.byok.key(orgId, vendor);
    if (own) return { key: own, byok: true };
    const def = (this.#config.providers as Record<string, { apiKey: string | null } | undefined>)[vendor]?.apiKey;
    return def ? { key: def, byok: false } : null;
  }

  baseUrl(vendor: string): string | null {
    return (this.#config.providers as Record<string, { baseUrl: string | null } | undefined>)[vendor]?.baseUrl ?? null;
  }

  /** Key + base URL for a config provider id, through the providers' credentialVendor map. */
  #creds(orgId: string, provider: keyof typeof credentialVendor): { apiKey: string; baseUrl?: string; byok: boolean } {
    const vendor = credentialVendor[provider] as string;
    const k = this.key(orgId, vendor);
    if (!k) throw new ProviderSetupError('provider_key_missing', vendor, `no ${vendor} API key: add one with POST /byok or set ${vendor.toUpperCase()}_API_KEY`);
    const base = this.baseUrl(vendor);
    return { apiKey: k.key, byok: k.byok, ...(base ? { baseUrl: base } : {}) };
  }

  resolve(orgId: string, assistant: Obj): CallProviders {
    const llmCfg = isObj(assistant.llm_config) ? assistant.llm_config : {};
    const provider = String(llmCfg.provider ?? 'openai');
    if (provider === 'xai_realtime' || provider === 'google_realtime' || provider === 'openai_live') {
      if (!isRealtimeProvider(provider)) throw new ProviderSetupError('provider_unsupported', provider, `realtime provider ${provider} is not supported by this engine (use xai_realtime)`);
      const c = this.#creds(orgId, provider);
      return { kind: 'realtime', provider, realtime: realtimeProviders[provider](c), byok: { stt: c.byok, llm: c.byok, tts: c.byok } };
    }
    const sttCfg = isObj(assistant.stt_config) ? assistant.stt_config : {};
    const sttId = String(sttCfg.provider ?? 'deepgram');
    if (!isSttProvider(sttId)) throw new ProviderSetupError('provider_unsupported', sttId, `STT provider ${sttId} is not supported by this engine (use deepgram)`);
    if (!isLlmProvider(provider)) throw new ProviderSetupError('provider_unsupported', provider, `LLM provider ${provider} is not supported by this engine (use openai, xai or mistral)`);
    const ttsCfg = isObj(assistant.tts_config) ? assistant.tts_config : {};
    const ttsId = String(ttsCfg.provider ?? 'elevenlabs');
    if (!isTtsProvider(ttsId)) throw new ProviderSetupError('provider_unsupported', ttsId, `TTS provider ${ttsId} is not supported by this engine (use elevenlabs or local)`);
    const s = this.#creds(orgId, sttId);
    const l = this.#creds(orgId, provider);
    let tts: TtsProvider;
    let ttsByok = false;
    if (ttsId === 'local') tts = ttsProviders.local();
    else {
      const t = this.#creds(orgId, ttsId);
      tts = ttsProviders[ttsId](t);
      ttsByok = t.byok;
    }
    return { kind: 'pipeline', stt: sttProviders[sttId](s), llm: llmProviders[provider](l), tts, byok: { stt: s.byok, llm: l.byok, tts: ttsByok } };
  }
}

/** LLM for post-call summary and analysis: the assistant's text LLM, or OpenAI/xAI text for realtime assistants. */
export function analysisLlm(resolver: ProviderResolver, orgId: string, assistant: Obj): { llm: LlmProvider; model: string } | null {
  const llm = isObj(assistant.llm_config) ? assistant.llm_config : {};
  const provider = String(llm.provider ?? 'openai');
  const candidates: [string, 'openai' | 'xai' | 'mistral', string][] = provider === 'openai' || provider === 'xai' || provider === 'mistral'
    ? [[provider, provider, String(llm.model ?? 'gpt-4o-mini')]]
    : [['xai', 'xai', 'grok-4-1-fast-non-reasoning'], ['openai', 'openai', 'gpt-4o-mini']];
  for (const [vendor, kind, model] of candidates) {
    const k = resolver.key(orgId, vendor);
    if (!k) continue;
    const base = resolver.baseUrl(vendor);
    return { llm: new OpenAiCompatibleLlm(kind, { apiKey: k.key, ...(base ? { baseUrl: base } : {}) }), model };
  }
  return null;
}
