// Fake xAI realtime voice server (Grok Voice Agent API, OpenAI-realtime-style events).
// Follows: https://docs.x.ai/docs/guides/voice/agent (wss://api.x.ai/v1/realtime, Bearer auth,
//          session.update {voice, instructions, turn_detection: server_vad, audio.input/output
//          .format: audio/pcm(rate) | audio/pcmu | audio/pcma, tools}, voices Ara/Rex/Sal/Eve/Leo)
//          and the shared event protocol https://platform.openai.com/docs/api-reference/realtime-server-events
//          (input_audio_buffer.speech_started/stopped, conversation.item.input_audio_transcription
//          .completed, response.created, response.output_audio.delta, response.output_audio_transcript
//          .delta/.done, response.function_call_arguments.done, response.done, error,
//          conversation.item.truncated).
// Behaviour: caller audio is segmented by energy (silence_duration_ms); each utterance gets the
// next scripted user transcript and then a response: spoken text (real audio in the session's
// format, see common.ts speechFor) or a function call. A function_call_output + response.create
// gets the next scripted response.
// Script API (`fake.script`): userTranscripts: string[]; responses: ({ text } | { functionCall:
//   { name, arguments } })[] (fallback { text: 'OK.' }); firstAudioMs; realtimeFactor (0 = fast,
//   1 = real time pacing, needed to interrupt a response mid-way); voiceSource.
// Contract checks: Bearer key (401 at handshake), path /v1/realtime, unknown client event types,
// unknown session fields, bad voice, bad audio format/rate, tools without name, append without
// base64 audio, function_call_output for an unknown call_id, response.cancel with no active
// response, truncate of an unknown item or beyond its audio -> `error` events (session stays up).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { bytesToPcm16, decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw, pcm16ToBytes } from '../../engine/providers/audio.js';
import { EnergySegmenter, delay, serve, speechFor } from './common.js';
import type { FakeServer, VoiceSource } from './common.js';

export type FakeRealtimeReply = { text: string } | { functionCall: { name: string; arguments: Record<string, unknown> | string } };
export interface FakeXaiScript {
  userTranscripts: string[];
  responses: FakeRealtimeReply[];
  firstAudioMs: number;
  realtimeFactor: number;
  voiceSource: VoiceSource;
}
export interface FakeXaiRealtime extends FakeServer {
  /** `XAI_BASE_URL` (ends in /v1). */
  readonly baseUrl: string;
  readonly apiKey: string;
  script: FakeXaiScript;
  readonly stats: {
    connections: number;
    sessionUpdates: Record<string, unknown>[];
    audioBytes: number;
    toolOutputs: { call_id: string; output: string }[];
    cancels: number;
    truncations: { item_id: string; audio_end_ms: number }[];
    errors: string[];
  };
  readonly openSockets: number;
}

