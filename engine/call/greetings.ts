/**
 * Greeting audio cache: first messages are synthesised while the call is still ringing and kept
 * per assistant voice and text, so the greeting's first packet leaves right after the ACK.
 */
import type { TtsProvider, TtsStreamOptions } from '../providers/tts.js';

export interface CachedAudio {
  readonly chunks: readonly { audio: Uint8Array; durationMs: number; offsetMs: number }[];
}

export class GreetingCache {
  readonly #max: number;
  readonly #entries = new Map<string, Promise<CachedAudio | undefined>>();
  readonly #ready = new Map<string, CachedAudio>();

  constructor(max = 200) {
    this.#max = max;
  }

  static key(provider: string, opts: TtsStreamOptions, text: string): string {
    return JSON.stringify([provider, opts.voiceId, opts.model ?? '', opts.outputFormat, opts.voiceSettings ?? {}, opts.language ?? '', text]);
  }

  /** Ready audio for a key, or undefined (never waits). */
  get(key: string): CachedAudio | undefined {
    const v = this.#ready.get(key);
    if (v) {
      // LRU: touch.
      this.#ready.delete(key);
      this.#ready.set(key, v);
    }
    return v;
  }

  /** Synthesises once per key; concurrent calls share the work. Failures are not cached. */
  warm(key: string, tts: TtsProvider, opts: TtsStreamOptions, text: string, signal?: AbortSignal): Promise<CachedAudio | undefined> {
    const ready = this.get(key);
    if (ready) return Promise.resolve(ready);
    let p = this.#entries.get(key);
    if (!p) {
      p = (async () => {
        const chunks: { audio: Uint8Array; durationMs: number; offsetMs: number }[] = [];
        try {
          for await (const ev of tts.synthesize(text, opts, signal)) {
            if (ev.type === 'audio') chunks.push({ audio: ev.audio, durationMs: ev.durationMs, offsetMs: ev.offsetMs });
          }
        } catch {
          return undefined;
        } finally {
          this.#entries.delete(key);
        }
        if (!chunks.length) return undefined;
        const v: CachedAudio = { chunks };
        this.#ready.set(key, v);
        while (this.#ready.size > this.#max) this.#ready.delete(this.#ready.keys().next().value as string);
        return v;
      })();
      this.#entries.set(key, p);
    }
    return p;
  }
}
