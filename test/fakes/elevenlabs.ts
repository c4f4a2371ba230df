// Fake ElevenLabs text-to-speech server: the `stream-input` websocket and HTTP streaming.
// Follows: https://elevenlabs.io/docs/api-reference/text-to-speech/v-1-text-to-speech-voice-id-stream-input
//          (query names, `xi-api-key`, first message `{"text":" "}`, `flush`, `{"text":""}` ends
//          input, server messages `{audio, isFinal, alignment:{chars, charStartTimesMs,
//          charDurationsMs}, normalizedAlignment}` with per-chunk times, errors as `{message,
//          error, code}` followed by close 1008),
//          https://elevenlabs.io/docs/api-reference/text-to-speech/stream (raw audio body) and
//          https://elevenlabs.io/docs/api-reference/text-to-speech/stream-with-timestamps
//          (newline-delimited `{audio_base64, alignment:{characters, character_start_times_seconds,
//          character_end_times_seconds}}`, times from the start of the request's audio).
// Audio is REAL speech in the requested format: espeak-ng when installed, else the fixture clips
// in test/fixtures/audio (see common.ts speechFor). Alignment is spread evenly over each piece.
//
// Script API (`fake.script`): firstChunkMs (delay before a piece's first audio, default 0),
//   realtimeFactor (0 = send as fast as possible; 1 = pace audio at real time), chunkMs (audio per
//   message, default 250), voiceSource ('auto' | 'fixtures' | 'espeak'), faults: { rejectStatus?,
//   closeAfterChunks? (socket dropped after N audio messages), silentAfterText? (never answers) }.
// Contract checks: missing/wrong xi-api-key (ws: error message + close 1008; HTTP: 401), unknown
//   query names, unsupported output_format (mp3/opus are real formats the fake cannot make:
//   refused with 400 so tests notice), first message not a single space, unknown message keys,
//   non-string text, HTTP body without text or with unknown keys (422).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { encodeAs, isAudioFormat, formatInfo, bytesToMs } from '../../engine/providers/audio.js';
import type { AudioFormat } from '../../engine/providers/audio.js';
import { delay, readBody, sendJson, serve, speechFor, uniformAlignment } from './common.js';
import type { FakeServer, VoiceSource } from './common.js';

export interface FakeElevenLabsScript {
  firstChunkMs: number;
  realtimeFactor: number;
  chunkMs: number;
  voiceSource: VoiceSource;
  faults: { rejectStatus?: number; closeAfterChunks?: number; silentAfterText?: boolean };
}

export interface FakeElevenLabs extends FakeServer {
  readonly apiKey: string;
  script: FakeElevenLabsScript;
  readonly stats: {
    wsConnections: number;
    httpRequests: number;
    /** Text received per websocket connection (concatenated). */
    texts: string[];
    /** First messages' voice_settings / generation_config, per connection. */
    initMessages: Record<string, unknown>[];
    queries: URLSearchParams[];
    httpBodies: Record<string, unknown>[];
    flushes: number;
  };
  readonly openSockets: number;
}

const WS_QUERY = new Set(['model_id', 'language_code', 'enable_logging', 'enable_ssml_parsing', 'output_format', 'inactivity_timeout', 'sync_alignment', 'auto_mode', 'apply_text_normalization', 'seed']);
const HTTP_QUERY = new Set(['enable_logging', 'optimize_streaming_latency', 'output_format']);
const HTTP_BODY = new Set(['text', 'model_id', 'language_code', 'voice_settings', 'pronunciation_dictionary_locators', 'seed', 'previous_text', 'next_text', 'previous_request_ids', 'next_request_ids', 'use_pvc_as_ivc', 'apply_text_normalization', 'apply_language_text_normalization', 'audio_effects']);
const WS_MSG = new Set(['text', 'try_trigger_generation', 'flush', 'voice_settings', 'generation_config', 'xi_api_key', 'authorization', 'pronunciation_dictionary_locators']);
const REAL_FORMATS = /^(mp3_\d+_\d+|opus_\d+_\d+|pcm_\d+|ulaw_8000|alaw_8000)$/;