const VOICES = new Set(['ara', 'rex', 'sal', 'eve', 'leo']);
const SESSION_KEYS = new Set(['instructions', 'voice', 'turn_detection', 'audio', 'tools', 'temperature', 'tool_choice', 'input_audio_transcription', 'max_response_output_tokens', 'model']);
const CLIENT_EVENTS = new Set(['session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'response.create', 'response.cancel']);
const PCM_RATES = new Set([8000, 16000, 22050, 24000, 32000, 44100, 48000]);

type Fmt = { type: 'audio/pcmu' } | { type: 'audio/pcma' } | { type: 'audio/pcm'; rate: number };
const id = (p: string): string => `${p}_${randomBytes(8).toString('hex')}`;

export async function startFakeXaiRealtime(opts: { apiKey?: string; script?: Partial<FakeXaiScript>; http?: (req: IncomingMessage, res: ServerResponse) => void } = {}): Promise<FakeXaiRealtime> {
  const apiKey = opts.apiKey ?? 'test-xai-key';
  const script: FakeXaiScript = { userTranscripts: [], responses: [], firstAudioMs: 0, realtimeFactor: 0, voiceSource: 'auto', ...opts.script };
  const stats: FakeXaiRealtime['stats'] = { connections: 0, sessionUpdates: [], audioBytes: 0, toolOutputs: [], cancels: 0, truncations: [], errors: [] };
  let open = 0;
  const fake = {} as FakeXaiRealtime;

  function session(ws: WebSocket): void {
    stats.connections++;
    open++;
    let fmt: Fmt = { type: 'audio/pcm', rate: 24000 };
    let silenceMs = 200;
    let seg = new EnergySegmenter(24000, { hangoverMs: silenceMs });
    const items = new Map<string, { role: string; audioMs: number }>();
    const calls = new Set<string>();
    let active: { id: string; cancelled: boolean } | undefined;
    let chain: Promise<void> = Promise.resolve();
    const send = (ev: Record<string, unknown>): void => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event_id: id('event'), ...ev })); };
    const error = (code: string, message: string, param?: string): void => { stats.errors.push(code); send({ type: 'error', error: { type: 'invalid_request_error', code, message, ...(param ? { param } : {}) } }); };
    const rate = (): number => (fmt.type === 'audio/pcm' ? fmt.rate : 8000);
    const encode = (pcm: Int16Array): Uint8Array => (fmt.type === 'audio/pcmu' ? encodeMulaw(pcm) : fmt.type === 'audio/pcma' ? encodeAlaw(pcm) : pcm16ToBytes(pcm));
    const decode = (b: Uint8Array): Int16Array => (fmt.type === 'audio/pcmu' ? decodeMulaw(b) : fmt.type === 'audio/pcma' ? decodeAlaw(b) : bytesToPcm16(b));
    const sessionObj = (): Record<string, unknown> => ({ id: id('sess'), object: 'realtime.session', voice: 'Ara', turn_detection: { type: 'server_vad', silence_duration_ms: silenceMs }, audio: { input: { format: fmt }, output: { format: fmt } } });

    const respond = (): void => {
      const reply = fake.script.responses.shift() ?? { text: 'OK.' };
      const r = { id: id('resp'), cancelled: false };
      active = r;
      chain = chain.then(async () => {
        send({ type: 'response.created', response: { id: r.id, object: 'realtime.response', status: 'in_progress', output: [] } });
        const itemId = id('item');
        if ('functionCall' in reply) {
          const callId = id('call');
          calls.add(callId);
          const args = typeof reply.functionCall.arguments === 'string' ? reply.functionCall.arguments : JSON.stringify(reply.functionCall.arguments);
          send({ type: 'response.output_item.added', response_id: r.id, output_index: 0, item: { id: itemId, type: 'function_call', call_id: callId, name: reply.functionCall.name, arguments: '' } });
          for (let i = 0; i < args.length; i += 8) send({ type: 'response.function_call_arguments.delta', response_id: r.id, item_id: itemId, output_index: 0, call_id: callId, delta: args.slice(i, i + 8) });
          send({ type: 'response.function_call_arguments.done', response_id: r.id, item_id: itemId, output_index: 0, call_id: callId, name: reply.functionCall.name, arguments: args });
          send({ type: 'response.output_item.done', response_id: r.id, output_index: 0, item: { id: itemId, type: 'function_call', call_id: callId, name: reply.functionCall.name, arguments: args } });
        } else {
          items.set(itemId, { role: 'assistant', audioMs: 0 });
          send({ type: 'response.output_item.added', response_id: r.id, output_index: 0, item: { id: itemId, type: 'message', role: 'assistant', content: [] } });
          await delay(fake.script.firstAudioMs);
          const pcm = await speechFor(reply.text, rate(), fake.script.voiceSource);
          const words = reply.text.split(/(?<=\s)/);
          const step = Math.round(rate() * 0.1);
          const started = Date.now();
          for (let off = 0, w = 0; off < pcm.length; off += step) {
            if (r.cancelled || ws.readyState !== ws.OPEN) break;
            const sentMs = (off / rate()) * 1000;
            if (fake.script.realtimeFactor > 0) await delay(sentMs / fake.script.realtimeFactor - (Date.now() - started));
            if (r.cancelled) break;
            send({ type: 'response.output_audio.delta', response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta: Buffer.from(encode(pcm.subarray(off, off + step))).toString('base64') });
            items.get(itemId)!.audioMs = ((Math.min(pcm.length, off + step)) / rate()) * 1000;
            const wantWords = Math.ceil(((off + step) / pcm.length) * words.length);
            for (; w < wantWords && w < words.length; w++) send({ type: 'response.output_audio_transcript.delta', response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta: words[w] });
          }
          if (!r.cancelled) {
            send({ type: 'response.output_audio.done', response_id: r.id, item_id: itemId, output_index: 0, content_index: 0 });
            send({ type: 'response.output_audio_transcript.done', response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, transcript: reply.text });
            send({ type: 'response.output_item.done', response_id: r.id, output_index: 0, item: { id: itemId, type: 'message', role: 'assistant' } });
          }
        }
        send({ type: 'response.done', response: { id: r.id, object: 'realtime.response', status: r.cancelled ? 'cancelled' : 'completed', usage: { total_tokens: 50, input_tokens: 30, output_tokens: 20 } } });
        if (active === r) active = undefined;
      });
    };

    send({ type: 'session.created', session: sessionObj() });
    ws.on('close', () => { open--; });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return error('invalid_event', 'Binary frames are not supported; send JSON events.');
      let ev: Record<string, unknown>;
      try { ev = JSON.parse(data.toString('utf8')) as Record<string, unknown>; } catch { return error('invalid_json', 'Event is not valid JSON.'); }
      const type = ev.type;
      if (typeof type !== 'string' || !CLIENT_EVENTS.has(type)) return error('invalid_event', `Unknown event type ${String(type)}`, 'type');
      switch (type) {
        case 'session.update': {
          const s = ev.session as Record<string, unknown> | undefined;
          if (!s || typeof s !== 'object') return error('missing_required_parameter', 'session is required', 'session');
          for (const k of Object.keys(s)) if (!SESSION_KEYS.has(k)) return error('unknown_parameter', `Unknown parameter session.${k}`, `session.${k}`);
          if (s.voice !== undefined && (typeof s.voice !== 'string' || !VOICES.has(s.voice.toLowerCase()))) return error('invalid_value', `Invalid voice ${String(s.voice)}`, 'session.voice');
          const audio = s.audio as { input?: { format?: Fmt }; output?: { format?: Fmt } } | undefined;
          let next = fmt;
          for (const dir of ['input', 'output'] as const) {
            const f = audio?.[dir]?.format;
            if (!f) continue;
            if (f.type !== 'audio/pcm' && f.type !== 'audio/pcmu' && f.type !== 'audio/pcma') return error('invalid_value', `Invalid audio format ${String((f as { type?: unknown }).type)}`, `session.audio.${dir}.format.type`);
            if (f.type === 'audio/pcm' && !PCM_RATES.has(f.rate)) return error('invalid_value', 'Invalid PCM rate', `session.audio.${dir}.format.rate`);
            next = f;
          }
          const td = s.turn_detection as { type?: string; silence_duration_ms?: number; threshold?: number } | null | undefined;
          if (td) {
            if (td.type !== 'server_vad') return error('invalid_value', 'turn_detection.type must be server_vad', 'session.turn_detection.type');
            if (td.threshold !== undefined && (td.threshold < 0 || td.threshold > 1)) return error('invalid_value', 'threshold must be within 0..1', 'session.turn_detection.threshold');
            if (td.silence_duration_ms !== undefined) silenceMs = td.silence_duration_ms;
          }
          if (s.tools !== undefined) {
            if (!Array.isArray(s.tools)) return error('invalid_type', 'tools must be an array', 'session.tools');
            for (const t of s.tools as { type?: string; name?: unknown }[]) if (t.type !== 'function' || typeof t.name !== 'string' || !t.name) return error('invalid_value', 'Each tool needs type function and a name', 'session.tools');
          }
          fmt = next;
          seg = new EnergySegmenter(rate(), { hangoverMs: silenceMs });
          stats.sessionUpdates.push(s);
          send({ type: 'session.updated', session: { ...sessionObj(), ...s } });
          return;
        }
        case 'input_audio_buffer.append': {
          if (typeof ev.audio !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(ev.audio)) return error('invalid_value', 'audio must be base64', 'audio');
          const bytes = new Uint8Array(Buffer.from(ev.audio, 'base64'));
          stats.audioBytes += bytes.length;
          for (const e of seg.push(decode(bytes))) {
            if (e.type === 'speech-start') send({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(e.atSec * 1000), item_id: id('item') });
            else if (e.type === 'speech-end') {
              const item = id('item');
              send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(e.endSec * 1000), item_id: item });
              send({ type: 'input_audio_buffer.committed', item_id: item, previous_item_id: null });
              items.set(item, { role: 'user', audioMs: (e.endSec - e.startSec) * 1000 });
              send({ type: 'conversation.item.added', item: { id: item, type: 'message', role: 'user', content: [{ type: 'input_audio' }] } });
              send({ type: 'conversation.item.input_audio_transcription.completed', item_id: item, content_index: 0, transcript: fake.script.userTranscripts.shift() ?? '' });
              respond();
            }
          }
          return;
        }
        case 'conversation.item.create': {
          const item = ev.item as { type?: string; call_id?: string; output?: unknown; role?: string; content?: unknown } | undefined;
          if (!item) return error('missing_required_parameter', 'item is required', 'item');
          if (item.type === 'function_call_output') {
            if (typeof item.call_id !== 'string' || !calls.has(item.call_id)) return error('invalid_value', `No function call with call_id ${String(item.call_id)}`, 'item.call_id');
            if (typeof item.output !== 'string') return error('invalid_type', 'output must be a string', 'item.output');
            stats.toolOutputs.push({ call_id: item.call_id, output: item.output });
          } else if (item.type === 'message') {
            if (!['user', 'system', 'assistant'].includes(item.role ?? '') || !Array.isArray(item.content)) return error('invalid_value', 'message items need a role and content[]', 'item');
          } else return error('invalid_value', `Unsupported item type ${String(item.type)}`, 'item.type');
          send({ type: 'conversation.item.added', item: { id: id('item'), ...item } });
          return;
        }
        case 'response.create': respond(); return;
        case 'response.cancel':
          if (!active) return error('response_cancel_not_active', 'Cancellation failed: no active response found');
          stats.cancels++;
          active.cancelled = true;
          return;
        case 'conversation.item.truncate': {
          const it = typeof ev.item_id === 'string' ? items.get(ev.item_id) : undefined;
          if (!it || it.role !== 'assistant') return error('invalid_value', `Item ${String(ev.item_id)} is not an assistant audio item`, 'item_id');
          if (typeof ev.audio_end_ms !== 'number' || ev.audio_end_ms < 0 || ev.audio_end_ms > it.audioMs + 1) return error('invalid_value', 'audio_end_ms is beyond the audio of this item', 'audio_end_ms');
          if (ev.content_index !== 0) return error('invalid_value', 'content_index must be 0', 'content_index');
          stats.truncations.push({ item_id: ev.item_id as string, audio_end_ms: ev.audio_end_ms });
          send({ type: 'conversation.item.truncated', item_id: ev.item_id, content_index: 0, audio_end_ms: ev.audio_end_ms });
          return;
        }
        default:
          return; // commit / clear / delete: accepted
      }
    });
  }

  const srv = await serve({
    ...(opts.http ? { http: opts.http } : {}),
    upgrade: (req) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/v1/realtime') return { status: 404, body: { error: 'Not Found' } };
      if (req.headers.authorization !== `Bearer ${apiKey}`) return { status: 401, body: { code: 'Unauthorized', error: 'Incorrect API key provided' } };
      return (ws: WebSocket) => session(ws);
    },
  });
  Object.defineProperty(fake, 'openSockets', { get: () => open });
  return Object.assign(fake, srv, { baseUrl: `${srv.url}/v1`, apiKey, script, stats });
}
