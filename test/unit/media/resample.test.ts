import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler } from '../../../media/index.js';
import { sine, toneSnrDb } from '../../fixtures/media/helpers.js';

describe('Resampler (libsamplerate)', () => {
  let rs: Resampler;
  before(async () => { rs = await Resampler.load(); });
  after(() => rs.close());

  for (const [from, to] of [[48000, 8000], [24000, 8000], [16000, 8000], [8000, 16000], [24000, 16000], [48000, 16000]] as const) {
    test(`${from} -> ${to} Hz keeps a 1 kHz tone clean and the duration exact`, () => {
      const out = rs.resample(sine(1000, from, 500), from, to);
      assert.ok(Math.abs(out.length - to / 2) <= 2, `length ${out.length}`);
      const snr = toneSnrDb(out.subarray(to / 50, out.length - to / 50), 1000, to);
      assert.ok(snr > 40, `SNR ${snr.toFixed(1)} dB`);
    });
  }

  test('content above the new Nyquist is filtered out (anti-aliasing), not folded back', () => {
    const out = rs.resample(sine(6000, 48000, 500, 10000), 48000, 8000); // 6 kHz > 4 kHz
    let peak = 0;
    for (const x of out.subarray(400, out.length - 400)) peak = Math.max(peak, Math.abs(x));
    assert.ok(peak < 300, `aliased residue peak ${peak}`);
  });

  test('unknown pairs and closed resamplers fail with codes', () => {
    assert.throws(() => rs.resample(new Int16Array(10), 11025, 8000), (e: unknown) => (e as { code?: string }).code === 'BAD_AUDIO');
    assert.deepEqual(rs.resample(new Int16Array([1, 2, 3]), 8000, 8000), new Int16Array([1, 2, 3]));
  });
});
