// Fake Deepgram live transcription server (listen v1 websocket).
// Follows: https://developers.deepgram.com/reference/speech-to-text-api/listen-streaming
//          (query parameters, Results / UtteranceEnd / SpeechStarted / Metadata messages,
//          KeepAlive / Finalize / CloseStream control messages),
//          https://developers.deepgram.com/docs/understand-endpointing-interim-results,
//          https://developers.deepgram.com/docs/utterance-end (utterance_end_ms needs interim_results),
//          https://developers.deepgram.com/docs/keyterm (keyterm is Nova-3 only),
//          https://developers.deepgram.com/docs/audio-keep-alive (NET-0001 after ~10 s without data),
//          https://developers.deepgram.com/docs/authenticating (`Authorization: Token <key>`).
//
// How it "recognises": incoming audio is decoded and split into utterances by energy; each
// utterance is answered with the next scripted transcript: interim results while speech goes on,
// a final result (speech_final) after `endpointing` ms of silence, then UtteranceEnd. When an
// entry gives `durationMs`, only the fraction of words matching the speech actually heard is
// returned (the tail), which is how a client that loses audio on reconnect loses words here too.
//
// Script API (all fields of `fake.script` may be changed between or during tests):
//   utterances: (string | { text, durationMs? })[]  consumed in order, shared across connections
//   fallbackText: said when the list is exhausted        (default 'hello')
//   interimEveryMs: stream-time between interim results  (default 400)
//   latencyMs: wall-clock delay before each message      (default 0)
//   faults: { rejectStatus?: 401|403|429|500; dropAfterAudioMs?: number (once); slowStartMs?: number;
//             idleTimeoutMs?: number (default 10000) }
// Contract checks (answered like the real API, before the upgrade): missing/invalid Authorization
// -> 401; path other than /v1/listen -> 404; unknown query names, bad enum/boolean values,
// encoding without sample_rate, utterance_end_ms without interim_results or below 1000,
// keyterm on a non-Nova-3 model, keywords on Nova-3 -> 400. Unknown text messages -> close 1008.
// (Unknown query names are refused here although the real service may only warn: stricter on purpose.)
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { decodeAlaw, decodeMulaw, bytesToPcm16 } from '../../engine/providers/audio.js';
import { EnergySegmenter, serve } from './common.js';
import type { FakeServer, UpgradeRefusal } from './common.js';

export interface DeepgramUtterance { text: string; durationMs?: number }

export interface FakeDeepgramScript {
  utterances: (string | DeepgramUtterance)[];
  fallbackText: string;
  interimEveryMs: number;
  latencyMs: number;
  faults: { rejectStatus?: number; dropAfterAudioMs?: number; slowStartMs?: number; idleTimeoutMs?: number };
}

export interface FakeDeepgramStats {
  connections: number;
  refused: number;
  keepAlives: number;
  finalizes: number;
  closeStreams: number;
  audioBytes: number;
  /** Query strings of accepted connections, in order. */
  queries: URLSearchParams[];
  /** Close codes of finished connections, in order. */
  closes: number[];
}

export interface FakeDeepgram extends FakeServer {
  readonly apiKey: string;
  script: FakeDeepgramScript;
  readonly stats: FakeDeepgramStats;
  /** Resolves when the number of open sockets drops to `n` (default 0). */
  waitForOpenSockets(n?: number): Promise<void>;
  readonly openSockets: number;
}

const ALLOWED = new Set(['callback', 'callback_method', 'channels', 'detect_entities', 'diarize', 'diarize_model', 'dictation', 'encoding', 'endpointing', 'extra',
  'interim_results', 'keyterm', 'keywords', 'language', 'mip_opt_out', 'model', 'multichannel', 'numerals', 'profanity_filter', 'punctuate', 'redact', 'replace',
  'sample_rate', 'search', 'smart_format', 'tag', 'utterance_end_ms', 'vad_events', 'version', 'filler_words', 'no_delay']);
