// The explicit factory maps, keyed by the assistant config's `provider` strings (spec §4.1-4.4).
// Keys and base URLs are resolved by the engine (BYOK secret, else `<VENDOR>_API_KEY`; base URL
// from `<VENDOR>_BASE_URL`) and passed in: nothing here reads the environment or the store.
import { DeepgramStt } from './deepgram/stt.js';
import type { DeepgramOptions } from './deepgram/stt.js';
import { OpenAiCompatibleLlm } from './openai/llm.js';
import type { OpenAiCompatibleOptions } from './openai/llm.js';
import { ElevenLabsTts } from './elevenlabs/tts.js';
import type { ElevenLabsOptions } from './elevenlabs/tts.js';
import { XaiRealtime } from './xai/realtime.js';
import type { XaiRealtimeOptions } from './xai/realtime.js';
import { LocalTts } from './local/tts.js';
import type { LocalTtsOptions } from './local/tts.js';
import type { SttProvider } from './stt.js';
import type { LlmProvider } from './llm.js';
import type { TtsProvider } from './tts.js';
import type { RealtimeProvider } from './realtime.js';

export interface VendorCredentials { apiKey: string; baseUrl?: string }

export const sttProviders = {
  deepgram: (o: DeepgramOptions): SttProvider => new DeepgramStt(o),
} as const satisfies Record<string, (o: VendorCredentials) => SttProvider>;

export const llmProviders = {
  openai: (o: OpenAiCompatibleOptions): LlmProvider => new OpenAiCompatibleLlm('openai', o),
  xai: (o: OpenAiCompatibleOptions): LlmProvider => new OpenAiCompatibleLlm('xai', o),
  mistral: (o: OpenAiCompatibleOptions): LlmProvider => new OpenAiCompatibleLlm('mistral', o),
} as const satisfies Record<string, (o: VendorCredentials) => LlmProvider>;

export const ttsProviders = {
  elevenlabs: (o: ElevenLabsOptions): TtsProvider => new ElevenLabsTts(o),
  /** Spec alias (§4.3). */
  '11labs': (o: ElevenLabsOptions): TtsProvider => new ElevenLabsTts(o),
  /** Offline voices; needs no key. */
  local: (o: LocalTtsOptions = {}): TtsProvider => new LocalTts(o),
} as const;

export const realtimeProviders = {
  xai_realtime: (o: XaiRealtimeOptions): RealtimeProvider => new XaiRealtime(o),
} as const satisfies Record<string, (o: VendorCredentials) => RealtimeProvider>;

export type SttProviderId = keyof typeof sttProviders;
export type LlmProviderId = keyof typeof llmProviders;
export type TtsProviderId = keyof typeof ttsProviders;
export type RealtimeProviderId = keyof typeof realtimeProviders;

/** Which `<VENDOR>_API_KEY` / `<VENDOR>_BASE_URL` / BYOK provider serves each config provider. */
export const credentialVendor = {
  deepgram: 'deepgram', openai: 'openai', xai: 'xai', mistral: 'mistral', elevenlabs: 'elevenlabs', '11labs': 'elevenlabs', xai_realtime: 'xai', local: null,
} as const satisfies Record<SttProviderId | LlmProviderId | TtsProviderId | RealtimeProviderId, string | null>;

export function isSttProvider(p: string): p is SttProviderId { return Object.hasOwn(sttProviders, p); }
export function isLlmProvider(p: string): p is LlmProviderId { return Object.hasOwn(llmProviders, p); }
export function isTtsProvider(p: string): p is TtsProviderId { return Object.hasOwn(ttsProviders, p); }
export function isRealtimeProvider(p: string): p is RealtimeProviderId { return Object.hasOwn(realtimeProviders, p); }

export { ProviderError, withRetry } from './errors.js';
export type { ProviderErrorCode, ProviderName } from './errors.js';
export { clampTurnDetection } from './realtime.js';
export { listLocalVoices, isLocalTtsAvailable, isLocalVoice } from './local/voices.js';
export type * from './stt.js';
export type * from './llm.js';
export type * from './tts.js';
export type * from './realtime.js';
export type { AudioFormat } from './audio.js';
