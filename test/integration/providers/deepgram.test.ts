import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DeepgramStt } from '../../../engine/providers/deepgram/stt.js';
import { ProviderError } from '../../../engine/providers/errors.js';
import { encodeMulaw } from '../../../engine/providers/audio.js';
import type { SttEvent, SttSession } from '../../../engine/providers/stt.js';
import { startFakeDeepgram } from '../../fakes/deepgram.js';
import { fixturePcm } from '../../fakes/common.js';

const silence = (ms: number): Uint8Array => new Uint8Array(8 * ms).fill(0xff); // mu-law zero
const clip = (name: string): Uint8Array => encodeMulaw(fixturePcm(name, 8000));
const clipMs = (name: string): number => Math.round((fixturePcm(name, 8000).length / 8000) * 1000);

async function pushAudio(s: SttSession, audio: Uint8Array): Promise<void> {
  for (let i = 0; i < audio.length; i += 160) {
    s.sendAudio(audio.subarray(i, i + 160));
    if (i % 3200 === 0) await new Promise((r) => setImmediate(r));
  }
}

async function collect(s: SttSession, until: (e: SttEvent, all: SttEvent[]) => boolean): Promise<SttEvent[]> {
  const all: SttEvent[] = [];
  for await (const e of s) { all.push(e); if (until(e, all)) break; }
  return all;
}

const finals = (ev: SttEvent[]): string[] => ev.flatMap((e) => (e.type === 'final' && e.text ? [e.text] : []));

const base = { model: 'nova-3-general', language: 'en', encoding: 'mulaw', sampleRate: 8000 } as const;