const BOOLEANS = ['detect_entities', 'diarize', 'dictation', 'interim_results', 'multichannel', 'numerals', 'profanity_filter', 'punctuate', 'smart_format', 'vad_events', 'filler_words', 'no_delay'];
const ENCODINGS = new Set(['linear16', 'linear32', 'flac', 'mulaw', 'alaw', 'amr-nb', 'amr-wb', 'opus', 'ogg-opus', 'speex', 'g729']);

function bad(msg: string): UpgradeRefusal {
  return { status: 400, body: { err_code: 'Bad Request', err_msg: msg, request_id: randomUUID() } };
}

export function checkListenRequest(req: IncomingMessage, apiKey: string): UpgradeRefusal | { q: URLSearchParams } {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/v1/listen') return { status: 404, body: { err_code: 'NOT_FOUND', err_msg: `no route ${url.pathname}` } };
  const auth = req.headers.authorization;
  const proto = req.headers['sec-websocket-protocol'];
  const protoKey = typeof proto === 'string' && proto.startsWith('token,') ? proto.slice(6).trim() : undefined;
  const key = auth?.startsWith('Token ') ? auth.slice(6) : protoKey;
  if (!key) return { status: 401, body: { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: randomUUID() } };
  if (key !== apiKey) return { status: 401, body: { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: randomUUID() } };
  const q = url.searchParams;
  for (const name of q.keys()) if (!ALLOWED.has(name)) return bad(`Unknown query parameter: ${name}`);
  for (const b of BOOLEANS) { const v = q.get(b); if (v !== null && v !== 'true' && v !== 'false') return bad(`${b} must be true or false`); }
  const enc = q.get('encoding');
  if (enc !== null && !ENCODINGS.has(enc)) return bad(`Invalid encoding: ${enc}`);
  const rate = q.get('sample_rate');
  if (enc !== null && enc !== 'opus' && enc !== 'ogg-opus' && enc !== 'flac' && rate === null) return bad('sample_rate is required when encoding is set');
  if (rate !== null && !/^\d+$/.test(rate)) return bad('sample_rate must be an integer');
  const ep = q.get('endpointing');
  if (ep !== null && ep !== 'false' && ep !== 'true' && !/^\d+$/.test(ep)) return bad('endpointing must be an integer or false');
  const ue = q.get('utterance_end_ms');
  if (ue !== null) {
    if (!/^\d+$/.test(ue) || Number(ue) < 1000) return bad('utterance_end_ms must be an integer >= 1000');
    if (q.get('interim_results') !== 'true') return bad('utterance_end_ms requires interim_results=true');
  }
  const model = q.get('model') ?? 'base';
  const nova3 = model === 'nova-3' || model.startsWith('nova-3-');
  if (q.has('keyterm') && !nova3) return bad('keyterm is only supported with Nova-3 models');
  if (q.has('keywords') && nova3) return bad('Keywords are not supported for Nova-3. Please use `keyterm` instead.');
  return { q };
}

