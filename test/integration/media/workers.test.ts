import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaError, parseRtp, parseWav, RemoteMediaSession, ulawEncode } from '../../../media/index.js';
import type { MediaEngine, MediaEvent, MediaSession } from '../../../media/index.js';
import { collectAudio, concat, connect, delay, loudPart, medianToneSnrDb, sine, startEngine, waitFor } from '../../fixtures/media/helpers.js';
import { frames20ms, makeSpeechFixture } from '../../fixtures/vad/speech.js';

const PCMU = { name: 'PCMU', payloadType: 0, clockRate: 8000 };

/** A plain UDP peer that counts the audible PCMU octets it received (what the caller heard). */
async function ulawPeer(): Promise<{ port: number; audibleMs: () => number; packets: () => number; close: () => void }> {
  const peer = createSocket('udp4');
  let audible = 0, packets = 0;
  peer.on('message', (m) => {
    const r = parseRtp(m);
    if (!r.ok || r.packet.payloadType !== 0) return;
    packets++;
    for (const x of r.packet.payload) if (x !== 0xff) audible++;
  });
  await new Promise<void>((res) => peer.bind(0, '127.0.0.1', () => res()));
  return { port: peer.address().port, audibleMs: () => audible / 8, packets: () => packets, close: () => peer.close() };
}

/** Full-scale square wave: no sample encodes to the mu-law silence octet 0xFF. */
const loud = (ms: number): Int16Array => new Int16Array(8 * ms).map((_, i) => (i % 16 < 8 ? 12000 : -12000));

