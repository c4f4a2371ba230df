// Local text-to-speech (`provider: "local"`): espeak-ng run as a child process per sentence,
// its WAV output converted to the call's format. Offline, fast, a little robotic.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { bytesToMs, encodeAs, parseWav } from '../audio.js';
import { ProviderError } from '../errors.js';
import { SentenceTtsStream } from '../sentence-stream.js';
import type { TtsEvent, TtsProvider, TtsStream, TtsStreamOptions } from '../tts.js';
import { LOCAL_VOICE_PREFIX, listLocalVoices } from './voices.js';

export interface LocalTtsOptions {
  /** The espeak-ng binary (default `espeak-ng` on PATH). */
  bin?: string;
}

const CHUNK_MS = 100;

export class LocalTts implements TtsProvider {
  readonly provider = 'local';
  readonly #bin: string;
  constructor(opts: LocalTtsOptions = {}) { this.#bin = opts.bin ?? 'espeak-ng'; }

  async #voice(voiceId: string): Promise<string> {
    const list = await listLocalVoices(this.#bin);
    if (!list.available) throw new ProviderError({ provider: 'local', code: 'unavailable', message: 'local: espeak-ng is not installed' });
    if (!list.voices.some((v) => v.id === voiceId)) throw new ProviderError({ provider: 'local', code: 'bad_request', message: `local: unknown voice ${voiceId}` });
    return voiceId.slice(LOCAL_VOICE_PREFIX.length);
  }

  async stream(opts: TtsStreamOptions, signal?: AbortSignal): Promise<TtsStream> {
    if (signal?.aborted) throw new ProviderError({ provider: 'local', code: 'aborted', message: 'local: aborted' });
    const voice = await this.#voice(opts.voiceId);
    return new LocalStream(this.#bin, voice, opts, signal);
  }

  async *synthesize(text: string, opts: TtsStreamOptions, signal?: AbortSignal): AsyncIterable<TtsEvent> {
    const s = await this.stream(opts, signal);
    s.pushText(text);
    s.flush();
    yield* s;
  }
}

class LocalStream extends SentenceTtsStream {
  readonly #bin: string;
  readonly #voice: string;
  readonly #opts: TtsStreamOptions;
  #child: ChildProcess | undefined;

  constructor(bin: string, voice: string, opts: TtsStreamOptions, signal: AbortSignal | undefined) {
    super('local', signal);
    this.#bin = bin;
    this.#voice = voice;
    this.#opts = opts;
  }

  #render(text: string): Promise<Int16Array | undefined> {
    return new Promise((resolve, reject) => {
      if (this.done) return resolve(undefined);
      const wpm = Math.round(175 * Math.min(2, Math.max(0.5, this.#opts.voiceSettings?.speed ?? 1)));
      const p = spawn(this.#bin, ['-v', this.#voice, '-s', String(wpm), '--stdout', '--stdin'], { stdio: ['pipe', 'pipe', 'ignore'] });
      this.#child = p;
      const chunks: Buffer[] = [];
      p.stdout?.on('data', (c: Buffer) => chunks.push(c));
      p.on('error', (e) => reject(new ProviderError({ provider: 'local', code: 'unavailable', message: `local: ${e.message}`, cause: e })));
      p.on('close', (code) => {
        this.#child = undefined;
        if (this.done) return resolve(undefined);
        if (code !== 0) return reject(new ProviderError({ provider: 'local', code: 'server', message: `local: espeak-ng exited with ${code}` }));
        try {
          const wav = parseWav(new Uint8Array(Buffer.concat(chunks)));
          this.#rate = wav.sampleRate;
          resolve(wav.pcm);
        } catch (e) { reject(new ProviderError({ provider: 'local', code: 'protocol', message: 'local: unreadable espeak-ng output', cause: e })); }
      });
      p.stdin?.on('error', () => undefined);
      p.stdin?.end(text);
    });
  }
  #rate = 22050;

  protected async synthesizeSentence(text: string, offsetMs: number): Promise<number> {
    const pcm = await this.#render(text);
    if (!pcm || this.done) return 0;
    const fmt = this.#opts.outputFormat;
    const bytes = encodeAs(pcm, this.#rate, fmt);
    const totalMs = bytesToMs(bytes.length, fmt);
    const chars = [...text];
    const per = chars.length ? totalMs / chars.length : 0;
    const step = Math.max(1, Math.round((bytes.length * CHUNK_MS) / Math.max(1, totalMs)));
    const aligned = step % 2 === 0 ? step : step + 1;
    for (let off = 0; off < bytes.length && !this.done; off += aligned) {
      const audio = bytes.slice(off, off + aligned);
      const t0 = bytesToMs(off, fmt);
      const durationMs = bytesToMs(audio.length, fmt);
      const idx = chars.flatMap((_, i) => (i * per >= t0 && i * per < t0 + durationMs ? [i] : []));
      // espeak-ng gives no character timings here: they are spread evenly over the sentence.
      this.queue.push({
        type: 'audio', audio, format: fmt, offsetMs: offsetMs + t0, durationMs,
        ...(idx.length ? { alignment: { chars: idx.map((i) => chars[i]!), charStartMs: idx.map((i) => Math.round(offsetMs + i * per)), charDurationMs: idx.map(() => Math.round(per)) } } : {}),
      });
    }
    return totalMs;
  }

  protected stopWork(): void {
    this.#child?.kill('SIGKILL');
  }

}
