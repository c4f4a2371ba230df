// Deepgram live transcription (listen v1 websocket) through @deepgram/sdk.
// Docs: https://developers.deepgram.com/reference/speech-to-text-api/listen-streaming
//       https://developers.deepgram.com/docs/audio-keep-alive
//       https://developers.deepgram.com/docs/recovering-from-connection-errors-and-timeouts-when-live-streaming-audio
// The SDK builds the URL, query string and `Authorization: Token <key>` header and parses the
// messages; we hand it a `ws`-based transport so that we see the handshake's HTTP status (401 is
// fatal, 5xx is retryable) and own reconnection: on a dropped socket a new one is opened and
// the audio pushed since the last final result is sent again, so no words are lost.
import { DeepgramClient } from '@deepgram/sdk';
import type { DeepgramTransport, DeepgramTransportCloseEvent, DeepgramTransportMessage } from '@deepgram/sdk';
import WebSocket from 'ws';
import { ProviderError, errorFromStatus, sleep } from '../errors.js';
import { EventQueue } from '../queue.js';
import type { SttEvent, SttProvider, SttSession, SttStreamOptions, SttWord } from '../stt.js';

export interface DeepgramOptions {
  apiKey: string;
  /** e.g. `wss://api.deepgram.com` (default) or a fake's `http://127.0.0.1:port`. */
  baseUrl?: string;
}

/** Turns an http(s) base URL into the ws(s) one the live endpoint needs. */
export function toWsBase(url: string): string {
  return url.replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '');
}

interface DgWord { word: string; start: number; end: number; confidence: number; punctuated_word?: string }
interface DgResults {
  type: 'Results'; start: number; duration: number; is_final?: boolean; speech_final?: boolean; from_finalize?: boolean;
  channel: { alternatives: { transcript: string; confidence: number; words: DgWord[] }[] };
}
type DgMessage =
  | DgResults
  | { type: 'UtteranceEnd'; last_word_end: number }
  | { type: 'SpeechStarted'; timestamp: number }
  | { type: 'Metadata'; request_id: string; duration: number };

/** A `ws` transport for the SDK that remembers why a handshake failed. */
class WsTransport implements DeepgramTransport {
  readonly ws: WebSocket;
  failure: ProviderError | undefined;
  #open: (() => void)[] = [];
  #msg: ((m: DeepgramTransportMessage) => void)[] = [];
  #err: ((e: Error) => void)[] = [];
  #close: ((e: DeepgramTransportCloseEvent) => void)[] = [];

