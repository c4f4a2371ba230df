// ElevenLabs text-to-speech.
// Streaming: the `stream-input` websocket, plain `ws` (the SDK has no client for it):
//   https://elevenlabs.io/docs/api-reference/text-to-speech/v-1-text-to-speech-voice-id-stream-input
// One-shot phrases and the fallback: HTTP streaming with timestamps through @elevenlabs/elevenlabs-js:
//   https://elevenlabs.io/docs/api-reference/text-to-speech/stream-with-timestamps
// Audio comes back in the call's format (`ulaw_8000`, `pcm_16000`, ...), with character alignment.
import WebSocket from 'ws';
import { ElevenLabsClient, ElevenLabsError, ElevenLabsTimeoutError } from '@elevenlabs/elevenlabs-js';
import { bytesToMs } from '../audio.js';
import type { AudioFormat } from '../audio.js';
import { ProviderError, errorFromStatus } from '../errors.js';
import { EventQueue } from '../queue.js';
import { SentenceTtsStream } from '../sentence-stream.js';
import type { TtsAlignment, TtsEvent, TtsProvider, TtsStream, TtsStreamOptions, TtsVoiceSettings } from '../tts.js';

export const ELEVENLABS_DEFAULT_BASE_URL = 'https://api.elevenlabs.io';
export const ELEVENLABS_DEFAULT_MODEL = 'eleven_flash_v2_5';

export interface ElevenLabsOptions {
  apiKey: string;
  baseUrl?: string;
  /** `websocket` (default) streams text in as it is pushed; `http` sends a request per sentence. */
  transport?: 'websocket' | 'http';
}

function wireVoiceSettings(v: TtsVoiceSettings | undefined): Record<string, number | boolean> | undefined {
  if (!v) return undefined;
  const out: Record<string, number | boolean> = {};
  if (v.stability !== undefined) out.stability = v.stability;
  if (v.similarityBoost !== undefined) out.similarity_boost = v.similarityBoost;
  if (v.style !== undefined) out.style = v.style;
  if (v.useSpeakerBoost !== undefined) out.use_speaker_boost = v.useSpeakerBoost;
  if (v.speed !== undefined) out.speed = v.speed;
  return Object.keys(out).length ? out : undefined;
}

/** Error codes ElevenLabs puts in the `error` field of a websocket error message. */
function wsErrorCode(code: string | undefined): ProviderError['code'] {
  switch (code) {
    case 'auth_error': case 'invalid_api_key': case 'unauthorized': case 'missing_api_key': return 'auth';
    case 'rate_limited': case 'too_many_concurrent_requests': return 'rate_limited';
    case 'input_timeout_exceeded': return 'timeout';
    case 'internal_error': case 'server_error': return 'server';
    default: return 'bad_request';
  }
}

const SENTENCE_BOUNDARY = /[.!?;:]["')\]]?\s+/g;

export class ElevenLabsTts implements TtsProvider {
  readonly provider = 'elevenlabs';
  readonly #opts: ElevenLabsOptions;
  readonly #client: ElevenLabsClient;

  constructor(opts: ElevenLabsOptions) {
    this.#opts = opts;
    this.#client = new ElevenLabsClient({ apiKey: opts.apiKey, baseUrl: (opts.baseUrl ?? ELEVENLABS_DEFAULT_BASE_URL).replace(/\/+$/, ''), maxRetries: 0 });
  }

  async stream(opts: TtsStreamOptions, signal?: AbortSignal): Promise<TtsStream> {
    if (signal?.aborted) throw new ProviderError({ provider: 'elevenlabs', code: 'aborted', message: 'elevenlabs: aborted' });
    if (this.#opts.transport === 'http') return new HttpTtsStream(this, opts, signal);
    const s = new WsTtsStream(this.#opts, opts, signal);
    await s.start();
    return s;
  }

  async *synthesize(text: string, opts: TtsStreamOptions, signal?: AbortSignal, startMs = 0): AsyncIterable<TtsEvent> {
    if (signal?.aborted) throw new ProviderError({ provider: 'elevenlabs', code: 'aborted', message: 'elevenlabs: aborted' });
    const voiceSettings = opts.voiceSettings ? {
      ...(opts.voiceSettings.stability !== undefined ? { stability: opts.voiceSettings.stability } : {}),
      ...(opts.voiceSettings.similarityBoost !== undefined ? { similarityBoost: opts.voiceSettings.similarityBoost } : {}),
      ...(opts.voiceSettings.style !== undefined ? { style: opts.voiceSettings.style } : {}),
      ...(opts.voiceSettings.useSpeakerBoost !== undefined ? { useSpeakerBoost: opts.voiceSettings.useSpeakerBoost } : {}),
      ...(opts.voiceSettings.speed !== undefined ? { speed: opts.voiceSettings.speed } : {}),
    } : undefined;
    let offset = startMs;
    try {
      const stream = await this.#client.textToSpeech.streamWithTimestamps(opts.voiceId, {
        text,
        modelId: opts.model ?? ELEVENLABS_DEFAULT_MODEL,
        outputFormat: opts.outputFormat,
        ...(voiceSettings ? { voiceSettings } : {}),
        ...(opts.language ? { languageCode: opts.language } : {}),
      }, { abortSignal: signal, maxRetries: 0, timeoutInSeconds: (opts.timeoutMs ?? 10_000) / 1000 });
      for await (const chunk of stream) {
        if (!chunk.audioBase64) continue;
        const audio = new Uint8Array(Buffer.from(chunk.audioBase64, 'base64'));
        const durationMs = bytesToMs(audio.length, opts.outputFormat);
        let alignment: TtsAlignment | undefined;
        const a = chunk.alignment;
        if (a && a.characters.length > 0) {
          // HTTP alignment is in seconds from the start of this request's audio.
          alignment = {
            chars: a.characters,
            charStartMs: a.characterStartTimesSeconds.map((s) => Math.round(startMs + s * 1000)),
            charDurationMs: a.characterEndTimesSeconds.map((e, i) => Math.max(0, Math.round((e - (a.characterStartTimesSeconds[i] ?? e)) * 1000))),
          };
        }
        yield { type: 'audio', audio, format: opts.outputFormat, offsetMs: offset, durationMs, ...(alignment ? { alignment } : {}) };
        offset += durationMs;
      }
    } catch (err) {
      throw mapHttpError(err, signal);
    }
    yield { type: 'done', totalMs: offset };
  }
}

function mapHttpError(err: unknown, signal: AbortSignal | undefined): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted) return new ProviderError({ provider: 'elevenlabs', code: 'aborted', message: 'elevenlabs: aborted', cause: err });
  if (err instanceof ElevenLabsTimeoutError) return new ProviderError({ provider: 'elevenlabs', code: 'timeout', message: 'elevenlabs: request timed out', cause: err });
  if (err instanceof ElevenLabsError && typeof err.statusCode === 'number') return errorFromStatus('elevenlabs', err.statusCode, `elevenlabs: HTTP ${err.statusCode}`, err);
  return new ProviderError({ provider: 'elevenlabs', code: 'network', message: `elevenlabs: ${err instanceof Error ? err.message : String(err)}`, cause: err });
}

