import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { MediaEngine, MediaEvent } from '../../../media/index.js';
import { EnergyVadEngine } from '../../fixtures/media/energy-vad.js';
import { collectAudio, concat, connect, delay, loudPart, sine, startEngine, medianToneSnrDb, waitFor } from '../../fixtures/media/helpers.js';

describe('G.722 and Opus over loopback, VAD wiring, DTMF between sessions', () => {
  let engine: MediaEngine;
  const vad = new EnergyVadEngine();
  before(async () => { engine = await startEngine({ vad, vadConfig: { minSilenceMs: 200 } }); });
  after(async () => { await engine.close(); assert.equal(vad.closed, true); assert.equal(engine.stats().portsInUse, 0); });

  const cases = [
    { codec: { name: 'G722', payloadType: 9, clockRate: 8000 }, minSnr: 20, rate: 16000 },
    { codec: { name: 'opus', payloadType: 111, clockRate: 48000, channels: 2 }, minSnr: 10, rate: 16000 },
  ];
  for (const c of cases) {
    test(`${c.codec.name}: a 24 kHz tone is resampled, encoded, carried and decoded at 16 kHz`, async (t) => {
      const a = await engine.createSession();
      const b = await engine.createSession();
      connect(a, b, c.codec);
      const rx = collectAudio(b);
      const done = waitFor(a, 'played');
      a.play({ id: 't', format: 'pcm16', sampleRate: 24000, samples: sine(1000, 24000, 1000) });
      assert.equal((await done).playedMs, 1000);
      await delay(300);
      rx.stop();
      const all = concat(rx.pcm);
      const got = loudPart(all, 1500, 1600);
      assert.ok(got.length > 10000, `got ${got.length} loud samples`);
      const snr = medianToneSnrDb(got, 1000, 16000);
      t.diagnostic(`${c.codec.name} tone SNR ${snr.toFixed(1)} dB`);
      assert.ok(snr > c.minSnr, `${c.codec.name} SNR ${snr.toFixed(1)} dB`);
      await Promise.all([a.close(), b.close()]);
    });
  }

  test('VAD runs at the call rate and speech-start/speech-end match the played burst', async () => {
    const a = await engine.createSession();
    const b = await engine.createSession();
    connect(a, b, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
    const events: Extract<MediaEvent, { type: 'speech-start' | 'speech-end' }>[] = [];
    let firstAudioAt = -1;
    let lastAudioEnd = -1;
    b.on((ev) => {
      if (ev.type === 'speech-start' || ev.type === 'speech-end') events.push(ev);
      if (ev.type === 'audio') {
        // Boundaries in the caller timeline as received (loopback jitter on a loaded machine may stretch it).
        const first = ev.pcm.findIndex((x) => Math.abs(x) > 1000);
        if (first >= 0 && firstAudioAt < 0) firstAudioAt = ev.atMs + first / 8;
        let last = ev.pcm.length - 1;
        while (last >= 0 && Math.abs(ev.pcm[last]!) <= 1000) last--;
        if (last >= 0) lastAudioEnd = ev.atMs + (last + 1) / 8;
      }
    });
    a.play({ id: 'sil', format: 'pcm16', sampleRate: 8000, samples: new Int16Array(8000 * 0.5) });
    a.play({ id: 'burst', format: 'pcm16', sampleRate: 8000, samples: sine(300, 8000, 800, 10000) });
    await waitFor(b, 'speech-end', () => true, 8000);
    assert.deepEqual(events.map((e) => e.type), ['speech-start', 'speech-end']);
    const start = events[0]!.atMs, end = events[1]!.atMs;
    // Within a 32 ms VAD window (plus one for the hysteresis) of the burst's edges.
    assert.ok(Math.abs(start - firstAudioAt) <= 40, `start ${start} vs ${firstAudioAt}`);
    assert.ok(Math.abs(end - lastAudioEnd) <= 70, `end ${end} vs ${lastAudioEnd}`);
    assert.ok(vad.rates.includes(8000));
    await Promise.all([a.close(), b.close()]);
  });

  test('G.722 call creates a 16 kHz VAD stream', async () => {
    const before = vad.rates.length;
    const a = await engine.createSession();
    a.setRemote({ address: '127.0.0.1', port: 9, codec: { name: 'G722', payloadType: 9, clockRate: 8000 }, direction: 'inactive' });
    assert.deepEqual(vad.rates.slice(before), [16000]);
    await a.close();
  });

  test('RFC 4733 digits sent by one session arrive once each at the other, SIP INFO digits too', async () => {
    const a = await engine.createSession();
    const b = await engine.createSession();
    connect(a, b, { name: 'PCMA', payloadType: 8, clockRate: 8000 }, 101);
    const digits: string[] = [];
    b.on((ev) => { if (ev.type === 'dtmf') digits.push(`${ev.digit}/${ev.source}/${ev.durationMs}`); });
    for (const d of '19#') a.sendDtmf(d, 120);
    await waitFor(b, 'dtmf', (e) => e.digit === '#');
    b.injectDtmf('5');
    assert.deepEqual(digits, ['1/rfc4733/120', '9/rfc4733/120', '#/rfc4733/120', '5/sip-info/100']);
    assert.equal(a.getStats().dtmfOut, 3);
    const c = await engine.createSession();
    c.setRemote({ address: '127.0.0.1', port: 9, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    assert.throws(() => c.sendDtmf('1', 100), (e: unknown) => (e as { code?: string }).code === 'NO_TELEPHONE_EVENT');
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
