import type { LocalVoice, VoiceCatalog } from './api/deps.js';

/**
 * The local TTS voice catalogue behind GET /voices. The providers layer (engine/providers/local)
 * knows which espeak-ng voices exist; this adapter keeps the API independent of it and caches the
 * answer (the voice list only changes when packages are installed).
 */
export function localVoiceCatalog(): VoiceCatalog {
  let cached: Promise<{ available: boolean; voices: LocalVoice[] }> | undefined;
  return {
    listLocalVoices: () => (cached ??= import('./providers/local/voices.js').then(
      (m: { listLocalVoices(): Promise<{ available: boolean; voices: LocalVoice[] }> }) => m.listLocalVoices(),
    )),
  };
}
