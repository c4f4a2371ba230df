import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnsetRefiner } from '../../../media/onset.js';

/** Deterministic noise at a given RMS. */
function noise(rms: number, n = 160, seed = 1): Int16Array {
  let x = seed;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = Math.round(((x / 0xffffffff) * 2 - 1) * rms * Math.sqrt(3));
  }
  return out;
}

function feed(r: OnsetRefiner, frames: { ms: number; rms: number }[]): number {
  let at = 0;
  for (const f of frames) {
    // Packets arrive 5000 ms into the session clock, one per 20 ms, 3 ms after the frame's time.
    for (let t = 0; t < f.ms; t += 20) { r.push(at, f.rms > 0 ? noise(f.rms, 160, at + 7) : null, 5000 + at + 3); at += 20; }
  }
  return at;
}

test('a fricative before the vowel: the onset moves back to the first sound above the floor', () => {
  const r = new OnsetRefiner();
  feed(r, [{ ms: 1000, rms: 10 }, { ms: 80, rms: 300 }, { ms: 400, rms: 3000 }]);
  // The VAD is sure only at the vowel (1080 ms) and reports that.
  assert.equal(r.refine(1080).atMs, 1000);
});

test('no sound before the VAD start: its time stands (never moved later)', () => {
  const r = new OnsetRefiner();
  feed(r, [{ ms: 1000, rms: 10 }, { ms: 400, rms: 3000 }]);
  assert.equal(r.refine(1000).atMs, 1000);
  assert.equal(r.refine(1016).atMs, 1016, 'a VAD window boundary inside a frame is kept as is');
});

test('loud line noise raises the floor: noise alone never pulls the onset back', () => {
  const r = new OnsetRefiner();
  feed(r, [{ ms: 1500, rms: 400 }, { ms: 400, rms: 3000 }]);
  assert.equal(r.refine(1500).atMs, 1500);
});

test('the walk back stops at maxBackMs and at silence (DTX)', () => {
  const r = new OnsetRefiner();
  feed(r, [{ ms: 1000, rms: 10 }, { ms: 300, rms: 300 }, { ms: 400, rms: 3000 }]);
  assert.equal(r.refine(1300).atMs, 1300 - 200);
  const d = new OnsetRefiner();
  feed(d, [{ ms: 1000, rms: 0 }, { ms: 60, rms: 300 }, { ms: 400, rms: 3000 }]);
  assert.equal(d.refine(1060).atMs, 1000);
});

test('too little history (start of the call) or a cleared refiner: the VAD time stands', () => {
  const r = new OnsetRefiner();
  feed(r, [{ ms: 100, rms: 300 }, { ms: 200, rms: 3000 }]);
  assert.equal(r.refine(100).atMs, 100);
  const c = new OnsetRefiner();
  feed(c, [{ ms: 1000, rms: 10 }, { ms: 80, rms: 300 }]);
  c.clear();
  assert.equal(c.refine(1080).atMs, 1080);
});

test('the onset carries when its packet reached the socket (so barge-in counts from the wire)', () => {
  const r = new OnsetRefiner();
  feed(r, [{ ms: 1000, rms: 10 }, { ms: 80, rms: 300 }, { ms: 400, rms: 3000 }]);
  assert.deepEqual(r.refine(1080), { atMs: 1000, arrival: 6003 });
  const q = new OnsetRefiner();
  feed(q, [{ ms: 1000, rms: 10 }, { ms: 400, rms: 3000 }]);
  assert.deepEqual(q.refine(1016), { atMs: 1016, arrival: 5000 + 1000 + 3 + 16 }, 'no walk back: the VAD time, its arrival inside the frame');
  assert.deepEqual(r.refine(99_000), { atMs: 99_000, arrival: null }, 'not heard yet');
});
