// A TtsStream for providers that synthesise one request per sentence (the ElevenLabs HTTP
// fallback, the local espeak-ng voice): pushed text is cut at sentence ends, sentences are
// synthesised strictly in order, audio offsets run on across sentences. Subclasses say how one
// sentence becomes audio events and how to stop in-flight work.
import { ProviderError, type ProviderName } from './errors.js';
import { EventQueue } from './queue.js';
import type { TtsEvent, TtsStream } from './tts.js';

export abstract class SentenceTtsStream implements TtsStream {
  protected readonly queue = new EventQueue<TtsEvent>();
  /** Set once the stream has ended (flushed, failed or closed); no more audio after that. */
  protected done = false;
  #pending = '';
  #chain: Promise<void> = Promise.resolve();
  #offsetMs = 0;
  readonly #provider: ProviderName;

  constructor(provider: ProviderName, signal: AbortSignal | undefined) {
    this.#provider = provider;
    signal?.addEventListener('abort', () => { void this.close(); }, { once: true });
  }

  /** Pushes this sentence's audio events (offsets from `offsetMs`); resolves with its length in ms. */
  protected abstract synthesizeSentence(text: string, offsetMs: number): Promise<number>;
  /** Stops in-flight synthesis at once (abort a request, kill a process). */
  protected abstract stopWork(): void;

  pushText(text: string): void {
    if (this.done) return;
    this.#pending += text;
    const m = /^([\s\S]*[.!?;:]["')\]]?)(\s[\s\S]*)?$/.exec(this.#pending);
    if (m && m[1]!.trim()) {
      this.#pending = m[2] ?? '';
      this.#speak(m[1]!.trim());
    }
  }

  flush(): void {
    if (this.done) return;
    if (this.#pending.trim()) this.#speak(this.#pending.trim());
    this.#pending = '';
    void this.#chain.then(() => {
      if (this.done) return;
      this.done = true;
      this.queue.push({ type: 'done', totalMs: this.#offsetMs });
      this.queue.end();
    });
  }

  close(): Promise<void> {
    if (!this.done) { this.done = true; this.queue.discard(); }
    this.stopWork();
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<TtsEvent> { return this.queue[Symbol.asyncIterator](); }

  #speak(text: string): void {
    this.#chain = this.#chain.then(async () => {
      if (this.done) return;
      this.#offsetMs += await this.synthesizeSentence(text, this.#offsetMs);
    }).catch((err: unknown) => {
      if (this.done) return;
      this.done = true;
      const e = err instanceof ProviderError ? err : new ProviderError({ provider: this.#provider, code: 'network', message: `${this.#provider}: synthesis failed`, cause: err });
      if (e.code === 'aborted') this.queue.end(); else this.queue.fail(e);
    });
  }
}