  constructor(url: string, headers: Record<string, string>, protocols: string[], timeoutMs: number) {
    this.ws = new WebSocket(url, protocols, { headers, handshakeTimeout: timeoutMs });
    this.ws.binaryType = 'arraybuffer';
    this.ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').slice(0, 300);
        this.failure = errorFromStatus('deepgram', res.statusCode ?? 0, `deepgram: handshake refused (${res.statusCode}): ${body}`);
        for (const f of this.#err) f(this.failure);
        for (const f of this.#close) f({ code: 1006, reason: 'handshake refused' });
      });
      res.on('error', () => undefined);
    });
    this.ws.on('open', () => { for (const f of this.#open) f(); });
    this.ws.on('message', (data: ArrayBuffer | Buffer, isBinary: boolean) => {
      const m: DeepgramTransportMessage = isBinary ? (data as ArrayBuffer) : Buffer.from(data as ArrayBuffer).toString('utf8');
      for (const f of this.#msg) f(m);
    });
    this.ws.on('error', (e: Error) => {
      if (this.failure) return;
      this.failure = new ProviderError({ provider: 'deepgram', code: /timeout/i.test(e.name) ? 'timeout' : 'network', message: `deepgram: ${e.message}`, cause: e });
      for (const f of this.#err) f(this.failure);
    });
    this.ws.on('close', (code: number, reason: Buffer) => { for (const f of this.#close) f({ code, reason: reason.toString() }); });
  }
  send(data: DeepgramTransportMessage): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (data instanceof Blob) throw new TypeError('Blob audio is not supported');
    this.ws.send(data as string | ArrayBuffer | ArrayBufferView);
  }
  onOpen(l: () => void): void { this.#open.push(l); }
  onMessage(l: (m: DeepgramTransportMessage) => void): void { this.#msg.push(l); }
  onError(l: (e: Error) => void): void { this.#err.push(l); }
  onClose(l: (e: DeepgramTransportCloseEvent) => void): void { this.#close.push(l); }
  isOpen(): boolean { return this.ws.readyState === WebSocket.OPEN; }
  close(code?: number, reason?: string): void {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) { this.ws.terminate(); return; }
    this.ws.close(code === 1000 || (code !== undefined && code >= 3000 && code < 5000) ? code : 1000, reason);
  }
}

export class DeepgramStt implements SttProvider {
  readonly provider = 'deepgram';
  readonly #opts: DeepgramOptions;
  constructor(opts: DeepgramOptions) { this.#opts = opts; }

  async stream(opts: SttStreamOptions, signal?: AbortSignal): Promise<SttSession> {
    const session = new DeepgramSession(this.#opts, opts, signal);
    await session.start();
    return session;
  }
}

type Sock = Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>;

class DeepgramSession implements SttSession {
  readonly #vendor: DeepgramOptions;
  readonly #opts: SttStreamOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #queue = new EventQueue<SttEvent>();
  readonly #bytesPerSec: number;
  #sock: Sock | undefined;
  #transport: WsTransport | undefined;
  // Audio bookkeeping in bytes from the start of the session.
  #chunks: { at: number; data: Uint8Array }[] = [];
  #pushed = 0;
  #confirmed = 0;
  #connBase = 0;
  #lastAudioAt = Date.now();
  #keepAlive: NodeJS.Timeout | undefined;
  #closing = false;
  #closed = false;
  #reconnecting = false;
  #reconnectDone: Promise<void> | undefined;
  #closeWaiter: (() => void) | undefined;
  readonly #onAbort = (): void => { void this.#shutdown(true); };

  constructor(vendor: DeepgramOptions, opts: SttStreamOptions, signal: AbortSignal | undefined) {
    this.#vendor = vendor;
    this.#opts = opts;
    this.#signal = signal;
    this.#bytesPerSec = opts.sampleRate * (opts.encoding === 'linear16' ? 2 : 1);
  }

  async start(): Promise<void> {
    if (this.#signal?.aborted) throw new ProviderError({ provider: 'deepgram', code: 'aborted', message: 'deepgram: aborted' });
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      await this.#connect();
    } catch (err) {
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#closed = true;
      throw err;
    }
    const ka = this.#opts.keepAliveMs ?? 3000;
    this.#keepAlive = setInterval(() => {
      if (this.#sock && this.#transport?.isOpen() && Date.now() - this.#lastAudioAt >= ka) {
        this.#sock.sendKeepAlive({ type: 'KeepAlive' });
        this.#lastAudioAt = Date.now();
      }
    }, Math.max(50, Math.floor(ka / 2)));
    this.#keepAlive.unref();
  }

  async #connect(): Promise<void> {
    const o = this.#opts;
    const timeoutMs = o.connectTimeoutMs ?? 5000;
    let transport: WsTransport | undefined;
    const client = new DeepgramClient({
      apiKey: this.#vendor.apiKey,
      ...(this.#vendor.baseUrl ? { baseUrl: toWsBase(this.#vendor.baseUrl) } : {}),
      transportFactory: (url, headers, req) => (transport = new WsTransport(url, headers, req.protocols, timeoutMs)),
    });
    const args: Parameters<DeepgramClient['listen']['v1']['connect']>[0] = {
      model: o.model,
      language: o.language,
      encoding: o.encoding,
      sample_rate: o.sampleRate,
      channels: 1,
      interim_results: String(o.interimResults ?? true),
      endpointing: o.endpointingMs === false ? false : (o.endpointingMs ?? 300),
      vad_events: String(o.vadEvents ?? true),
      smart_format: String(o.smartFormat ?? true),
      reconnectAttempts: 0,
      connectionTimeoutInSeconds: timeoutMs / 1000,
    };
    if ((o.interimResults ?? true) && o.utteranceEndMs !== 0) args.utterance_end_ms = Math.max(1000, o.utteranceEndMs ?? 1000);
    if (o.keyterms && o.keyterms.length > 0) args.keyterm = [...o.keyterms];
    const sock = await client.listen.v1.connect(args);
    sock.on('message', (m) => this.#onMessage(m as unknown as DgMessage));
    sock.connect();
    const t = transport as WsTransport | undefined;
    if (!t) throw new ProviderError({ provider: 'deepgram', code: 'protocol', message: 'deepgram: transport was not created' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { t.close(); reject(new ProviderError({ provider: 'deepgram', code: 'timeout', message: `deepgram: no connection within ${timeoutMs} ms` })); }, timeoutMs);
      const onAbort = (): void => { clearTimeout(timer); t.close(); reject(new ProviderError({ provider: 'deepgram', code: 'aborted', message: 'deepgram: aborted' })); };
      this.#signal?.addEventListener('abort', onAbort, { once: true });
      t.onOpen(() => { clearTimeout(timer); this.#signal?.removeEventListener('abort', onAbort); resolve(); });
      t.onClose(() => { clearTimeout(timer); this.#signal?.removeEventListener('abort', onAbort); reject(t.failure ?? new ProviderError({ provider: 'deepgram', code: 'network', message: 'deepgram: closed during handshake' })); });
    });
    this.#sock = sock;
    this.#transport = t;
    t.onClose((e) => this.#onClose(t, e));
    // Resend everything the service has not confirmed with a final result.
    this.#connBase = this.#confirmed;
    for (const c of this.#chunks) {
      const from = Math.max(0, this.#confirmed - c.at);
      if (from < c.data.length) sock.sendMedia(from === 0 ? c.data : c.data.subarray(from));
    }
  }

  sendAudio(chunk: Uint8Array): void {
    if (this.#closed || this.#closing || chunk.length === 0) return;
    const data = new Uint8Array(chunk); // callers may reuse their buffers
    this.#chunks.push({ at: this.#pushed, data });
    this.#pushed += data.length;
    this.#lastAudioAt = Date.now();
    // Bound the resend buffer to 120 s of audio.
    const limit = this.#bytesPerSec * 120;
    while (this.#chunks.length > 1 && this.#pushed - this.#chunks[0]!.at > limit) this.#chunks.shift();
    if (this.#transport?.isOpen() && !this.#reconnecting) this.#sock?.sendMedia(data);
  }

  finalize(): void {
    if (this.#transport?.isOpen()) this.#sock?.sendFinalize({ type: 'Finalize' });
  }

  #toSec(connSec: number): number {
    return this.#connBase / this.#bytesPerSec + connSec;
  }

  #onMessage(m: DgMessage): void {
    if (this.#closed || typeof m !== 'object' || m === null) return;
    switch (m.type) {
      case 'Results': {
        const alt = m.channel?.alternatives?.[0];
        const words: SttWord[] = (alt?.words ?? []).map((w) => ({
          word: w.word, start: this.#toSec(w.start), end: this.#toSec(w.end), confidence: w.confidence,
          ...(w.punctuated_word !== undefined ? { punctuatedWord: w.punctuated_word } : {}),
        }));
        const base = { text: alt?.transcript ?? '', start: this.#toSec(m.start), duration: m.duration, confidence: alt?.confidence ?? 0, words };
        if (m.is_final) {
          const end = this.#connBase + Math.round((m.start + m.duration) * this.#bytesPerSec);
          if (end > this.#confirmed) {
            this.#confirmed = Math.min(end, this.#pushed);
            while (this.#chunks.length > 0 && this.#chunks[0]!.at + this.#chunks[0]!.data.length <= this.#confirmed) this.#chunks.shift();
          }
          this.#queue.push({ type: 'final', speechFinal: m.speech_final === true, fromFinalize: m.from_finalize === true, ...base });
        } else {
          this.#queue.push({ type: 'interim', ...base });
        }
        return;
      }
      case 'UtteranceEnd':
        this.#queue.push({ type: 'utterance-end', lastWordEnd: this.#toSec(m.last_word_end) });
        return;
      case 'SpeechStarted':
        this.#queue.push({ type: 'speech-started', timestamp: this.#toSec(m.timestamp) });
        return;
      case 'Metadata':
        this.#queue.push({ type: 'metadata', requestId: m.request_id, duration: m.duration });
        return;
      default:
        return;
    }
  }

  #onClose(t: WsTransport, e: DeepgramTransportCloseEvent): void {
    if (t !== this.#transport) return;
    this.#transport = undefined;
    this.#sock = undefined;
    if (this.#closed || (this.#closing && !this.#reconnecting && this.#closeWaiter)) { this.#closeWaiter?.(); return; }
    const err = t.failure ?? new ProviderError({ provider: 'deepgram', code: 'network', message: `deepgram: socket closed (${e.code ?? 0} ${e.reason ?? ''})` });
    this.#reconnectDone = this.#reconnect(err);
  }

  async #reconnect(first: ProviderError): Promise<void> {
    this.#reconnecting = true;
    const max = this.#opts.maxReconnects ?? 5;
    let err = first;
    // A graceful close() waits for this loop, so that buffered audio is still transcribed.
    for (let attempt = 1; attempt <= max && !this.#closed; attempt++) {
      this.#queue.push({ type: 'reconnecting', attempt, error: err });
      try {
        await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)), this.#signal);
        await this.#connect();
        this.#reconnecting = false;
        this.#queue.push({ type: 'reconnected', resentMs: Math.round(((this.#pushed - this.#confirmed) / this.#bytesPerSec) * 1000) });
        return;
      } catch (e) {
        if (this.#closed) return;
        err = e instanceof ProviderError ? e : new ProviderError({ provider: 'deepgram', code: 'network', message: 'deepgram: reconnect failed', cause: e });
        if (!err.retryable) break;
      }
    }
    this.#reconnecting = false;
    if (this.#closed) return;
    this.#queue.push({ type: 'error', error: err });
    await this.#shutdown(true);
  }

  async close(): Promise<void> {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    if (this.#reconnecting && this.#reconnectDone) await Promise.race([this.#reconnectDone, sleep(5000).catch(() => undefined)]);
    const sock = this.#sock;
    if (sock && this.#transport?.isOpen()) {
      // CloseStream makes Deepgram send the last results and Metadata, then close.
      const done = new Promise<void>((resolve) => { this.#closeWaiter = resolve; });
      sock.sendCloseStream({ type: 'CloseStream' });
      await Promise.race([done, sleep(2000).catch(() => undefined)]);
    }
    await this.#shutdown(false);
  }

  async #shutdown(immediate: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    const t = this.#transport;
    this.#transport = undefined;
    this.#sock = undefined;
    if (t) { if (immediate) t.ws.terminate(); else t.close(1000); }
    this.#chunks = [];
    this.#queue.push({ type: 'closed' });
    this.#queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<SttEvent> {
    return this.#queue[Symbol.asyncIterator]();
  }
}
