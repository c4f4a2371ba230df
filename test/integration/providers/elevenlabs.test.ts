import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ElevenLabsTts } from '../../../engine/providers/elevenlabs/tts.js';
import { ProviderError } from '../../../engine/providers/errors.js';
import { decodeFrom, rms } from '../../../engine/providers/audio.js';
import type { TtsEvent, TtsStreamOptions } from '../../../engine/providers/tts.js';
import { startFakeElevenLabs } from '../../fakes/elevenlabs.js';

async function drain(it: AsyncIterable<TtsEvent>): Promise<TtsEvent[]> {
  const out: TtsEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}
const audioOf = (ev: TtsEvent[]): Uint8Array => Buffer.concat(ev.flatMap((e) => (e.type === 'audio' ? [e.audio] : [])));
const opts: TtsStreamOptions = { voiceId: 'voice123', outputFormat: 'ulaw_8000', voiceSettings: { stability: 0.5, similarityBoost: 0.8, speed: 1.1 } };

describe('ElevenLabs TTS against the fake', () => {
  test('stream-input: text pushed in pieces comes back as real mu-law speech with alignment', async () => {
    const fake = await startFakeElevenLabs({ script: { voiceSource: 'fixtures' } });
    try {
      const tts = new ElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url });
      const s = await tts.stream(opts);
      const done = drain(s);
      for (const piece of ['Cert', 'ainly. Let me ', 'check that ', 'for you.']) s.pushText(piece);
      s.flush();
      const ev = await done;
      const audio = audioOf(ev);
      const { pcm } = decodeFrom(audio, 'ulaw_8000');
      assert.ok(pcm.length > 8000, 'at least a second of audio');
      assert.ok(rms(pcm) > 300, 'it is speech, not silence');
      const last = ev.at(-1);
      assert.ok(last && last.type === 'done' && Math.abs(last.totalMs - pcm.length / 8) < 1);
      const chars = ev.flatMap((e) => (e.type === 'audio' && e.alignment ? e.alignment.chars : [])).join('');
      assert.equal(chars.replace(/\s+/g, ' ').trim(), 'Certainly. Let me check that for you.');
      const starts = ev.flatMap((e) => (e.type === 'audio' && e.alignment ? e.alignment.charStartMs : []));
      assert.ok(starts.every((t, i) => i === 0 || t >= starts[i - 1]!), 'alignment times are monotonic across chunks');
      const offsets = ev.flatMap((e) => (e.type === 'audio' ? [e.offsetMs] : []));
      assert.ok(offsets.every((t, i) => i === 0 || t > offsets[i - 1]!));
      assert.equal(fake.stats.queries[0]!.get('output_format'), 'ulaw_8000');
      assert.equal(fake.stats.queries[0]!.get('model_id'), 'eleven_flash_v2_5');
      assert.deepEqual(fake.stats.initMessages[0]!.voice_settings, { stability: 0.5, similarity_boost: 0.8, speed: 1.1 });
      assert.equal(fake.stats.texts[0]!.trim(), 'Certainly. Let me check that for you.');
      assert.ok(fake.stats.flushes >= 1, 'a finished sentence is flushed at once');
    } finally { await fake.close(); }
  });

  test('pcm_16000 output for wideband calls', async () => {
    const fake = await startFakeElevenLabs({ script: { voiceSource: 'fixtures' } });
    try {
      const s = await new ElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url }).stream({ ...opts, outputFormat: 'pcm_16000' });
      const done = drain(s);
      s.pushText('One moment please, I am looking that up.');
      s.flush();
      const ev = await done;
      assert.ok(ev.every((e) => e.type !== 'audio' || (e.format === 'pcm_16000' && e.audio.length % 2 === 0)));
      assert.ok(rms(decodeFrom(audioOf(ev), 'pcm_16000').pcm) > 300);
    } finally { await fake.close(); }
  });

  test('wrong key, dropped socket and silence surface as auth / network / timeout errors', async () => {
    const fake = await startFakeElevenLabs({ script: { voiceSource: 'fixtures' } });
    try {
      const bad = await new ElevenLabsTts({ apiKey: 'wrong', baseUrl: fake.url }).stream(opts);
      bad.pushText('Hello there. ');
      bad.flush();
      await assert.rejects(drain(bad), (e: unknown) => e instanceof ProviderError && e.code === 'auth' && !e.retryable);

      const tts = new ElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url });
      fake.script.faults.closeAfterChunks = 2;
      const s = await tts.stream(opts);
      s.pushText('Hello! Thanks for calling. How can I help you today? ');
      s.flush();
      await assert.rejects(drain(s), (e: unknown) => e instanceof ProviderError && e.code === 'network' && e.retryable);

      fake.script.faults.silentAfterText = true;
      const q = await tts.stream({ ...opts, timeoutMs: 200 });
      q.pushText('Anyone there?');
      q.flush();
      await assert.rejects(drain(q), (e: unknown) => e instanceof ProviderError && e.code === 'timeout' && e.retryable);

      fake.script.faults = { rejectStatus: 503 };
      await assert.rejects(tts.stream(opts), (e: unknown) => e instanceof ProviderError && e.code === 'server' && e.retryable);
    } finally { await fake.close(); }
  });

  test('abort closes the socket at once and ends the stream', async () => {
    const fake = await startFakeElevenLabs({ script: { voiceSource: 'fixtures', realtimeFactor: 1 } });
    try {
      const ac = new AbortController();
      const s = await new ElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url }).stream(opts, ac.signal);
      s.pushText('Hello! Thanks for calling. How can I help you today? ');
      s.flush();
      const got: TtsEvent[] = [];
      for await (const e of s) { got.push(e); ac.abort(); }
      assert.equal(got.length, 1);
      const t0 = Date.now();
      while (fake.openSockets > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      assert.equal(fake.openSockets, 0);
    } finally { await fake.close(); }
  });

  test('HTTP one-shot (SDK streamWithTimestamps) and HTTP fallback transport', async () => {
    const fake = await startFakeElevenLabs({ script: { voiceSource: 'fixtures' } });
    try {
      const tts = new ElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url });
      const ev = await drain(tts.synthesize('Hello! Thanks for calling. How can I help you today?', { ...opts, outputFormat: 'alaw_8000' }));
      assert.ok(rms(decodeFrom(audioOf(ev), 'alaw_8000').pcm) > 300);
      assert.equal(ev.flatMap((e) => (e.type === 'audio' && e.alignment ? e.alignment.chars : [])).join(''), 'Hello! Thanks for calling. How can I help you today?');
      assert.deepEqual(fake.stats.httpBodies[0]!.voice_settings, { stability: 0.5, similarity_boost: 0.8, speed: 1.1 });
      assert.equal(fake.stats.httpBodies[0]!.model_id, 'eleven_flash_v2_5');

      const http = new ElevenLabsTts({ apiKey: fake.apiKey, baseUrl: fake.url, transport: 'http' });
      const s = await http.stream(opts);
      const done = drain(s);
      s.pushText('Certainly. Let me check ');
      s.pushText('that for you.');
      s.flush();
      const ev2 = await done;
      assert.equal(fake.stats.httpRequests, 3, 'one request per sentence');
      const offs = ev2.flatMap((e) => (e.type === 'audio' ? [e.offsetMs] : []));
      assert.ok(offs.every((t, i) => i === 0 || t > offs[i - 1]!), 'offsets continue across sentences');
      assert.equal(ev2.at(-1)?.type, 'done');

      await assert.rejects(drain(new ElevenLabsTts({ apiKey: 'nope', baseUrl: fake.url }).synthesize('Hi.', opts)), (e: unknown) => e instanceof ProviderError && e.code === 'auth');
    } finally { await fake.close(); }
  });

  test('contract: the fake refuses what ElevenLabs refuses', async () => {
    const fake = await startFakeElevenLabs({ script: { voiceSource: 'fixtures' } });
    try {
      const post = async (path: string, body: unknown, key = fake.apiKey): Promise<number> => {
        const r = await fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'xi-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await r.arrayBuffer();
        return r.status;
      };
      assert.equal(await post('/v1/text-to-speech/v/stream?output_format=ulaw_8000', { text: 'Hi.' }), 200);
      assert.equal(await post('/v1/text-to-speech/v/stream?output_format=ulaw_8000', { text: 'Hi.' }, 'bad'), 401);
      assert.equal(await post('/v1/text-to-speech/v/stream?output_format=ulaw_8000', { txt: 'Hi.' }), 422);
      assert.equal(await post('/v1/text-to-speech/v/stream?output_format=ulaw_8000', { text: 'Hi.', stability: 1 }), 422);
      assert.equal(await post('/v1/text-to-speech/v/stream?outputformat=ulaw_8000', { text: 'Hi.' }), 422);
      assert.equal(await post('/v1/text-to-speech/v/stream?output_format=ulaw_16000', { text: 'Hi.' }), 400);
      const { default: WebSocket } = await import('ws');
      const firstMessage = (msg: unknown): Promise<{ code: number; error?: string }> => new Promise((resolve) => {
        const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/v1/text-to-speech/v/stream-input?output_format=ulaw_8000`, { headers: { 'xi-api-key': fake.apiKey } });
        let error: string | undefined;
        ws.on('open', () => ws.send(JSON.stringify(msg)));
        ws.on('message', (d) => { error = (JSON.parse(String(d)) as { error?: string }).error; });
        ws.on('close', (code) => resolve({ code, ...(error ? { error } : {}) }));
        setTimeout(() => ws.close(1000), 300);
      });
      assert.deepEqual(await firstMessage({ text: 'Hello' }), { code: 1008, error: 'invalid_message' });
      assert.deepEqual(await firstMessage({ text: ' ', voice: 'x' }), { code: 1008, error: 'invalid_message' });
      assert.deepEqual(await firstMessage({ text: ' ' }), { code: 1000 });
    } finally { await fake.close(); }
  });
});