export async function startFakeDeepgram(opts: { apiKey?: string; script?: Partial<FakeDeepgramScript> } = {}): Promise<FakeDeepgram> {
  const apiKey = opts.apiKey ?? 'test-deepgram-key';
  const script: FakeDeepgramScript = { utterances: [], fallbackText: 'hello', interimEveryMs: 400, latencyMs: 0, faults: {}, ...opts.script };
  const stats: FakeDeepgramStats = { connections: 0, refused: 0, keepAlives: 0, finalizes: 0, closeStreams: 0, audioBytes: 0, queries: [], closes: [] };
  let open = 0;
  const openWaiters: { n: number; resolve: () => void }[] = [];
  const settle = (): void => {
    for (const w of [...openWaiters]) if (open <= w.n) { openWaiters.splice(openWaiters.indexOf(w), 1); w.resolve(); }
  };

  const fake = {} as FakeDeepgram;
  const srv = await serve({
    upgrade: async (req) => {
      const checked = checkListenRequest(req, apiKey);
      if ('status' in checked) { stats.refused++; return checked; }
      if (fake.script.faults.rejectStatus) { stats.refused++; return { status: fake.script.faults.rejectStatus, body: { err_code: 'FAULT', err_msg: 'injected fault' } }; }
      if (fake.script.faults.slowStartMs) await new Promise((r) => setTimeout(r, fake.script.faults.slowStartMs));
      return (ws: WebSocket) => { stats.connections++; stats.queries.push(checked.q); open++; runSession(ws, checked.q); };
    },
  });

  function nextUtterance(): DeepgramUtterance {
    const u = fake.script.utterances.shift();
    if (u === undefined) return { text: fake.script.fallbackText };
    return typeof u === 'string' ? { text: u } : u;
  }

  function runSession(ws: WebSocket, q: URLSearchParams): void {
    const requestId = randomUUID();
    const enc = q.get('encoding') ?? 'linear16';
    const rate = Number(q.get('sample_rate') ?? 16000);
    const interim = q.get('interim_results') === 'true';
    const vad = q.get('vad_events') === 'true';
    const epRaw = q.get('endpointing');
    const endpointingMs = epRaw === 'false' ? 10_000 : epRaw === null || epRaw === 'true' ? 10 : Number(epRaw);
    const utteranceEndMs = q.get('utterance_end_ms') ? Number(q.get('utterance_end_ms')) : undefined;
    const seg = new EnergySegmenter(rate, { hangoverMs: Math.max(20, endpointingMs) });
    const model = q.get('model') ?? 'base';
    let lastInterimAt = 0;
    let pendingUtteranceEnd: number | undefined; // last_word_end awaiting utterance_end_ms of silence
    let lastDataAt = Date.now();
    let sendChain: Promise<void> = Promise.resolve();
    let closeStreamed = false;
    let audioSec = 0;

    const send = (msg: unknown): void => {
      const lat = fake.script.latencyMs;
      sendChain = sendChain.then(async () => {
        if (lat > 0) await new Promise((r) => setTimeout(r, lat));
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
      });
    };
    const meta = { request_id: requestId, model_info: { name: model, version: '2025-01-01', arch: 'fake' }, model_uuid: '00000000-0000-0000-0000-000000000000' };
    const words = (text: string, start: number, end: number): { word: string; start: number; end: number; confidence: number; punctuated_word: string }[] => {
      const toks = text.split(/\s+/).filter(Boolean);
      const per = toks.length ? (end - start) / toks.length : 0;
      return toks.map((t, i) => ({ word: t.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''), start: +(start + i * per).toFixed(3), end: +(start + (i + 1) * per).toFixed(3), confidence: 0.98, punctuated_word: t }));
    };
    const results = (text: string, start: number, end: number, isFinal: boolean, speechFinal: boolean, fromFinalize = false, wordsEnd = end): unknown => ({
      type: 'Results', channel_index: [0, 1], duration: +(end - start).toFixed(3), start: +start.toFixed(3), is_final: isFinal, speech_final: speechFinal,
      ...(fromFinalize ? { from_finalize: true } : {}),
      channel: { alternatives: [{ transcript: text, confidence: text ? 0.98 : 0, words: words(text, start, wordsEnd) }] }, metadata: meta,
    });
    // The text of the utterance in progress is chosen at its first interim/final and kept.
    let current: DeepgramUtterance | undefined;
    const heardText = (u: DeepgramUtterance, heardSec: number): string => {
      if (!u.durationMs) return u.text;
      const toks = u.text.split(/\s+/).filter(Boolean);
      const frac = Math.min(1, (heardSec * 1000) / (u.durationMs * 0.9));
      const n = Math.max(0, Math.round(toks.length * frac));
      return toks.slice(toks.length - n).join(' ');
    };
    const peek = (): DeepgramUtterance => {
      if (!current) current = nextUtterance();
      return current;
    };
    const finish = (startSec: number, endSec: number, fromFinalize: boolean): void => {
      const u = peek();
      current = undefined;
      // The final covers the speech plus the trailing silence that ended it.
      const end = Math.max(endSec, Math.min(seg.nowSec, endSec + endpointingMs / 1000));
      send(results(heardText(u, endSec - startSec), startSec, end, true, !fromFinalize, fromFinalize, endSec));
      pendingUtteranceEnd = endSec;
    };

    const idle = setInterval(() => {
      const limit = fake.script.faults.idleTimeoutMs ?? 10_000;
      if (Date.now() - lastDataAt > limit && ws.readyState === ws.OPEN) {
        ws.close(1011, 'NET-0001: no audio received within the timeout window');
      }
    }, 100);

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      lastDataAt = Date.now();
      if (!isBinary) {
        let m: { type?: unknown };
        try { m = JSON.parse(data.toString('utf8')) as { type?: unknown }; } catch { ws.close(1008, 'DATA-0000: invalid JSON text message'); return; }
        if (m.type === 'KeepAlive') { stats.keepAlives++; return; }
        if (m.type === 'Finalize') {
          stats.finalizes++;
          const e = seg.cut();
          if (e && e.type === 'speech-end') finish(e.startSec, e.endSec, true);
          return;
        }
        if (m.type === 'CloseStream') {
          stats.closeStreams++;
          closeStreamed = true;
          const e = seg.cut();
          if (e && e.type === 'speech-end') finish(e.startSec, e.endSec, false);
          send({ type: 'Metadata', transaction_key: 'deprecated', request_id: requestId, sha256: '0'.repeat(64), created: new Date().toISOString(), duration: +audioSec.toFixed(3), channels: 1 });
          void sendChain.then(() => { if (ws.readyState === ws.OPEN) ws.close(1000); });
          return;
        }
        ws.close(1008, `DATA-0000: unknown message type ${String(m.type)}`);
        return;
      }
      if (closeStreamed) return;
      stats.audioBytes += data.length;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const pcm = enc === 'mulaw' ? decodeMulaw(bytes) : enc === 'alaw' ? decodeAlaw(bytes) : bytesToPcm16(bytes);
      audioSec += pcm.length / rate;
      for (const e of seg.push(pcm)) {
        if (e.type === 'speech-start') {
          pendingUtteranceEnd = undefined;
          lastInterimAt = e.atSec;
          if (vad) send({ type: 'SpeechStarted', channel: [0, 1], timestamp: +e.atSec.toFixed(3) });
        } else if (e.type === 'speech') {
          if (interim && (e.nowSec - lastInterimAt) * 1000 >= fake.script.interimEveryMs) {
            lastInterimAt = e.nowSec;
            const u = peek();
            const full = u.text.split(/\s+/).filter(Boolean);
            const heard = heardText(u, e.nowSec - e.startSec).split(/\s+/).filter(Boolean);
            // Interim: the heard words so far, growing with the speech.
            const frac = u.durationMs ? 1 : Math.min(1, (e.nowSec - e.startSec) / Math.max(0.5, full.length * 0.3));
            const part = heard.slice(0, Math.max(1, Math.round(heard.length * frac))).join(' ');
            send(results(part, e.startSec, e.nowSec, false, false));
          }
        } else {
          finish(e.startSec, e.endSec, false);
        }
      }
      if (pendingUtteranceEnd !== undefined && utteranceEndMs !== undefined && !seg.inSpeech && (seg.nowSec - pendingUtteranceEnd) * 1000 >= utteranceEndMs) {
        send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: +pendingUtteranceEnd.toFixed(3) });
        pendingUtteranceEnd = undefined;
      }
      const drop = fake.script.faults.dropAfterAudioMs;
      if (drop !== undefined && audioSec * 1000 >= drop) {
        fake.script.faults.dropAfterAudioMs = undefined;
        ws.terminate();
      }
    });
    ws.on('close', (code) => {
      clearInterval(idle);
      // An utterance cut off by a dropped socket was never finalised: give its script entry back.
      if (current) { fake.script.utterances.unshift(current); current = undefined; }
      stats.closes.push(code);
      open--;
      settle();
    });
  }

  Object.defineProperty(fake, 'openSockets', { get: () => open });
  return Object.assign(fake, srv, {
    apiKey,
    script,
    stats,
    waitForOpenSockets: (n = 0) => new Promise<void>((resolve) => { openWaiters.push({ n, resolve }); settle(); }),
  });
}