describe('Deepgram live STT against the fake', () => {
  test('streams mu-law audio and yields speech-started, interim, final (speech_final), utterance-end, metadata', async () => {
    const fake = await startFakeDeepgram({ script: { utterances: ['I would like to book a table.', 'What time do you open?'] } });
    try {
      const stt = new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url });
      const s = await stt.stream({ ...base, keyterms: ['table', 'tomorrow'], endpointingMs: 300, utteranceEndMs: 1000 });
      const done = collect(s, (e) => e.type === 'closed');
      await pushAudio(s, silence(300));
      await pushAudio(s, clip('caller-book-table'));
      await pushAudio(s, silence(1500));
      await pushAudio(s, clip('caller-what-time'));
      await pushAudio(s, silence(1500));
      await s.close();
      const ev = await done;
      assert.deepEqual(finals(ev), ['I would like to book a table.', 'What time do you open?']);
      const types = ev.map((e) => e.type);
      assert.ok(types.includes('speech-started'));
      assert.ok(types.includes('interim'), 'interim results are passed through');
      assert.equal(types.filter((t) => t === 'utterance-end').length, 2);
      assert.ok(types.indexOf('interim') < types.indexOf('final'));
      const f = ev.find((e) => e.type === 'final');
      assert.ok(f && f.type === 'final' && f.speechFinal && f.words.length === 7 && f.start > 0.2);
      assert.equal(types.at(-2), 'metadata');
      assert.equal(types.at(-1), 'closed');
      const q = fake.stats.queries[0]!;
      assert.equal(q.get('encoding'), 'mulaw');
      assert.equal(q.get('sample_rate'), '8000');
      assert.equal(q.get('model'), 'nova-3-general');
      assert.deepEqual(q.getAll('keyterm'), ['table', 'tomorrow']);
      assert.equal(q.get('utterance_end_ms'), '1000');
      assert.equal(q.get('interim_results'), 'true');
      assert.equal(fake.stats.closeStreams, 1);
    } finally { await fake.close(); }
  });

  test('reconnects after a dropped socket and resends unconfirmed audio: no words lost', async () => {
    const fake = await startFakeDeepgram({
      script: { utterances: [{ text: 'hello I would like to book a table for two tonight', durationMs: clipMs('caller-book-table') }, { text: 'what time do you open tomorrow', durationMs: clipMs('caller-what-time') }] },
    });
    try {
      const stt = new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url });
      const s = await stt.stream(base);
      const done = collect(s, (e) => e.type === 'closed');
      await pushAudio(s, silence(200));
      await pushAudio(s, clip('caller-book-table'));
      await pushAudio(s, silence(1200));
      // Drop the socket half-way through the second utterance.
      fake.script.faults.dropAfterAudioMs = 200 + clipMs('caller-book-table') + 1200 + clipMs('caller-what-time') / 2;
      await pushAudio(s, clip('caller-what-time'));
      await pushAudio(s, silence(1200));
      await s.close();
      const ev = await done;
      assert.deepEqual(finals(ev), ['hello I would like to book a table for two tonight', 'what time do you open tomorrow']);
      assert.ok(ev.some((e) => e.type === 'reconnecting'));
      const rc = ev.find((e) => e.type === 'reconnected');
      assert.ok(rc && rc.type === 'reconnected' && rc.resentMs > 0);
      assert.equal(fake.stats.connections, 2);
      // Timestamps stay continuous across the reconnect.
      const f2 = ev.filter((e) => e.type === 'final' && e.text)[1];
      assert.ok(f2 && f2.type === 'final' && f2.start > (200 + clipMs('caller-book-table')) / 1000);
    } finally { await fake.close(); }
  });

  test('the fake loses words when audio is not resent (the check above is meaningful)', async () => {
    const fake = await startFakeDeepgram({ script: { utterances: [{ text: 'what time do you open tomorrow', durationMs: clipMs('caller-what-time') }] } });
    try {
      const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&endpointing=300`, { headers: { Authorization: `Token ${fake.apiKey}` } });
      const msgs: { type: string; is_final?: boolean; channel?: { alternatives: { transcript: string }[] } }[] = [];
      ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
      await new Promise((r) => ws.once('open', r));
      const audio = clip('caller-what-time');
      ws.send(audio.subarray(Math.floor(audio.length / 2)));
      ws.send(silence(1000));
      ws.send(JSON.stringify({ type: 'CloseStream' }));
      await new Promise((r) => ws.once('close', r));
      const text = msgs.filter((m) => m.type === 'Results' && m.is_final).map((m) => m.channel!.alternatives[0]!.transcript).join(' ');
      assert.notEqual(text, 'what time do you open tomorrow');
      assert.ok(text.length > 0 && 'what time do you open tomorrow'.endsWith(text));
    } finally { await fake.close(); }
  });

  test('a wrong key is a fatal auth error; a refused reconnect ends the session with error', async () => {
    const fake = await startFakeDeepgram();
    try {
      await assert.rejects(new DeepgramStt({ apiKey: 'wrong', baseUrl: fake.url }).stream(base), (e: unknown) => e instanceof ProviderError && e.code === 'auth' && e.status === 401 && !e.retryable);
      const s = await new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url }).stream({ ...base, maxReconnects: 3 });
      const done = collect(s, (e) => e.type === 'closed');
      fake.script.faults.rejectStatus = 401;
      fake.script.faults.dropAfterAudioMs = 100;
      await pushAudio(s, silence(300));
      const ev = await done;
      const err = ev.find((e) => e.type === 'error');
      assert.ok(err && err.type === 'error' && err.error.code === 'auth');
      assert.equal(ev.filter((e) => e.type === 'reconnecting').length, 1, 'fatal errors are not retried');
    } finally { await fake.close(); }
  });

  test('5xx at handshake is retryable; a slow start hits the connect timeout', async () => {
    const fake = await startFakeDeepgram({ script: { faults: { rejectStatus: 503 } } });
    try {
      const stt = new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url });
      await assert.rejects(stt.stream(base), (e: unknown) => e instanceof ProviderError && e.code === 'server' && e.retryable);
      fake.script.faults = { slowStartMs: 1500 };
      await assert.rejects(stt.stream({ ...base, connectTimeoutMs: 200 }), (e: unknown) => e instanceof ProviderError && e.code === 'timeout' && e.retryable);
    } finally { await fake.close(); }
  });

  test('contract: the fake refuses what Deepgram refuses', async () => {
    const fake = await startFakeDeepgram();
    try {
      const stt = new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url });
      // keyterm is Nova-3 only
      await assert.rejects(stt.stream({ ...base, model: 'nova-2', keyterms: ['x'] }), (e: unknown) => e instanceof ProviderError && e.code === 'bad_request' && e.status === 400);
      const status = async (path: string, headers: Record<string, string>): Promise<number> => new Promise((resolve) => {
        const ws = new WebSocket(`${fake.url.replace('http', 'ws')}${path}`, { headers });
        ws.on('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); res.resume(); });
        ws.on('open', () => { resolve(101); ws.close(); });
        ws.on('error', () => undefined);
      });
      const auth = { Authorization: `Token ${fake.apiKey}` };
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000', {}), 401);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000', { Authorization: `Bearer ${fake.apiKey}` }), 401);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw', auth), 400);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&utterance_end_ms=1000', auth), 400);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&interim_results=true&utterance_end_ms=500', auth), 400);
      assert.equal(await status('/v1/listen?model=nova-3&encodng=mulaw&sample_rate=8000', auth), 400);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=ulaw&sample_rate=8000', auth), 400);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&keywords=x', auth), 400);
      assert.equal(await status('/v2/listen?model=nova-3', auth), 404);
      assert.equal(await status('/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&interim_results=true&utterance_end_ms=1000', auth), 101);
    } finally { await fake.close(); }
  });

  test('sends KeepAlive while the caller is silent', async () => {
    const fake = await startFakeDeepgram();
    try {
      const s = await new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url }).stream({ ...base, keepAliveMs: 100 });
      const t0 = Date.now();
      while (fake.stats.keepAlives < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
      assert.ok(fake.stats.keepAlives >= 2);
      await s.close();
    } finally { await fake.close(); }
  });

  test('aborting the signal closes the socket at once and ends the iteration', async () => {
    const fake = await startFakeDeepgram();
    try {
      const ac = new AbortController();
      const s = await new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url }).stream(base, ac.signal);
      const done = collect(s, () => false);
      await pushAudio(s, silence(200));
      assert.equal(fake.openSockets, 1);
      ac.abort();
      await fake.waitForOpenSockets(0);
      const ev = await done;
      assert.equal(ev.at(-1)?.type, 'closed');
      assert.equal(fake.stats.closeStreams, 0);
    } finally { await fake.close(); }
  });

  test('Finalize flushes the pending utterance as a final result', async () => {
    const fake = await startFakeDeepgram({ script: { utterances: ['thank you goodbye'] } });
    try {
      const s = await new DeepgramStt({ apiKey: fake.apiKey, baseUrl: fake.url }).stream(base);
      const got = collect(s, (e) => e.type === 'final');
      const c = clip('caller-goodbye');
      await pushAudio(s, c.subarray(0, Math.floor(c.length * 0.6)));
      s.finalize();
      const ev = await got;
      const f = ev.at(-1);
      assert.ok(f && f.type === 'final' && f.fromFinalize && f.text === 'thank you goodbye');
      await s.close();
    } finally { await fake.close(); }
  });
});
