// xAI realtime voice (Grok Voice Agent API) over a plain websocket.
// Docs: https://docs.x.ai/docs/guides/voice/agent (session.update, input_audio_buffer.append,
//       response.* server events, conversation.item.create with function_call_output,
//       response.cancel, conversation.item.truncate; the OpenAI-realtime-style event protocol:
//       https://platform.openai.com/docs/api-reference/realtime-client-events)
// Audio goes in and out in the call's own format where the API accepts it (audio/pcmu,
// audio/pcma, audio/pcm at 16 kHz); with `transcode: 'pcm24k'` G.711 is converted to 24 kHz PCM
// and back, for endpoints that only take PCM.
import WebSocket from 'ws';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw, bytesToPcm16, pcm16ToBytes, resample } from '../audio.js';
import { ProviderError, errorFromStatus } from '../errors.js';
import { EventQueue } from '../queue.js';
import { clampTurnDetection } from '../realtime.js';
import type { RealtimeAudioFormat, RealtimeConnectOptions, RealtimeEvent, RealtimeProvider, RealtimeSession } from '../realtime.js';

export const XAI_DEFAULT_BASE_URL = 'https://api.x.ai/v1';

export interface XaiRealtimeOptions {
  apiKey: string;
  /** Same base as the xAI text API (`XAI_BASE_URL`), e.g. https://api.x.ai/v1. */
  baseUrl?: string;
  /** 'native' (default) sends G.711 as is; 'pcm24k' converts to 24 kHz PCM both ways. */
  transcode?: 'native' | 'pcm24k';
}

type WireFormat = { type: 'audio/pcmu' } | { type: 'audio/pcma' } | { type: 'audio/pcm'; rate: number };

function wireFormat(f: RealtimeAudioFormat, transcode: 'native' | 'pcm24k'): WireFormat {
  if (transcode === 'pcm24k') return { type: 'audio/pcm', rate: 24000 };
  if (f === 'mulaw_8000') return { type: 'audio/pcmu' };
  if (f === 'alaw_8000') return { type: 'audio/pcma' };
  return { type: 'audio/pcm', rate: 16000 };
}

interface ServerEvent {
  type: string;
  event_id?: string;
  delta?: string;
  transcript?: string;
  item_id?: string;
  response_id?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  audio_start_ms?: number;
  audio_end_ms?: number;
  response?: { id?: string; status?: string };
  error?: { type?: string; code?: string; message?: string };
}

