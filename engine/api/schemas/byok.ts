/**
 * BYOK (spec §3.9, §8.8): the provider list, the `byok_keys` shape and the provider catalogue
 * served by GET /byok/config. The catalogue is data, not code: one entry per BYOK provider with
 * the models the engine knows for it (the default flagged), so clients can build pickers.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AnyObject, Enum, Nullable } from './common.js';

/** Every BYOK provider, in the order the spec lists them (§8.8). */
export const BYOK_PROVIDERS = [
  'deepgram', 'openai', 'elevenlabs', 'xai', 'resend', 'gladia', 'mistral', 'inworld', 'google', 'google_vertex',
] as const;
export type ByokProvider = (typeof BYOK_PROVIDERS)[number];

export const BYOK_CATEGORIES = ['stt', 'llm', 'tts', 'realtime', 'email'] as const;
export type ByokCategory = (typeof BYOK_CATEGORIES)[number];

export interface CatalogModel {
  readonly id: string;
  readonly name: string;
  readonly default: boolean;
}

export interface CatalogProvider {
  readonly id: ByokProvider;
  readonly name: string;
  readonly category: ByokCategory;
  readonly docsUrl: string;
  readonly models: readonly CatalogModel[];
}

const m = (id: string, name: string, isDefault = false): CatalogModel => ({ id, name, default: isDefault });

/**
 * The provider catalogue (spec §3.9 GET /byok/config). `category` is the provider's main use;
 * providers serving several (xai: realtime voice and Grok text; mistral: text and Voxtral STT;
 * google: Gemini Live and TTS) list their models for every use.
 */
export const BYOK_CATALOG: readonly CatalogProvider[] = [
  {
    id: 'deepgram', name: 'Deepgram', category: 'stt', docsUrl: 'https://developers.deepgram.com/',
    models: [m('nova-3-general', 'Nova 3 General', true), m('nova-3', 'Nova 3'), m('nova-2-general', 'Nova 2 General'), m('nova-2-phonecall', 'Nova 2 Phone Call')],
  },
  {
    id: 'openai', name: 'OpenAI', category: 'llm', docsUrl: 'https://platform.openai.com/docs/',
    models: [m('gpt-4o-mini', 'GPT-4o Mini', true), m('gpt-4o', 'GPT-4o'), m('gpt-4.1-mini', 'GPT-4.1 Mini'), m('gpt-4.1', 'GPT-4.1')],
  },
  {
    id: 'elevenlabs', name: 'ElevenLabs', category: 'tts', docsUrl: 'https://elevenlabs.io/docs/',
    models: [
      m('eleven_flash_v2_5', 'Eleven Flash v2.5', true), m('eleven_turbo_v2_5', 'Eleven Turbo v2.5'), m('eleven_multilingual_v2', 'Eleven Multilingual v2'),
      m('eleven_v3', 'Eleven v3'), m('eleven_monolingual_v1', 'Eleven English v1'),
    ],
  },
  {
    id: 'xai', name: 'xAI', category: 'realtime', docsUrl: 'https://docs.x.ai/',
    models: [m('grok-realtime-v1', 'Grok Realtime', true), m('grok-voice-think-fast-2.0', 'Grok Voice Think Fast 2.0'), m('grok-4-1-fast-non-reasoning', 'Grok 4.1 Fast (text)')],
  },
  {
    id: 'resend', name: 'Resend', category: 'email', docsUrl: 'https://resend.com/docs/api-reference/introduction',
    models: [],
  },
  {
    id: 'gladia', name: 'Gladia', category: 'stt', docsUrl: 'https://docs.gladia.io/',
    models: [m('solaria-1', 'Solaria 1', true)],
  },
  {
    id: 'mistral', name: 'Mistral AI', category: 'llm', docsUrl: 'https://docs.mistral.ai/',
    models: [m('mistral-small-latest', 'Mistral Small', true), m('mistral-medium-latest', 'Mistral Medium'), m('voxtral-mini-latest', 'Voxtral Mini (STT)')],
  },
  {
    id: 'inworld', name: 'Inworld', category: 'tts', docsUrl: 'https://docs.inworld.ai/',
    models: [m('inworld-tts-1', 'Inworld TTS 1', true), m('inworld-tts-1-max', 'Inworld TTS 1 Max')],
  },
  {
    id: 'google', name: 'Google Gemini API', category: 'realtime', docsUrl: 'https://ai.google.dev/gemini-api/docs',
    models: [m('gemini-2.5-flash-native-audio', 'Gemini 2.5 Flash Native Audio', true), m('gemini-2.5-flash', 'Gemini 2.5 Flash'), m('gemini-2.5-flash-preview-tts', 'Gemini 2.5 Flash TTS')],
  },
  {
    id: 'google_vertex', name: 'Google Vertex AI (EU)', category: 'llm', docsUrl: 'https://cloud.google.com/vertex-ai/docs',
    models: [m('gemini-2.5-flash', 'Gemini 2.5 Flash', true), m('chirp_3', 'Chirp 3 (STT)'), m('chirp-3-hd', 'Chirp 3 HD (TTS)'), m('gemini-live-2.5-flash', 'Gemini Live 2.5 Flash')],
  },
];

export const secretIdKey = (p: ByokProvider): string => `${p}_secret_id`;

/** `{ "<provider>_secret_id": string | null }` for every provider (null = not configured). */
export function byokKeys(ids: ReadonlyMap<string, string>): Record<string, string | null> {
  return Object.fromEntries(BYOK_PROVIDERS.map((p) => [secretIdKey(p), ids.get(p) ?? null]));
}

export const Provider = Enum(BYOK_PROVIDERS, { description: 'BYOK provider (spec §8.8)' });
export const ByokKeys = Type.Object(
  Object.fromEntries(BYOK_PROVIDERS.map((p) => [secretIdKey(p), Nullable(Type.String({ description: 'opaque secret reference; null = not configured' }))])),
);
export const ByokKeysResponse = Type.Object({ byok_keys: ByokKeys });
export const ByokChangeResponse = Type.Object({ success: Type.Literal(true), byok_keys: ByokKeys });

export const ByokPut = Type.Object({
  provider: Provider,
  api_key: Type.String({ minLength: 1, maxLength: 4096, description: 'write-only: stored encrypted, never returned' }),
});
export type ByokPut = Static<typeof ByokPut>;

export const ByokDelete = Type.Object({ provider: Provider });

export const ByokConfigPut = Type.Object({
  provider: Provider,
  config: Type.Object({}, { additionalProperties: true, description: 'provider-specific settings, merged into the stored ones' }),
});

export const ByokConfigResponse = Type.Object({ byok_config: Type.Record(Type.String(), AnyObject) });

export const CatalogResponse = Type.Object({
  providers: Type.Array(Type.Object({
    id: Provider,
    name: Type.String(),
    category: Enum(BYOK_CATEGORIES),
    docsUrl: Type.String(),
    models: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), default: Type.Boolean() })),
  })),
});