export async function startFakeElevenLabs(opts: { apiKey?: string; script?: Partial<FakeElevenLabsScript> } = {}): Promise<FakeElevenLabs> {
  const apiKey = opts.apiKey ?? 'test-elevenlabs-key';
  const script: FakeElevenLabsScript = { firstChunkMs: 0, realtimeFactor: 0, chunkMs: 250, voiceSource: 'auto', faults: {}, ...opts.script };
  const stats: FakeElevenLabs['stats'] = { wsConnections: 0, httpRequests: 0, texts: [], initMessages: [], queries: [], httpBodies: [], flushes: 0 };
  let open = 0;
  const fake = {} as FakeElevenLabs;

  function checkFormat(q: URLSearchParams): string | AudioFormat {
    const f = q.get('output_format') ?? 'mp3_44100_128';
    if (!REAL_FORMATS.test(f)) return `Invalid output_format ${f}`;
    if (!isAudioFormat(f)) return `The fake cannot produce ${f}; ask for ulaw_8000, alaw_8000 or pcm_*`;
    return f;
  }

  /** Renders `text` and yields { audio, alignment(ms, relative to piece start) } chunks. */
  async function* render(text: string, format: AudioFormat): AsyncGenerator<{ audio: Uint8Array; chars: string[]; starts: number[]; durations: number[]; durMs: number }> {
    const rate = formatInfo(format).sampleRate;
    const pcm = await speechFor(text, rate, fake.script.voiceSource);
    const bytes = encodeAs(pcm, rate, format);
    const totalMs = bytesToMs(bytes.length, format);
    const al = uniformAlignment(text, 0, totalMs);
    const step = Math.max(1, Math.round((fake.script.chunkMs / 1000) * rate) * formatInfo(format).bytesPerSample);
    for (let off = 0; off < bytes.length; off += step) {
      const audio = bytes.subarray(off, off + step);
      const t0 = bytesToMs(off, format);
      const durMs = bytesToMs(audio.length, format);
      const idx = al.starts.flatMap((s, i) => (s >= t0 && s < t0 + durMs ? [i] : []));
      yield { audio, chars: idx.map((i) => al.chars[i]!), starts: idx.map((i) => al.starts[i]!), durations: idx.map((i) => al.durations[i]!), durMs };
    }
  }

  function wsSession(ws: WebSocket, q: URLSearchParams, format: AudioFormat, keyFromHeader: boolean): void {
    stats.wsConnections++;
    stats.queries.push(q);
    open++;
    const conn = stats.texts.push('') - 1;
    let first = true;
    let buffer = '';
    let chain: Promise<void> = Promise.resolve();
    let audioMessages = 0;
    let ended = false;
    const schedule: number[] = [120, 160, 250, 290];
    let scheduleIdx = 0;
    const inactivity = Number(q.get('inactivity_timeout') ?? 20) * 1000;
    let idleTimer = setTimeout(() => policyClose('input_timeout_exceeded', `No text received for ${inactivity / 1000} seconds.`), inactivity);
    const touch = (): void => { clearTimeout(idleTimer); idleTimer = setTimeout(() => policyClose('input_timeout_exceeded', `No text received for ${inactivity / 1000} seconds.`), inactivity); };
    ws.on('close', () => { open--; clearTimeout(idleTimer); ended = true; });
    function policyClose(error: string, message: string): void {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify({ message, error, code: 1008 }));
      ws.close(1008, message.slice(0, 120));
    }
    const generate = (text: string): void => {
      if (!text.trim()) return;
      chain = chain.then(async () => {
        if (fake.script.faults.silentAfterText) return;
        await delay(fake.script.firstChunkMs);
        const started = Date.now();
        let sentMs = 0;
        for await (const c of render(text, format)) {
          if (ended || ws.readyState !== ws.OPEN) return;
          if (fake.script.realtimeFactor > 0) await delay(sentMs / fake.script.realtimeFactor - (Date.now() - started));
          const al = { chars: c.chars, charStartTimesMs: c.starts.map((s) => Math.round(s - sentMs)), charDurationsMs: c.durations };
          ws.send(JSON.stringify({ audio: Buffer.from(c.audio).toString('base64'), isFinal: null, normalizedAlignment: al, alignment: al }));
          sentMs += c.durMs;
          audioMessages++;
          const cut = fake.script.faults.closeAfterChunks;
          if (cut !== undefined && audioMessages >= cut) { fake.script.faults.closeAfterChunks = undefined; ws.terminate(); return; }
        }
      });
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return policyClose('invalid_message', 'Binary messages are not accepted.');
      let m: Record<string, unknown>;
      try { m = JSON.parse(data.toString('utf8')) as Record<string, unknown>; } catch { return policyClose('invalid_message', 'Message is not valid JSON.'); }
      for (const k of Object.keys(m)) if (!WS_MSG.has(k)) return policyClose('invalid_message', `Unknown field ${k}.`);
      if (typeof m.text !== 'string') return policyClose('invalid_message', 'Field text is required and must be a string.');
      touch();
      if (first) {
        first = false;
        if (!keyFromHeader && m.xi_api_key !== apiKey) return policyClose('auth_error', 'Invalid API key.');
        if (m.text !== ' ') return policyClose('invalid_message', 'The first message must have text set to a single space.');
        stats.initMessages.push(m);
        const gc = m.generation_config as { chunk_length_schedule?: number[] } | undefined;
        if (gc?.chunk_length_schedule) {
          if (!Array.isArray(gc.chunk_length_schedule) || gc.chunk_length_schedule.some((n) => typeof n !== 'number' || n < 50 || n > 500)) return policyClose('invalid_message', 'chunk_length_schedule values must be within 50..500.');
          schedule.splice(0, schedule.length, ...gc.chunk_length_schedule);
        }
        return;
      }
      if (m.text === '') {
        // End of input: generate what is left, then isFinal and close.
        generate(buffer);
        buffer = '';
        chain = chain.then(() => {
          if (ws.readyState !== ws.OPEN || fake.script.faults.silentAfterText) return;
          ws.send(JSON.stringify({ isFinal: true }));
          ws.close(1000);
        });
        return;
      }
      stats.texts[conn] += m.text;
      buffer += m.text;
      if (m.flush === true) { stats.flushes++; generate(buffer); buffer = ''; return; }
      const threshold = schedule[Math.min(scheduleIdx, schedule.length - 1)]!;
      if (buffer.length >= threshold) {
        const cut = buffer.lastIndexOf(' ');
        if (cut > 0) { generate(buffer.slice(0, cut + 1)); buffer = buffer.slice(cut + 1); scheduleIdx++; }
      }
    });
  }

  async function http(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1\/text-to-speech\/([^/]+)\/stream(\/with-timestamps)?$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) return sendJson(res, 404, { detail: 'Not Found' });
    if (req.headers['xi-api-key'] !== apiKey) return sendJson(res, 401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    if (fake.script.faults.rejectStatus) return sendJson(res, fake.script.faults.rejectStatus, { detail: { status: 'fault', message: 'injected fault' } });
    for (const k of url.searchParams.keys()) if (!HTTP_QUERY.has(k)) return sendJson(res, 422, { detail: [{ loc: ['query', k], msg: 'unknown query parameter', type: 'value_error' }] });
    const format = checkFormat(url.searchParams);
    if (!isAudioFormat(format)) return sendJson(res, 400, { detail: { status: 'invalid_output_format', message: format } });
    let body: Record<string, unknown>;
    try { body = JSON.parse(await readBody(req)) as Record<string, unknown>; } catch { return sendJson(res, 422, { detail: [{ loc: ['body'], msg: 'invalid JSON', type: 'value_error' }] }); }
    for (const k of Object.keys(body)) if (!HTTP_BODY.has(k)) return sendJson(res, 422, { detail: [{ loc: ['body', k], msg: 'extra fields not permitted', type: 'value_error.extra' }] });
    if (typeof body.text !== 'string' || !body.text) return sendJson(res, 422, { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] });
    stats.httpRequests++;
    stats.httpBodies.push(body);
    const timestamps = Boolean(m[2]);
    res.writeHead(200, { 'content-type': timestamps ? 'application/json' : 'audio/basic', 'transfer-encoding': 'chunked' });
    await delay(fake.script.firstChunkMs);
    for await (const c of render(body.text, format)) {
      if (res.destroyed) return;
      if (timestamps) {
        const al = { characters: c.chars, character_start_times_seconds: c.starts.map((s) => +(s / 1000).toFixed(3)), character_end_times_seconds: c.starts.map((s, i) => +((s + c.durations[i]!) / 1000).toFixed(3)) };
        res.write(`${JSON.stringify({ audio_base64: Buffer.from(c.audio).toString('base64'), alignment: al, normalized_alignment: al })}\n`);
      } else res.write(c.audio);
    }
    res.end();
  }

  const srv = await serve({
    http: (req, res) => { http(req, res).catch(() => { if (!res.headersSent) sendJson(res, 500, { detail: 'fake failure' }); else res.destroy(); }); },
    upgrade: (req) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (!/^\/v1\/text-to-speech\/[^/]+\/stream-input$/.test(url.pathname)) return { status: 404, body: { detail: 'Not Found' } };
      if (fake.script.faults.rejectStatus) return { status: fake.script.faults.rejectStatus, body: { detail: { status: 'fault', message: 'injected fault' } } };
      for (const k of url.searchParams.keys()) if (!WS_QUERY.has(k)) return { status: 400, body: { detail: { status: 'invalid_request', message: `Unknown query parameter ${k}` } } };
      const format = checkFormat(url.searchParams);
      if (!isAudioFormat(format)) return { status: 400, body: { detail: { status: 'invalid_output_format', message: format } } };
      const headerKey = req.headers['xi-api-key'];
      return (ws: WebSocket) => {
        if (headerKey !== undefined && headerKey !== apiKey) {
          ws.send(JSON.stringify({ message: 'Invalid API key.', error: 'auth_error', code: 1008 }));
          ws.close(1008, 'Invalid API key');
          return;
        }
        wsSession(ws, url.searchParams, format, headerKey !== undefined);
      };
    },
  });
  Object.defineProperty(fake, 'openSockets', { get: () => open });
  return Object.assign(fake, srv, { apiKey, script, stats });
}