export class XaiRealtime implements RealtimeProvider {
  readonly provider = 'xai_realtime';
  readonly #opts: XaiRealtimeOptions;
  constructor(opts: XaiRealtimeOptions) { this.#opts = opts; }

  async connect(opts: RealtimeConnectOptions, signal?: AbortSignal): Promise<RealtimeSession> {
    const s = new XaiSession(this.#opts, opts, signal);
    await s.start();
    return s;
  }
}

class XaiSession implements RealtimeSession {
  readonly #vendor: XaiRealtimeOptions;
  readonly #opts: RealtimeConnectOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #queue = new EventQueue<RealtimeEvent>();
  readonly #transcode: 'native' | 'pcm24k';
  #ws: WebSocket | undefined;
  #closed = false;
  #activeResponse: string | undefined;
  readonly #onAbort = (): void => { void this.#shutdown(); };

  constructor(vendor: XaiRealtimeOptions, opts: RealtimeConnectOptions, signal: AbortSignal | undefined) {
    this.#vendor = vendor;
    this.#opts = opts;
    this.#signal = signal;
    this.#transcode = opts.audioFormat === 'pcm_16000' ? 'native' : (vendor.transcode ?? 'native');
  }

  async start(): Promise<void> {
    if (this.#signal?.aborted) throw new ProviderError({ provider: 'xai_realtime', code: 'aborted', message: 'xai_realtime: aborted' });
    const base = (this.#vendor.baseUrl ?? XAI_DEFAULT_BASE_URL).replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '');
    const url = `${base}/realtime?model=${encodeURIComponent(this.#opts.model)}`;
    const timeoutMs = this.#opts.connectTimeoutMs ?? 5000;
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${this.#vendor.apiKey}` }, handshakeTimeout: timeoutMs });
    this.#ws = ws;
    let ready: ((v: unknown) => void) | undefined;
    let refuse: ((e: ProviderError) => void) | undefined;
    ws.on('message', (d: Buffer) => {
      let ev: ServerEvent;
      try { ev = JSON.parse(d.toString('utf8')) as ServerEvent; } catch { return; }
      if (ev.type === 'session.updated' && ready) { ready(undefined); ready = undefined; }
      if (ev.type === 'error' && refuse && ready) { refuse(new ProviderError({ provider: 'xai_realtime', code: 'bad_request', message: `xai_realtime: session.update refused: ${ev.error?.message ?? ''}` })); return; }
      this.#onEvent(ev);
    });
    ws.on('close', (code: number) => {
      if (refuse) refuse(new ProviderError({ provider: 'xai_realtime', code: 'network', message: `xai_realtime: closed (${code}) during setup` }));
      if (this.#closed) return;
      this.#queue.push({ type: 'error', fatal: true, error: new ProviderError({ provider: 'xai_realtime', code: code === 1008 ? 'auth' : 'network', message: `xai_realtime: socket closed (${code})` }) });
      void this.#shutdown();
    });
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      await new Promise((resolve, reject) => {
        ready = resolve;
        refuse = reject;
        const timer = setTimeout(() => reject(new ProviderError({ provider: 'xai_realtime', code: 'timeout', message: `xai_realtime: no session within ${timeoutMs} ms` })), timeoutMs);
        ws.once('unexpected-response', (_q, res) => { res.resume(); reject(errorFromStatus('xai_realtime', res.statusCode ?? 0, `xai_realtime: handshake refused (${res.statusCode})`)); });
        ws.once('error', (e) => reject(new ProviderError({ provider: 'xai_realtime', code: 'network', message: `xai_realtime: ${e.message}`, cause: e })));
        this.#signal?.addEventListener('abort', () => reject(new ProviderError({ provider: 'xai_realtime', code: 'aborted', message: 'xai_realtime: aborted' })), { once: true });
        ws.once('open', () => this.#send(this.#sessionUpdate()));
        const done = (): void => clearTimeout(timer);
        ws.once('close', done);
        ready = (v) => { done(); resolve(v); };
      });
    } catch (e) {
      this.#closed = true;
      this.#signal?.removeEventListener('abort', this.#onAbort);
      ws.terminate();
      throw e;
    } finally {
      refuse = undefined;
    }
    ws.on('error', () => undefined);
  }

  #sessionUpdate(): Record<string, unknown> {
    const o = this.#opts;
    const td = clampTurnDetection(o.turnDetection);
    const fmt = wireFormat(o.audioFormat, this.#transcode);
    const session: Record<string, unknown> = {
      turn_detection: { type: 'server_vad', threshold: td.threshold, prefix_padding_ms: td.prefixPaddingMs, silence_duration_ms: td.silenceDurationMs, ...(td.idleTimeoutMs ? { idle_timeout_ms: td.idleTimeoutMs } : {}) },
      audio: { input: { format: fmt }, output: { format: fmt } },
    };
    if (o.voice) session.voice = o.voice.charAt(0).toUpperCase() + o.voice.slice(1).toLowerCase();
    if (o.instructions) session.instructions = o.instructions;
    if (o.temperature !== undefined) session.temperature = o.temperature;
    if (o.tools && o.tools.length) session.tools = o.tools.map((t) => ({ type: 'function', name: t.name, description: t.description ?? '', parameters: t.parameters ?? { type: 'object', properties: {} } }));
    return { type: 'session.update', session };
  }

  #send(ev: Record<string, unknown>): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(ev));
  }

  #audioIn(chunk: Uint8Array): Uint8Array {
    if (this.#transcode === 'native') return chunk;
    const pcm = this.#opts.audioFormat === 'alaw_8000' ? decodeAlaw(chunk) : decodeMulaw(chunk);
    return pcm16ToBytes(resample(pcm, 8000, 24000));
  }
  #audioOut(b64: string): Uint8Array {
    const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    if (this.#transcode === 'native') return bytes;
    const pcm = resample(bytesToPcm16(bytes), 24000, 8000);
    return this.#opts.audioFormat === 'alaw_8000' ? encodeAlaw(pcm) : encodeMulaw(pcm);
  }

  #onEvent(ev: ServerEvent): void {
    const q = this.#queue;
    switch (ev.type) {
      case 'input_audio_buffer.speech_started': q.push({ type: 'speech-started', audioStartMs: ev.audio_start_ms ?? 0, ...(ev.item_id ? { itemId: ev.item_id } : {}) }); return;
      case 'input_audio_buffer.speech_stopped': q.push({ type: 'speech-stopped', audioEndMs: ev.audio_end_ms ?? 0, ...(ev.item_id ? { itemId: ev.item_id } : {}) }); return;
      case 'conversation.item.input_audio_transcription.completed': q.push({ type: 'user-transcript', itemId: ev.item_id ?? '', text: ev.transcript ?? '' }); return;
      case 'response.created':
        this.#activeResponse = ev.response?.id;
        q.push({ type: 'response-started', responseId: ev.response?.id ?? '' });
        return;
      case 'response.output_audio.delta':
      case 'response.audio.delta':
        if (ev.delta) q.push({ type: 'audio', audio: this.#audioOut(ev.delta), responseId: ev.response_id ?? '', itemId: ev.item_id ?? '' });
        return;
      case 'response.output_audio_transcript.delta':
      case 'response.audio_transcript.delta':
        q.push({ type: 'agent-transcript-delta', responseId: ev.response_id ?? '', itemId: ev.item_id ?? '', delta: ev.delta ?? '' });
        return;
      case 'response.output_audio_transcript.done':
      case 'response.audio_transcript.done':
        q.push({ type: 'agent-transcript', responseId: ev.response_id ?? '', itemId: ev.item_id ?? '', text: ev.transcript ?? '' });
        return;
      case 'response.function_call_arguments.done':
        q.push({ type: 'function-call', callId: ev.call_id ?? '', name: ev.name ?? '', arguments: ev.arguments ?? '{}', itemId: ev.item_id ?? '' });
        return;
      case 'response.done':
        if (this.#activeResponse === ev.response?.id) this.#activeResponse = undefined;
        q.push({ type: 'response-done', responseId: ev.response?.id ?? '', status: ev.response?.status ?? 'completed' });
        return;
      case 'error':
        q.push({ type: 'error', fatal: false, error: new ProviderError({ provider: 'xai_realtime', code: 'bad_request', message: `xai_realtime: ${ev.error?.code ?? ev.error?.type ?? 'error'}: ${ev.error?.message ?? ''}` }) });
        return;
      default:
        return;
    }
  }

  pushAudio(chunk: Uint8Array): void {
    if (this.#closed || chunk.length === 0) return;
    this.#send({ type: 'input_audio_buffer.append', audio: Buffer.from(this.#audioIn(chunk)).toString('base64') });
  }

  sendToolResult(callId: string, output: string): void {
    this.#send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
    this.#send({ type: 'response.create' });
  }

  sendText(text: string, role: 'user' | 'system' = 'user', respond = true): void {
    this.#send({ type: 'conversation.item.create', item: { type: 'message', role, content: [{ type: 'input_text', text }] } });
    if (respond) this.#send({ type: 'response.create' });
  }

  interrupt(): void {
    if (this.#activeResponse === undefined) return;
    this.#send({ type: 'response.cancel' });
  }

  truncate(itemId: string, playedMs: number): void {
    this.#send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: Math.max(0, Math.round(playedMs)) });
  }

  close(): Promise<void> { return this.#shutdown(); }

  async #shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const ws = this.#ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.close(1000); else ws?.terminate();
    if (ws && ws.readyState !== WebSocket.CLOSED) setTimeout(() => ws.terminate(), 500).unref();
    this.#queue.push({ type: 'closed' });
    this.#queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<RealtimeEvent> { return this.#queue[Symbol.asyncIterator](); }
}
