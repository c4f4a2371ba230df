// The local (offline) voices: whatever Debian's `espeak-ng` can speak on this machine.
// espeak-ng is GPL-3.0: it is only ever run as a separate process, never linked or bundled.
import { execFile } from 'node:child_process';

export interface LocalVoice {
  /** Stable id, `espeak-<espeak voice name>`, e.g. `espeak-en-us`. */
  id: string;
  name: string;
  /** Primary language subtag, e.g. `en`. */
  language: string;
  description?: { en?: string; nl?: string };
}

export interface LocalVoiceList {
  available: boolean;
  voices: LocalVoice[];
}

export const LOCAL_VOICE_PREFIX = 'espeak-';

function run(bin: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 5000, maxBuffer: 1 << 20 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

/** Parses `espeak-ng --voices` (columns: Pty Language Age/Gender VoiceName File Other-Languages). */
export function parseEspeakVoices(out: string): LocalVoice[] {
  const seen = new Set<string>();
  const voices: LocalVoice[] = [];
  for (const line of out.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const lang = cols[1]!.toLowerCase();
    const id = `${LOCAL_VOICE_PREFIX}${lang}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const name = cols[3]!.replace(/_/g, ' ');
    voices.push({ id, name, language: lang.split('-')[0]!, description: { en: `${name} (offline, espeak-ng)` } });
  }
  return voices.sort((a, b) => a.language.localeCompare(b.language) || a.name.localeCompare(b.name));
}

const cache = new Map<string, Promise<LocalVoiceList>>();

/** Lists the local voices (cached per binary); `available: false` with no voices when espeak-ng is missing. */
export function listLocalVoices(bin = 'espeak-ng'): Promise<LocalVoiceList> {
  let p = cache.get(bin);
  if (!p) {
    p = run(bin, ['--voices']).then((out) => (out === undefined ? { available: false, voices: [] } : { available: true, voices: parseEspeakVoices(out) }));
    cache.set(bin, p);
  }
  return p;
}

export async function isLocalTtsAvailable(bin = 'espeak-ng'): Promise<boolean> {
  return (await listLocalVoices(bin)).available;
}

/** True when `voiceId` is a local voice this machine can speak (for write-time validation). */
export async function isLocalVoice(voiceId: string, bin = 'espeak-ng'): Promise<boolean> {
  const list = await listLocalVoices(bin);
  return list.voices.some((v) => v.id === voiceId);
}
