import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps, LocalVoice } from '../deps.js';
import { errors } from '../schemas/common.js';
import { XAI_VOICES } from '../schemas/assistant.js';

/** Voice (spec §4.16): a local TTS voice. */
const Voice = Type.Object({
  id: Type.String({ description: 'use as tts_config.voice_id with provider "local"' }),
  name: Type.String(),
  language: Type.Optional(Type.String()),
  description: Type.Optional(Type.Object({ en: Type.Optional(Type.String()), nl: Type.Optional(Type.String()) })),
});
const XaiRealtimeVoice = Type.Object({ id: Type.String(), name: Type.String(), style: Type.String() });
const VoicesResponse = Type.Object({
  voices: Type.Array(Voice, { description: 'local voices sorted by language, then name' }),
  xai_realtime_voices: Type.Array(XaiRealtimeVoice),
  local_tts: Type.Object({
    available: Type.Boolean(),
    reason: Type.Optional(Type.String()),
  }, { description: 'engine extension: whether the local TTS can speak at all' }),
});

export const LOCAL_TTS_MISSING = 'espeak-ng is not installed';

const byLanguageThenName = (a: LocalVoice, b: LocalVoice): number =>
  a.language.localeCompare(b.language, 'en') || a.name.localeCompare(b.name, 'en') || a.id.localeCompare(b.id, 'en');

/** Voices (spec §3.8): the local TTS voices plus the realtime voices. */
export function registerVoices(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/voices', {
    schema: { tags: ['Voices'], summary: 'List the local TTS voices and the xAI realtime voices', response: { 200: VoicesResponse, ...errors(401, 429) } },
  }, async (req) => {
    let local: { available: boolean; voices: LocalVoice[] };
    try {
      local = await deps.voices.listLocalVoices();
    } catch (err) {
      // The realtime voices stay useful even when the local catalogue cannot be read.
      req.log.warn({ err }, 'local voice catalogue failed');
      return {
        voices: [], xai_realtime_voices: XAI_VOICES,
        local_tts: { available: false, reason: `the local voice catalogue could not be read: ${err instanceof Error ? err.message : String(err)}` },
      };
    }
    return {
      voices: local.available ? [...local.voices].sort(byLanguageThenName) : [],
      xai_realtime_voices: XAI_VOICES,
      local_tts: local.available ? { available: true } : { available: false, reason: LOCAL_TTS_MISSING },
    };
  });
}
