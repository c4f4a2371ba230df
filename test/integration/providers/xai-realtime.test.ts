import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { XaiRealtime } from '../../../engine/providers/xai/realtime.js';
import { ProviderError } from '../../../engine/providers/errors.js';
import { decodeMulaw, encodeMulaw, rms } from '../../../engine/providers/audio.js';
import type { RealtimeEvent, RealtimeSession } from '../../../engine/providers/realtime.js';
import { startFakeXaiRealtime } from '../../fakes/xai-realtime.js';
import { fixturePcm } from '../../fakes/common.js';

const silence = (ms: number): Uint8Array => new Uint8Array(8 * ms).fill(0xff);
function say(s: RealtimeSession, clip: string): void {
  const a = Buffer.concat([encodeMulaw(fixturePcm(clip, 8000)), silence(800)]);
  for (let i = 0; i < a.length; i += 160) s.pushAudio(a.subarray(i, i + 160));
}
async function until(s: RealtimeSession, pred: (e: RealtimeEvent) => boolean, seen: RealtimeEvent[] = []): Promise<RealtimeEvent[]> {
  for await (const e of { [Symbol.asyncIterator]: () => it(s) }) { seen.push(e); if (pred(e)) break; }
  return seen;
}
const iters = new WeakMap<RealtimeSession, AsyncIterator<RealtimeEvent>>();
function it(s: RealtimeSession): AsyncIterator<RealtimeEvent> {
  let i = iters.get(s);
  if (!i) { i = s[Symbol.asyncIterator](); iters.set(s, i); }
  return { next: () => i!.next() };
}
const base = { model: 'grok-voice-think-fast-2.0', audioFormat: 'mulaw_8000' } as const;

