import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeechDetector, detectorConfig, DEFAULT_DETECTOR } from '../../../media/vad/detector.js';
import { VadError } from '../../../media/vad/errors.js';
import type { VadEvent } from '../../../media/vad/types.js';

/** Feeds 32 ms windows with the given probabilities; returns the events. */
function run(d: SpeechDetector, probs: number[], startWindow = 0): VadEvent[] {
  const out: VadEvent[] = [];
  probs.forEach((p, i) => d.step(p, (startWindow + i) * 32, (startWindow + i + 1) * 32, out));
  return out;
}

const rep = (p: number, n: number): number[] => new Array<number>(n).fill(p);

describe('SpeechDetector', () => {
  test('defaults match the contract', () => {
    const c = detectorConfig({ sampleRate: 8000 });
    assert.deepEqual(c, DEFAULT_DETECTOR);
    assert.deepEqual(c, { positiveThreshold: 0.5, negativeThreshold: 0.35, minSpeechMs: 100, minSilenceMs: 300 });
  });

  test('speech-start fires once minSpeechMs is reached, dated at the start of the run', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 16000 }));
    // 3 windows = 96 ms < 100 ms: nothing; the 4th (128 ms) starts speech at window 5's start.
    assert.deepEqual(run(d, [...rep(0.01, 5), ...rep(0.9, 3)]), []);
    assert.deepEqual(run(d, [0.9], 8), [{ type: 'speech-start', atMs: 160 }]);
    assert.equal(d.speaking, true);
  });

  test('a burst shorter than minSpeechMs is ignored', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 16000 }));
    assert.deepEqual(run(d, [...rep(0.9, 3), ...rep(0.1, 10), ...rep(0.9, 2), ...rep(0.1, 10)]), []);
  });

  test('speech-end after minSilenceMs below the negative threshold, with the speech length', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000 }));
    const ev = run(d, [...rep(0.9, 20), ...rep(0.1, 9), ...rep(0.1, 1)]);
    // 9 windows = 288 ms < 300; the 10th (320 ms) ends speech at the silence's start (640 ms).
    assert.deepEqual(ev, [
      { type: 'speech-start', atMs: 0 },
      { type: 'speech-end', atMs: 640, speechMs: 640 },
    ]);
    assert.equal(d.speaking, false);
  });

  test('hysteresis: values between the thresholds neither end nor break speech', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000 }));
    // 0.4 sits between 0.35 and 0.5: speech continues through 40 such windows.
    assert.deepEqual(run(d, [...rep(0.9, 5), ...rep(0.4, 40)]), [{ type: 'speech-start', atMs: 0 }]);
    // A short dip below, then back above positive: the silence run restarts.
    assert.deepEqual(run(d, [...rep(0.1, 5), 0.9, ...rep(0.1, 5)], 45), []);
    const end = run(d, rep(0.1, 10), 56);
    assert.deepEqual(end, [{ type: 'speech-end', atMs: 51 * 32, speechMs: 51 * 32 }]);
  });

  test('a run that starts above positive and stays above negative counts as speech', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000 }));
    assert.deepEqual(run(d, [0.1, 0.6, 0.4, 0.4, 0.4]), [{ type: 'speech-start', atMs: 32 }]);
  });

  test('pending: a speech run begun but not yet confirmed; neutral keeps it without starting one', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000 }));
    assert.equal(d.neutral, 0.425);
    assert.equal(d.pending, false);
    run(d, [0.9]);
    assert.equal(d.pending, true);
    assert.deepEqual(run(d, [d.neutral, d.neutral], 1), [], 'not confirmed before minSpeechMs');
    assert.deepEqual(run(d, [d.neutral], 3), [{ type: 'speech-start', atMs: 0 }]);
    assert.equal(d.pending, false);
    assert.equal(d.speaking, true);
  });

  test('values between the thresholds alone never start speech', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000 }));
    assert.deepEqual(run(d, rep(0.45, 50)), []);
  });

  test('custom thresholds and durations', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000, positiveThreshold: 0.8, minSpeechMs: 0, minSilenceMs: 0 }));
    // negative defaults to positive - 0.15 = 0.65
    assert.deepEqual(run(d, [0.7, 0.85, 0.7, 0.6]), [
      { type: 'speech-start', atMs: 32 },
      { type: 'speech-end', atMs: 96, speechMs: 64 },
    ]);
  });

  test('reset() forgets speech in progress', () => {
    const d = new SpeechDetector(detectorConfig({ sampleRate: 8000 }));
    assert.equal(run(d, rep(0.9, 10)).length, 1);
    d.reset();
    assert.equal(d.speaking, false);
    assert.deepEqual(run(d, rep(0.1, 20), 10), []);
    assert.deepEqual(run(d, rep(0.9, 4), 30), [{ type: 'speech-start', atMs: 960 }]);
  });

  test('impossible options throw VadError BAD_OPTIONS', () => {
    const bad = [
      { sampleRate: 8000, positiveThreshold: 0 },
      { sampleRate: 8000, positiveThreshold: 1.5 },
      { sampleRate: 8000, positiveThreshold: 0.5, negativeThreshold: 0.6 },
      { sampleRate: 8000, negativeThreshold: -0.1 },
      { sampleRate: 8000, minSpeechMs: -1 },
      { sampleRate: 8000, minSilenceMs: Number.NaN },
    ] as const;
    for (const o of bad) {
      assert.throws(() => detectorConfig(o), (e: unknown) => e instanceof VadError && e.code === 'BAD_OPTIONS', JSON.stringify(o));
    }
  });
});