describe('media sessions in a worker thread (MEDIA_WORKERS)', () => {
  let engine: MediaEngine;
  before(async () => { engine = await startEngine({ workers: 2, workerVad: 'silero', statsIntervalMs: 200, vadConfig: { minSilenceMs: 300 } }); });
  after(async () => {
    await engine.close();
    assert.equal(engine.stats().portsInUse, 0);
    assert.equal(engine.stats().sessions, 0);
  });

  test('sessions are spread over the workers and carry a PCMU tone both ways with G.711 quality', async (t) => {
    const a = await engine.createSession({ id: 'a', vad: false });
    const b = await engine.createSession({ id: 'b', vad: false });
    assert.ok(a instanceof RemoteMediaSession && b instanceof RemoteMediaSession);
    assert.equal(engine.stats().workers, 2);
    connect(a, b, PCMU);
    const rx = collectAudio(b);
    const played = waitFor(a, 'played', (e) => e.id === 'tone');
    a.play({ id: 'tone', format: 'pcm16', sampleRate: 8000, samples: sine(440, 8000, 1000) });
    assert.equal((await played).playedMs, 1000);
    await delay(300);
    rx.stop();
    const got = loudPart(concat(rx.pcm), 1000, 80);
    assert.ok(got.length > 6000, `received ${got.length} loud samples`);
    const snr = medianToneSnrDb(got, 440, 8000);
    t.diagnostic(`tone SNR through two workers ${snr.toFixed(1)} dB`);
    assert.ok(snr > 30);
    assert.ok(rx.encoded.length > 0, 'raw G.711 octets are delivered across the thread boundary');
    await waitFor(b, 'stats', (e) => e.stats.packetsIn > 40);
    assert.ok(b.getStats().packetsIn > 40, 'getStats() follows the stats events');
    await Promise.all([a.close(), b.close()]);
    assert.equal(a.closed, true);
  });

  test('clear() is synchronous and exact: what it reports is what the peer received', async () => {
    const a = await engine.createSession({ vad: false });
    const peer = await ulawPeer();
    a.setRemote({ address: '127.0.0.1', port: peer.port, codec: PCMU, direction: 'sendrecv' });
    a.play({ id: 'one', format: 'pcm16', sampleRate: 8000, samples: loud(3000) });
    a.play({ id: 'two', format: 'pcm16', sampleRate: 8000, samples: loud(1000) });
    while (peer.audibleMs() === 0) await delay(10);
    await delay(200);
    const r = a.clear();
    assert.deepEqual(r.items.map((i) => i.id), ['one', 'two']);
    assert.equal(r.items[1]!.playedMs, 0);
    assert.ok(r.playedMs > 0 && r.playedMs < 3000, `played ${r.playedMs}`);
    assert.equal(a.queuedMs, 0);
    await delay(300);
    assert.equal(peer.audibleMs(), r.playedMs, 'ms received by the peer == ms reported by clear()');
    const packets = peer.packets();
    await delay(200);
    assert.ok(peer.packets() > packets, 'RTP keeps flowing (silence) after clear()');
    // Audio queued after the clear plays normally and reports once.
    const done = waitFor(a, 'played', (e) => e.id === 'after');
    a.play({ id: 'after', format: 'pcmu', data: ulawEncode(loud(200)) });
    assert.equal((await done).playedMs, 200);
    await delay(100);
    assert.equal(peer.audibleMs(), r.playedMs + 200);
    await a.close();
    peer.close();
  });

  test('clear() right after play(): the worker never sends the item, and no late played event', async () => {
    const a = await engine.createSession({ vad: false });
    const peer = await ulawPeer();
    a.setRemote({ address: '127.0.0.1', port: peer.port, codec: PCMU, direction: 'sendrecv' });
    const events: MediaEvent[] = [];
    a.on((ev) => { if (ev.type === 'played') events.push(ev); });
    let reported = 0;
    for (let round = 0; round < 20; round++) {
      a.play({ id: `r${round}`, format: 'pcm16', sampleRate: 8000, samples: loud(500) });
      const r = a.clear();
      assert.equal(r.items.length, 1);
      assert.equal(r.items[0]!.id, `r${round}`);
      assert.ok(r.items[0]!.playedMs <= 20, 'at most the frame in flight');
      reported += r.playedMs;
    }
    await delay(300);
    assert.equal(events.length, 0, 'cleared items never report played');
    assert.equal(peer.audibleMs(), reported, 'the peer heard exactly what clear() reported');
    await a.close();
    peer.close();
  });

  test('an item finished just before clear() is reported once, with its full length', async () => {
    const a = await engine.createSession({ vad: false });
    const peer = await ulawPeer();
    a.setRemote({ address: '127.0.0.1', port: peer.port, codec: PCMU, direction: 'sendrecv' });
    let reported = 0;
    a.on((ev) => { if (ev.type === 'played' && ev.id === 'short') reported += ev.playedMs; });
    a.play({ id: 'short', format: 'pcm16', sampleRate: 8000, samples: loud(100) });
    a.play({ id: 'long', format: 'pcm16', sampleRate: 8000, samples: loud(2000) });
    while (peer.audibleMs() < 140) await delay(2);
    const r = a.clear();
    const fromClear = r.items.find((i) => i.id === 'short')?.playedMs ?? 0;
    await delay(200);
    assert.equal(reported + fromClear, 100, 'short: 100 ms, reported by exactly one of clear() or its played event');
    const long = r.items.find((i) => i.id === 'long')!;
    assert.equal(peer.audibleMs(), 100 + long.playedMs);
    await a.close();
    peer.close();
  });

  test('commands are validated on the calling thread with the same errors', async () => {
    const a = await engine.createSession({ vad: false });
    assert.throws(() => a.setRemote({ address: '127.0.0.1', port: 4000, codec: { name: 'speex', payloadType: 97, clockRate: 8000 }, direction: 'sendrecv' }),
      (e: unknown) => e instanceof MediaError && e.code === 'UNSUPPORTED_CODEC');
    assert.throws(() => a.setRemote({ address: 'example.com', port: 4000, codec: PCMU, direction: 'sendrecv' }), (e: unknown) => e instanceof MediaError && e.code === 'NO_REMOTE');
    assert.throws(() => a.play({ id: 'x', format: 'pcm16', sampleRate: 11025 as 8000, samples: new Int16Array(10) }), (e: unknown) => e instanceof MediaError && e.code === 'BAD_AUDIO');
    a.setRemote({ address: '127.0.0.1', port: 4000, codec: PCMU, direction: 'sendrecv' });
    assert.equal(a.codecName, 'PCMU');
    assert.throws(() => a.sendDtmf('5'), (e: unknown) => e instanceof MediaError && e.code === 'NO_TELEPHONE_EVENT');
    assert.throws(() => a.injectDtmf('x'), (e: unknown) => e instanceof MediaError && e.code === 'BAD_DIGIT');
    await a.close();
    assert.throws(() => a.play({ id: 'x', format: 'pcmu', data: new Uint8Array(160) }), (e: unknown) => e instanceof MediaError && e.code === 'CLOSED');
    assert.deepEqual(a.clear(), { items: [], playedMs: 0 });
    await a.close(); // idempotent
  });

  test('RFC 4733 digits between worker sessions, SIP INFO digits, and a stereo recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'media-workers-'));
    try {
      const a = await engine.createSession({ vad: false });
      const b = await engine.createSession({ vad: false });
      connect(a, b, PCMU, 101);
      const path = join(dir, 'b.wav');
      await b.startRecording(path);
      const digit = waitFor(b, 'dtmf', (e) => e.source === 'rfc4733');
      a.sendDtmf('7', 120);
      const got = await digit;
      assert.equal(got.digit, '7');
      const info = waitFor(b, 'dtmf', (e) => e.source === 'sip-info');
      b.injectDtmf('#', 250);
      assert.deepEqual({ ...(await info) }, { type: 'dtmf', digit: '#', durationMs: 250, source: 'sip-info' });
      b.play({ id: 'agent', format: 'pcm16', sampleRate: 8000, samples: sine(600, 8000, 300) });
      await waitFor(b, 'played');
      await b.stopRecording();
      const wav = parseWav(readFileSync(path));
      assert.equal(wav.channels.length, 2);
      assert.equal(wav.sampleRate, 8000);
      assert.ok(wav.channels[1]!.length >= 8000 * 0.3, `recorded ${wav.channels[1]!.length} frames`);
      assert.ok(loudPart(wav.channels[1]!, 1000, 0).length > 8000 * 0.25, 'the agent channel carries the played tone');
      await Promise.all([a.close(), b.close()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Silero VAD runs inside the worker: speech-start and speech-end for spoken sentences', async () => {
    const fx = makeSpeechFixture(8000);
    const caller = await engine.createSession({ vad: false });
    const agent = await engine.createSession();
    connect(caller, agent, PCMU);
    const events: { type: string; atMs: number }[] = [];
    agent.on((ev) => { if (ev.type === 'speech-start' || ev.type === 'speech-end') events.push({ type: ev.type, atMs: ev.atMs }); });
    const frames = frames20ms(fx.pcm, 8000);
    caller.play({ id: 'speech', format: 'pcm16', sampleRate: 8000, samples: fx.pcm });
    await waitFor(caller, 'played', () => true, frames.length * 20 + 10_000);
    await delay(800);
    const starts = events.filter((e) => e.type === 'speech-start');
    const ends = events.filter((e) => e.type === 'speech-end');
    assert.equal(starts.length, fx.segments.length, `events: ${JSON.stringify(events)}`);
    assert.equal(ends.length, fx.segments.length);
    await delay(1100); // one health report
    assert.ok(engine.stats().vad.windows > 0, 'VAD counters come back from the workers');
    await Promise.all([caller.close(), agent.close()]);
  });

  for (const disarm of [false, true]) {
    test(disarm ? 'a disarmed interruption leaves playout running' : 'an armed interruption mutes playout in the worker while this thread is blocked, and clear() reports exactly what was sent', async () => {
      const fx = makeSpeechFixture(8000);
      const caller = await engine.createSession({ vad: false });
      const agent = await engine.createSession();
      connect(caller, agent, PCMU);
      agent.play({ id: 'reply', format: 'pcm16', sampleRate: 8000, samples: loud(8000) });
      caller.play({ id: 'speech', format: 'pcm16', sampleRate: 8000, samples: fx.pcm });
      const outcome = await new Promise<{ before: number; after: number; cleared: number }>((resolve) => {
        const off = agent.on((ev) => {
          if (ev.type !== 'speech-start') return;
          off();
          agent.armInterruption(ev.run, 300);
          if (disarm) agent.disarmInterruption();
          const before = agent.queuedMs;
          const until = performance.now() + 800;
          while (performance.now() < until) { /* this thread is busy: only the worker can act */ }
          const after = agent.queuedMs;
          const r = agent.clear();
          resolve({ before, after, cleared: r.items[0]!.playedMs });
        });
      });
      const progressed = outcome.before - outcome.after;
      if (disarm) assert.ok(progressed >= 500, `played ${progressed} ms while blocked for 800 ms`);
      else assert.ok(progressed < 300, `muted within the interruption window: played ${progressed} ms while blocked for 800 ms`);
      if (disarm) {
        // Still playing: a frame may go out between reading queuedMs and clear().
        assert.ok(outcome.cleared >= 8000 - outcome.after && outcome.cleared <= 8000 - outcome.after + 40, `cleared ${outcome.cleared}, queued ${outcome.after}`);
      } else {
        assert.equal(outcome.cleared, 8000 - outcome.after, 'clear() after the mute: exactly what was sent');
      }
      await Promise.all([caller.close(), agent.close()]);
    });
  }

  test('engine close() closes the sessions still open and releases their ports', async () => {
    const e2 = await startEngine({ workers: 1, workerVad: 'none' });
    const s: MediaSession[] = [];
    for (let i = 0; i < 3; i++) s.push(await e2.createSession());
    assert.equal(e2.stats().portsInUse, 3);
    const closed = s.map((x) => waitFor(x, 'closed'));
    await e2.close();
    await Promise.all(closed);
    assert.equal(e2.stats().portsInUse, 0);
    assert.ok(s.every((x) => x.closed));
  });
});
