import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { alawToLinear, bytesToMs, buildWav, decodeFrom, encodeAs, linearToAlaw, linearToMulaw, mulawToLinear, parseWav, resample, rms } from '../../../engine/providers/audio.js';

const tone = (hz: number, rate: number, ms: number, amp = 8000): Int16Array => Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));

describe('provider audio helpers', () => {
  test('G.711 mu-law and A-law round-trip within the codec step', () => {
    for (const s of [-32768, -12345, -1000, -1, 0, 1, 100, 1000, 12345, 32767]) {
      const mu = mulawToLinear(linearToMulaw(s));
      const a = alawToLinear(linearToAlaw(s));
      const tol = Math.max(16, Math.abs(s) / 16);
      assert.ok(Math.abs(mu - s) <= tol, `mu-law ${s} -> ${mu}`);
      assert.ok(Math.abs(a - s) <= tol, `A-law ${s} -> ${a}`);
    }
    assert.equal(linearToMulaw(0), 0xff);
    assert.equal(linearToAlaw(0), 0xd5);
  });

  test('resampling keeps length ratio and in-band energy, removes what is above the new Nyquist', () => {
    const t = tone(440, 22050, 500);
    const r = resample(t, 22050, 8000);
    assert.equal(r.length, Math.floor(t.length * 8000 / 22050));
    assert.ok(Math.abs(rms(r) - rms(t)) / rms(t) < 0.05);
    const high = resample(tone(6000, 22050, 500), 22050, 8000);
    assert.ok(rms(high) < rms(t) * 0.1, 'a 6 kHz tone does not alias into 8 kHz audio');
    const up = resample(tone(440, 8000, 200), 8000, 24000);
    assert.equal(up.length, 4800);
  });

  test('WAV build/parse and format conversions', () => {
    const t = tone(300, 16000, 100);
    const w = parseWav(buildWav(t, 16000));
    assert.equal(w.sampleRate, 16000);
    assert.deepEqual(w.pcm, t);
    const ulaw = encodeAs(t, 16000, 'ulaw_8000');
    assert.equal(ulaw.length, 800);
    assert.equal(bytesToMs(ulaw.length, 'ulaw_8000'), 100);
    const pcm = encodeAs(t, 16000, 'pcm_16000');
    assert.equal(bytesToMs(pcm.length, 'pcm_16000'), 100);
    assert.equal(decodeFrom(pcm, 'pcm_16000').pcm.length, 1600);
    assert.throws(() => parseWav(new Uint8Array(10)), (e: unknown) => (e as { code?: string }).code === 'bad_wav');
  });
});