describe('xAI realtime against the fake', () => {
  test('configures the session (G.711, voice, tools, clamped turn_detection) and runs a spoken turn', async () => {
    const fake = await startFakeXaiRealtime({ script: { voiceSource: 'fixtures', userTranscripts: ['book a table for two'], responses: [{ text: 'Certainly. Let me check that for you.' }] } });
    try {
      const rt = new XaiRealtime({ apiKey: fake.apiKey, baseUrl: fake.baseUrl });
      const s = await rt.connect({ ...base, voice: 'ara', instructions: 'Be brief.', tools: [{ name: 'book_table', parameters: { type: 'object', properties: {} } }], turnDetection: { threshold: 2, silenceDurationMs: 5000, prefixPaddingMs: -5 } });
      const su = fake.stats.sessionUpdates[0]!;
      assert.deepEqual(su.turn_detection, { type: 'server_vad', threshold: 1, prefix_padding_ms: 0, silence_duration_ms: 2000 });
      assert.deepEqual(su.audio, { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } });
      assert.equal(su.voice, 'Ara');
      assert.equal((su.tools as { name: string }[])[0]!.name, 'book_table');
      await s.close();
      // A second session with a short silence to get a turn quickly.
      const s2 = await rt.connect({ ...base, turnDetection: { silenceDurationMs: 300 } });
      say(s2, 'caller-book-table');
      const ev = await until(s2, (e) => e.type === 'response-done');
      const types = ev.map((e) => e.type);
      for (const t of ['speech-started', 'speech-stopped', 'user-transcript', 'response-started', 'audio', 'agent-transcript-delta', 'agent-transcript', 'response-done'] as const) assert.ok(types.includes(t), t);
      const ut = ev.find((e) => e.type === 'user-transcript');
      assert.ok(ut && ut.type === 'user-transcript' && ut.text === 'book a table for two');
      const audio = Buffer.concat(ev.flatMap((e) => (e.type === 'audio' ? [e.audio] : [])));
      assert.ok(rms(decodeMulaw(audio)) > 300, 'real speech in mu-law');
      const at = ev.find((e) => e.type === 'agent-transcript');
      assert.ok(at && at.type === 'agent-transcript' && at.text === 'Certainly. Let me check that for you.');
      await s2.close();
    } finally { await fake.close(); }
  });

  test('function calls come out whole; the tool result goes back and gets a response', async () => {
    const fake = await startFakeXaiRealtime({ script: { voiceSource: 'fixtures', responses: [{ functionCall: { name: 'book_table', arguments: { people: 2, time: '19:30' } } }, { text: 'Booked for two at half past seven.' }] } });
    try {
      const s = await new XaiRealtime({ apiKey: fake.apiKey, baseUrl: fake.baseUrl }).connect({ ...base, turnDetection: { silenceDurationMs: 300 } });
      say(s, 'caller-book-table');
      const ev = await until(s, (e) => e.type === 'function-call');
      const fc = ev.at(-1);
      assert.ok(fc && fc.type === 'function-call');
      assert.equal(fc.name, 'book_table');
      assert.deepEqual(JSON.parse(fc.arguments), { people: 2, time: '19:30' });
      s.sendToolResult(fc.callId, '{"booked":true}');
      const ev2 = await until(s, (e) => e.type === 'agent-transcript');
      assert.ok(ev2.some((e) => e.type === 'audio'));
      assert.deepEqual(fake.stats.toolOutputs, [{ call_id: fc.callId, output: '{"booked":true}' }]);
      await s.close();
    } finally { await fake.close(); }
  });

  test('interrupt cancels the response; truncate reports what was played', async () => {
    const fake = await startFakeXaiRealtime({ script: { voiceSource: 'fixtures', realtimeFactor: 1, responses: [{ text: 'Hello! Thanks for calling. How can I help you today?' }] } });
    try {
      const s = await new XaiRealtime({ apiKey: fake.apiKey, baseUrl: fake.baseUrl }).connect(base);
      s.sendText('Say hello', 'user', true);
      const ev = await until(s, (e) => e.type === 'audio');
      const a = ev.at(-1);
      assert.ok(a && a.type === 'audio');
      s.interrupt();
      s.truncate(a.itemId, 50);
      const rest = await until(s, (e) => e.type === 'response-done');
      const done = rest.at(-1);
      assert.ok(done && done.type === 'response-done' && done.status === 'cancelled');
      assert.equal(fake.stats.cancels, 1);
      assert.deepEqual(fake.stats.truncations, [{ item_id: a.itemId, audio_end_ms: 50 }]);
      // Truncating beyond the audio is refused by the fake as by the service.
      s.truncate(a.itemId, 60_000);
      const err = await until(s, (e) => e.type === 'error');
      const e = err.at(-1);
      assert.ok(e && e.type === 'error' && !e.fatal && e.error.code === 'bad_request');
      await s.close();
    } finally { await fake.close(); }
  });

  test('PCM transcoding mode: 24 kHz PCM on the wire, mu-law to the caller', async () => {
    const fake = await startFakeXaiRealtime({ script: { voiceSource: 'fixtures', responses: [{ text: 'One moment please, I am looking that up.' }] } });
    try {
      const s = await new XaiRealtime({ apiKey: fake.apiKey, baseUrl: fake.baseUrl, transcode: 'pcm24k' }).connect({ ...base, turnDetection: { silenceDurationMs: 300 } });
      assert.deepEqual((fake.stats.sessionUpdates[0]!.audio as { input: unknown }).input, { format: { type: 'audio/pcm', rate: 24000 } });
      say(s, 'caller-what-time');
      const ev = await until(s, (e) => e.type === 'response-done');
      assert.ok(ev.some((e) => e.type === 'user-transcript'), 'the fake heard speech in the resampled PCM');
      const audio = Buffer.concat(ev.flatMap((e) => (e.type === 'audio' ? [e.audio] : [])));
      const pcm = decodeMulaw(audio);
      assert.ok(pcm.length > 8000 && rms(pcm) > 300);
      await s.close();
    } finally { await fake.close(); }
  });

  test('wrong key and refused session are errors; abort closes the socket at once', async () => {
    const fake = await startFakeXaiRealtime();
    try {
      await assert.rejects(new XaiRealtime({ apiKey: 'bad', baseUrl: fake.baseUrl }).connect(base), (e: unknown) => e instanceof ProviderError && e.code === 'auth' && e.status === 401);
      await assert.rejects(new XaiRealtime({ apiKey: fake.apiKey, baseUrl: fake.baseUrl }).connect({ ...base, voice: 'bob' }), (e: unknown) => e instanceof ProviderError && e.code === 'bad_request');
      assert.deepEqual(fake.stats.errors, ['invalid_value']);
      const ac = new AbortController();
      const s = await new XaiRealtime({ apiKey: fake.apiKey, baseUrl: fake.baseUrl }).connect(base, ac.signal);
      assert.equal(fake.openSockets, 1);
      ac.abort();
      const ev = await until(s, (e) => e.type === 'closed');
      assert.equal(ev.at(-1)?.type, 'closed');
      const t0 = Date.now();
      while (fake.openSockets > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      assert.equal(fake.openSockets, 0);
    } finally { await fake.close(); }
  });
});