interface WsAlignment { chars: string[]; charStartTimesMs: number[]; charDurationsMs: number[] }
interface WsMessage { audio?: string | null; isFinal?: boolean | null; alignment?: WsAlignment | null; normalizedAlignment?: WsAlignment | null; error?: string; message?: string }

class WsTtsStream implements TtsStream {
  readonly #vendor: ElevenLabsOptions;
  readonly #opts: TtsStreamOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #queue = new EventQueue<TtsEvent>();
  #ws: WebSocket | undefined;
  #pending = '';
  #offsetMs = 0;
  #flushed = false;
  #finished = false;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => { this.#fail(new ProviderError({ provider: 'elevenlabs', code: 'aborted', message: 'elevenlabs: aborted' }), true); };

  constructor(vendor: ElevenLabsOptions, opts: TtsStreamOptions, signal: AbortSignal | undefined) {
    this.#vendor = vendor;
    this.#opts = opts;
    this.#signal = signal;
  }

  async start(): Promise<void> {
    const base = (this.#vendor.baseUrl ?? ELEVENLABS_DEFAULT_BASE_URL).replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '');
    const q = new URLSearchParams({ model_id: this.#opts.model ?? ELEVENLABS_DEFAULT_MODEL, output_format: this.#opts.outputFormat, sync_alignment: 'true' });
    if (this.#opts.language) q.set('language_code', this.#opts.language);
    const url = `${base}/v1/text-to-speech/${encodeURIComponent(this.#opts.voiceId)}/stream-input?${q}`;
    const timeoutMs = this.#opts.timeoutMs ?? 10_000;
    const ws = new WebSocket(url, { headers: { 'xi-api-key': this.#vendor.apiKey }, handshakeTimeout: timeoutMs });
    this.#ws = ws;
    // Listen before the handshake completes: an auth error message can arrive with the upgrade.
    let opened = false;
    ws.on('message', (d: Buffer) => this.#onMessage(d));
    ws.on('close', (code: number) => {
      if (this.#finished || !opened) return;
      const err = this.#lastError ?? new ProviderError({ provider: 'elevenlabs', code: code === 1008 ? 'bad_request' : 'network', message: `elevenlabs: socket closed (${code}) before the final message` });
      this.#fail(err, false);
    });
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => { opened = true; resolve(); });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(errorFromStatus('elevenlabs', res.statusCode ?? 0, `elevenlabs: handshake refused (${res.statusCode})`));
        ws.terminate();
      });
      ws.once('error', (e) => reject(new ProviderError({ provider: 'elevenlabs', code: 'network', message: `elevenlabs: ${e.message}`, cause: e })));
      this.#signal?.addEventListener('abort', () => reject(new ProviderError({ provider: 'elevenlabs', code: 'aborted', message: 'elevenlabs: aborted' })), { once: true });
    }).catch((e: unknown) => { this.#signal?.removeEventListener('abort', this.#onAbort); ws.terminate(); throw e; });
    ws.on('error', () => undefined);
    const init: Record<string, unknown> = { text: ' ', generation_config: { chunk_length_schedule: [50, 90, 120, 150] } };
    const vs = wireVoiceSettings(this.#opts.voiceSettings);
    if (vs) init.voice_settings = vs;
    ws.send(JSON.stringify(init));
  }

  #lastError: ProviderError | undefined;

  #onMessage(d: Buffer): void {
    let m: WsMessage;
    try { m = JSON.parse(d.toString('utf8')) as WsMessage; } catch { return this.#fail(new ProviderError({ provider: 'elevenlabs', code: 'protocol', message: 'elevenlabs: non-JSON message' }), true); }
    if (m.error) {
      this.#lastError = new ProviderError({ provider: 'elevenlabs', code: wsErrorCode(m.error), message: `elevenlabs: ${m.error}: ${m.message ?? ''}` });
      return;
    }
    if (m.audio) {
      this.#armWatchdog();
      const audio = new Uint8Array(Buffer.from(m.audio, 'base64'));
      const durationMs = bytesToMs(audio.length, this.#opts.outputFormat);
      const a = m.alignment ?? m.normalizedAlignment;
      const off = this.#offsetMs;
      const ev: TtsEvent = {
        type: 'audio', audio, format: this.#opts.outputFormat, offsetMs: off, durationMs,
        // stream-input alignment is relative to the start of this chunk.
        ...(a && a.chars.length ? { alignment: { chars: a.chars, charStartMs: a.charStartTimesMs.map((t) => off + t), charDurationMs: a.charDurationsMs } } : {}),
      };
      this.#offsetMs += durationMs;
      this.#queue.push(ev);
    }
    if (m.isFinal === true) {
      this.#finished = true;
      this.#clearWatchdog();
      this.#queue.push({ type: 'done', totalMs: this.#offsetMs });
      this.#queue.end();
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#ws?.close(1000);
    }
  }

  #armWatchdog(): void {
    if (!this.#flushed) return;
    this.#clearWatchdog();
    const ms = this.#opts.timeoutMs ?? 10_000;
    this.#watchdog = setTimeout(() => this.#fail(new ProviderError({ provider: 'elevenlabs', code: 'timeout', message: `elevenlabs: no audio for ${ms} ms` }), true), ms);
  }
  #clearWatchdog(): void { if (this.#watchdog) clearTimeout(this.#watchdog); this.#watchdog = undefined; }

  #send(text: string, flush: boolean): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify(flush ? { text, flush: true } : { text }));
  }

  pushText(text: string): void {
    if (this.#finished || this.#flushed || !text) return;
    this.#pending += text;
    // Send whole words; ElevenLabs wants each text chunk to end with a space.
    const cut = Math.max(this.#pending.lastIndexOf(' '), this.#pending.lastIndexOf('\n'));
    if (cut < 0) return;
    const head = this.#pending.slice(0, cut + 1);
    this.#pending = this.#pending.slice(cut + 1);
    // A finished sentence is generated at once (flush) rather than waiting for the chunk schedule.
    let end = -1;
    for (const m of head.matchAll(SENTENCE_BOUNDARY)) end = (m.index ?? 0) + m[0].length;
    if (end < 0) return this.#send(head, false);
    this.#send(head.slice(0, end), true);
    if (end < head.length && head.slice(end).trim()) this.#send(head.slice(end), false);
  }

  flush(): void {
    if (this.#finished || this.#flushed) return;
    this.#flushed = true;
    if (this.#pending.trim()) this.#send(`${this.#pending} `, false);
    this.#pending = '';
    this.#send('', false); // end of input: generate the rest, send isFinal, close
    this.#armWatchdog();
  }

  #fail(err: ProviderError, terminate: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearWatchdog();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (terminate) this.#ws?.terminate();
    if (err.code === 'aborted') this.#queue.discard();
    else this.#queue.fail(err);
  }

  close(): Promise<void> {
    if (!this.#finished) {
      this.#finished = true;
      this.#clearWatchdog();
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#queue.discard();
    }
    this.#ws?.terminate();
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<TtsEvent> { return this.#queue[Symbol.asyncIterator](); }
}

/** Fallback: pushed text is cut into sentences, each synthesized over HTTP in order. */
class HttpTtsStream extends SentenceTtsStream {
  readonly #tts: ElevenLabsTts;
  readonly #opts: TtsStreamOptions;
  readonly #ac = new AbortController();

  constructor(tts: ElevenLabsTts, opts: TtsStreamOptions, signal: AbortSignal | undefined) {
    super('elevenlabs', signal);
    this.#tts = tts;
    this.#opts = opts;
  }

  protected async synthesizeSentence(text: string, offsetMs: number): Promise<number> {
    let total = offsetMs;
    for await (const ev of this.#tts.synthesize(text, this.#opts, this.#ac.signal, offsetMs)) {
      if (ev.type === 'audio') this.queue.push(ev);
      else total = ev.totalMs;
    }
    return total - offsetMs;
  }

  protected stopWork(): void {
    this.#ac.abort();
  }
}

export type { AudioFormat };
