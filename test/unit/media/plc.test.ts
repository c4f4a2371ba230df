import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Concealer } from '../../../media/plc.js';

function voiced(rate: number, ms: number, f0 = 125): Int16Array {
  // A pitch pulse train through a resonance: periodic, speech-like.
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    out[i] = Math.round(6000 * Math.sin(2 * Math.PI * f0 * t) + 3000 * Math.sin(2 * Math.PI * 3 * f0 * t + 0.5) + 1500 * Math.sin(2 * Math.PI * 5 * f0 * t));
  }
  return out;
}
function snr(ref: Int16Array, x: Int16Array): number {
  let s = 0, e = 0;
  for (let i = 0; i < ref.length; i++) { s += ref[i]! ** 2; e += (ref[i]! - x[i]!) ** 2; }
  return 10 * Math.log10(s / Math.max(e, 1));
}

describe('Concealer (pitch waveform substitution)', () => {
  for (const rate of [8000, 16000]) {
    test(`${rate} Hz: a lost 20 ms frame of voiced audio is rebuilt far better than silence`, () => {
      const sig = voiced(rate, 200);
      const n = rate / 50;
      const plc = new Concealer(rate);
      for (let f = 0; f < 5; f++) plc.good(sig.subarray(f * n, (f + 1) * n));
      const fake = plc.conceal(n);
      const truth = sig.subarray(5 * n, 6 * n);
      const s = snr(truth, fake);
      assert.ok(s > 10, `concealment SNR ${s.toFixed(1)} dB (silence would be 0 dB)`);
      assert.equal(plc.concealing, true);
      const next = plc.good(sig.subarray(6 * n, 7 * n));
      assert.equal(plc.concealing, false);
      assert.ok(snr(sig.subarray(6 * n, 7 * n), next) > 10, 'cross-fade stays close to the real frame');
    });
  }

  test('long losses fade to silence after 60 ms; no history means silence', () => {
    const plc = new Concealer(8000);
    assert.ok(plc.conceal(160).every((x) => x === 0));
    const plc2 = new Concealer(8000);
    const sig = voiced(8000, 100);
    for (let f = 0; f < 5; f++) plc2.good(sig.subarray(f * 160, (f + 1) * 160));
    const frames = Array.from({ length: 5 }, () => plc2.conceal(160));
    const peak = (x: Int16Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(peak(frames[0]!) > 5000);
    assert.ok(peak(frames[2]!) < peak(frames[0]!));
    assert.equal(peak(frames[4]!), 0);
  });
});
