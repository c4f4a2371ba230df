import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { createSileroVad, sileroModelPath, VadError } from '../../../media/vad/index.js';
import type { SileroVadEngine, VadEvent, VadRate } from '../../../media/vad/index.js';
import { frames20ms, lowNoise, makeSpeechFixture } from '../../fixtures/vad/speech.js';
import type { SpeechFixture } from '../../fixtures/vad/speech.js';

const TOLERANCE_MS = 250;

const fixtures = new Map<VadRate, SpeechFixture>();
function fixture(rate: VadRate): SpeechFixture {
  let f = fixtures.get(rate);
  if (!f) {
    f = makeSpeechFixture(rate);
    fixtures.set(rate, f);
  }
  return f;
}

/** Pushes `pcm` in 20 ms frames into a new stream and returns its events once all are inferred. */
async function eventsFor(engine: SileroVadEngine, rate: VadRate, pcm: Int16Array, withProb = false): Promise<VadEvent[]> {
  const s = engine.createStream({ sampleRate: rate, emitProbability: withProb });
  const events: VadEvent[] = [];
  s.onEvent = (ev) => events.push(ev);
  for (const f of frames20ms(pcm, rate)) s.push(f);
  await engine.whenIdle();
  s.close();
  return events;
}

const speechOnly = (evs: VadEvent[]): VadEvent[] => evs.filter((e) => e.type !== 'probability');

function assertMatchesSegments(events: VadEvent[], f: SpeechFixture): void {
  const ev = speechOnly(events);
  assert.deepEqual(ev.map((e) => e.type), ['speech-start', 'speech-end', 'speech-start', 'speech-end'],
    `events at ${f.rate} Hz: ${JSON.stringify(ev)} for segments ${JSON.stringify(f.segments)}`);
  f.segments.forEach((seg, i) => {
    const start = ev[2 * i] as VadEvent;
    const end = ev[2 * i + 1] as VadEvent;
    assert.ok(Math.abs(start.atMs - seg.startMs) <= TOLERANCE_MS, `segment ${i} start ${start.atMs} vs ${seg.startMs}`);
    assert.ok(Math.abs(end.atMs - seg.endMs) <= TOLERANCE_MS, `segment ${i} end ${end.atMs} vs ${seg.endMs}`);
    assert.equal(end.type === 'speech-end' ? end.speechMs : -1, end.atMs - start.atMs);
  });
}

for (const mode of ['worker', 'inline'] as const) {
  describe(`Silero VAD (${mode})`, () => {
    let engine: SileroVadEngine;
    before(async () => {
      engine = await createSileroVad({ mode });
    });
    after(async () => {
      await engine.close();
    });

    for (const rate of [8000, 16000] as const) {
      test(`espeak speech at ${rate} Hz: speech-start/speech-end within ${TOLERANCE_MS} ms of the sentences`, async () => {
        const f = fixture(rate);
        assertMatchesSegments(await eventsFor(engine, rate, f.pcm), f);
      });

      test(`digital silence and low noise at ${rate} Hz produce no events`, async () => {
        assert.deepEqual(await eventsFor(engine, rate, new Int16Array(rate * 5)), []);
        assert.deepEqual(await eventsFor(engine, rate, lowNoise(rate, 5000, -45)), []);
        assert.deepEqual(await eventsFor(engine, rate, lowNoise(rate, 5000, -60, 12345)), []);
      });
    }

    test('frame size does not matter: odd-sized chunks give the same events as 20 ms frames', async () => {
      const f = fixture(16000);
      const ref = await eventsFor(engine, 16000, f.pcm, true);
      const s = engine.createStream({ sampleRate: 16000, emitProbability: true });
      const got: VadEvent[] = [];
      s.onEvent = (ev) => got.push(ev);
      const sizes = [1, 7, 333, 160, 1024, 31];
      for (let i = 0, k = 0; i < f.pcm.length; k++) {
        const n = sizes[k % sizes.length] as number;
        s.push(f.pcm.subarray(i, i + n));
        i += n;
      }
      await engine.whenIdle();
      assert.deepEqual(got, ref);
      s.close();
    });
  });
}

/**
 * The Silero reference wrapper (silero-vad's OnnxWrapper.__call__), one stream, batch 1:
 *   x = cat([context, x]); out, state = run(x, state, sr); context = x[..., -context_size:]
 */
async function referenceProbs(rate: VadRate, pcm: Int16Array): Promise<number[]> {
  const session = await ort.InferenceSession.create(sileroModelPath());
  const win = rate === 16000 ? 512 : 256;
  const ctx = rate === 16000 ? 64 : 32;
  let context = new Float32Array(ctx);
  let state: ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(rate)]), []);
  const probs: number[] = [];
  for (let i = 0; i + win <= pcm.length; i += win) {
    const x = new Float32Array(ctx + win);
    x.set(context, 0);
    for (let k = 0; k < win; k++) x[ctx + k] = (pcm[i + k] as number) / 32768;
    const out = await session.run({ input: new ort.Tensor('float32', x, [1, ctx + win]), state, sr });
    state = out['stateN'] as ort.Tensor;
    probs.push((out['output']?.data as Float32Array)[0] as number);
    context = x.slice(ctx + win - ctx);
  }
  await session.release();
  return probs;
}

describe('Silero VAD batching, reset and close', () => {
  let engine: SileroVadEngine;
  before(async () => {
    // No level gate: every window goes through the model, as in the reference wrapper.
    engine = await createSileroVad({ gateDbfs: null });
  });
  after(async () => {
    await engine.close();
  });

  for (const rate of [8000, 16000] as const) {
    test(`per-window probabilities at ${rate} Hz match the Silero reference wrapper (context + state)`, async () => {
      const f = fixture(rate);
      const ref = await referenceProbs(rate, f.pcm);
      const got = (await eventsFor(engine, rate, f.pcm, true)).flatMap((e) => (e.type === 'probability' ? [e.p] : []));
      assert.equal(got.length, ref.length);
      let maxDiff = 0;
      got.forEach((p, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(p - (ref[i] as number)));
      });
      assert.ok(maxDiff < 1e-4, `max |p - p_ref| = ${maxDiff}`);
      assert.ok(ref.some((p) => p > 0.9) && ref.some((p) => p < 0.05), 'the fixture has both speech and silence');
    });
  }

  test('40 concurrent streams (8 and 16 kHz, speech and silence) give the same events as one stream alone', async () => {
    const f8 = fixture(8000);
    const f16 = fixture(16000);
    const alone8 = await eventsFor(engine, 8000, f8.pcm, true);
    const alone16 = await eventsFor(engine, 16000, f16.pcm, true);
    const before = engine.stats();

    interface Lane { rate: VadRate; frames: Int16Array[]; events: VadEvent[]; speech: boolean }
    const lanes: Lane[] = [];
    for (let i = 0; i < 40; i++) {
      const rate: VadRate = i % 2 === 0 ? 8000 : 16000;
      const speech = i % 4 !== 3;
      const pcm = speech ? (rate === 8000 ? f8.pcm : f16.pcm) : lowNoise(rate, 6000, -50, i + 1);
      lanes.push({ rate, frames: frames20ms(pcm, rate), events: [], speech });
    }
    const streams = lanes.map((l) => {
      const s = engine.createStream({ sampleRate: l.rate, emitProbability: true });
      s.onEvent = (ev) => l.events.push(ev);
      return s;
    });
    // Interleave frame by frame, one "pacer tick" per 20 ms, yielding between ticks as RTP would.
    const ticks = Math.max(...lanes.map((l) => l.frames.length));
    for (let t = 0; t < ticks; t++) {
      lanes.forEach((l, i) => {
        const fr = l.frames[t];
        if (fr) streams[i]?.push(fr);
      });
      if (t % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    await engine.whenIdle();
    const st = engine.stats();
    assert.ok(st.maxBatchSeen > 1, `windows were batched (max batch ${st.maxBatchSeen})`);
    assert.ok(st.batches - before.batches < st.windows - before.windows, 'fewer inference calls than windows');

    for (const l of lanes) {
      if (!l.speech) {
        assert.deepEqual(speechOnly(l.events), [], 'noise lane stays silent next to speech lanes');
        continue;
      }
      const alone = l.rate === 8000 ? alone8 : alone16;
      assert.deepEqual(speechOnly(l.events), speechOnly(alone));
      const pa = alone.filter((e) => e.type === 'probability');
      const pb = l.events.filter((e) => e.type === 'probability');
      assert.equal(pb.length, pa.length);
      pa.forEach((a, i) => {
        const b = pb[i] as VadEvent;
        assert.equal(b.atMs, a.atMs);
        // A batched GEMM may round differently from a single-row one; the values must agree closely.
        if (a.type === 'probability' && b.type === 'probability') assert.ok(Math.abs(a.p - b.p) < 1e-3, `p ${a.p} vs ${b.p} at ${a.atMs}`);
      });
    }
    for (const s of streams) s.close();
  });

  test('reset() mid-speech drops state and queued windows; the clock keeps running', async () => {
    const f = fixture(16000);
    const fresh = speechOnly(await eventsFor(engine, 16000, f.pcm));
    const s = engine.createStream({ sampleRate: 16000 });
    const events: VadEvent[] = [];
    s.onEvent = (ev) => events.push(ev);
    // Two seconds in: the first sentence has started.
    const cut = 2 * 16000 + 77;
    s.push(f.pcm.subarray(0, cut));
    await engine.whenIdle();
    assert.deepEqual(events.map((e) => e.type), ['speech-start']);
    // Queue more speech and reset before it is inferred: none of it may produce events.
    s.push(f.pcm.subarray(cut, cut + 16000));
    s.reset();
    events.length = 0;
    for (const fr of frames20ms(f.pcm, 16000)) s.push(fr);
    await engine.whenIdle();
    const offsetMs = ((cut + 16000) * 1000) / 16000;
    assert.deepEqual(events, fresh.map((e) => ({ ...e, atMs: e.atMs + offsetMs })));
    s.close();
  });

  test('close() stops events and releases the stream; engine close is idempotent', async () => {
    const f = fixture(8000);
    const eng = await createSileroVad({ mode: 'worker' });
    const s = eng.createStream({ sampleRate: 8000 });
    const events: VadEvent[] = [];
    s.onEvent = (ev) => events.push(ev);
    s.push(f.pcm.subarray(0, 8000 * 2));
    assert.equal(eng.stats().streams, 1);
    s.close();
    s.close();
    s.push(f.pcm);
    await eng.whenIdle();
    assert.deepEqual(events, []);
    assert.equal(eng.stats().streams, 0);
    assert.equal(s.onEvent, null);

    const s2 = eng.createStream({ sampleRate: 8000 });
    s2.push(f.pcm);
    await eng.close();
    await eng.close();
    assert.equal(eng.stats().streams, 0);
    assert.throws(() => eng.createStream({ sampleRate: 8000 }), (e: unknown) => e instanceof VadError && e.code === 'ENGINE_CLOSED');
    s2.push(f.pcm); // a push after the engine closed is ignored, never throws
    await eng.whenIdle();
  });

  test('overload: a stream queue beyond maxQueuedWindows drops the oldest windows and counts them', async () => {
    const f = fixture(16000);
    const eng = await createSileroVad({ mode: 'inline', maxQueuedWindows: 8, gateDbfs: null });
    try {
      const s = eng.createStream({ sampleRate: 16000 });
      const events: VadEvent[] = [];
      s.onEvent = (ev) => events.push(ev);
      const total = Math.floor(f.pcm.length / 512);
      s.push(f.pcm); // ~10 s in one call
      await eng.whenIdle();
      assert.deepEqual({ windows: eng.stats().windows, dropped: eng.stats().droppedWindows }, { windows: 8, dropped: total - 8 });
      // Fed at a sustainable pace afterwards, nothing more is dropped and speech is still found.
      const frames = frames20ms(f.pcm, 16000);
      for (let i = 0; i < frames.length; i++) {
        s.push(frames[i] as Int16Array);
        if (i % 10 === 9) await eng.whenIdle();
      }
      await eng.whenIdle();
      assert.equal(eng.stats().droppedWindows, total - 8);
      assert.ok(events.some((e) => e.type === 'speech-start'), JSON.stringify(events));
    } finally {
      await eng.close();
    }
  });

  test('bad options are rejected with VadError BAD_OPTIONS', () => {
    assert.throws(() => engine.createStream({ sampleRate: 44100 as VadRate }), (e: unknown) => e instanceof VadError && e.code === 'BAD_OPTIONS');
    assert.throws(() => engine.createStream({ sampleRate: 8000, positiveThreshold: 0.3, negativeThreshold: 0.6 }),
      (e: unknown) => e instanceof VadError && e.code === 'BAD_OPTIONS');
  });

  test('a missing model file fails with VadError MODEL_LOAD_FAILED', async () => {
    await assert.rejects(createSileroVad({ mode: 'inline', modelPath: '/nonexistent/silero.onnx' }),
      (e: unknown) => e instanceof VadError && e.code === 'MODEL_LOAD_FAILED');
    await assert.rejects(createSileroVad({ mode: 'worker', modelPath: '/nonexistent/silero.onnx' }),
      (e: unknown) => e instanceof VadError && e.code === 'MODEL_LOAD_FAILED');
  });
});

describe('Silero VAD level gate', () => {
  let gated: SileroVadEngine;
  let full: SileroVadEngine;
  before(async () => {
    gated = await createSileroVad(); // default gate, -60 dBFS
    full = await createSileroVad({ gateDbfs: null });
  });
  after(async () => {
    await gated.close();
    await full.close();
  });

  const scaled = (pcm: Int16Array, gain: number): Int16Array => pcm.map((x) => Math.round(x * gain));

  for (const rate of [8000, 16000] as const) {
    test(`${rate} Hz: quiet windows are not inferred, and speech gives the same events as with every window inferred`, async () => {
      const f = fixture(rate);
      const g0 = gated.stats();
      const withGate = await eventsFor(gated, rate, f.pcm, true);
      const g1 = gated.stats();
      const all = await eventsFor(full, rate, f.pcm, true);
      const probs = withGate.filter((e) => e.type === 'probability');
      assert.equal(probs.length, all.filter((e) => e.type === 'probability').length, 'one probability per window, gated or not');
      assert.ok(probs.every((e, i) => i === 0 || e.atMs > (probs[i - 1] as VadEvent).atMs), 'windows stay in order');
      const skipped = g1.gatedWindows - g0.gatedWindows;
      // The fixture holds 3.5 s of digital silence (lead, gap, tail): ~109 windows of 32 ms.
      assert.ok(skipped >= 100, `gated ${skipped} windows`);
      assert.equal(g1.windows - g0.windows + skipped, probs.length, 'each window is either inferred or gated');
      const a = speechOnly(withGate), b = speechOnly(all);
      assert.deepEqual(a.map((e) => e.type), b.map((e) => e.type));
      a.forEach((e, i) => assert.ok(Math.abs(e.atMs - (b[i] as VadEvent).atMs) <= 40, `${e.type} at ${e.atMs} vs ${(b[i] as VadEvent).atMs} ungated`));
      assertMatchesSegments(withGate, f);
    });
  }

  test('soft speech (-40 and -50 dBFS) is still found: its onsets are not delayed by the gate', async () => {
    const f = fixture(8000);
    for (const gain of [0.1, 0.03]) { // speech at about -40 and -50 dBFS (the fixture's is -20)
      const withGate = speechOnly(await eventsFor(gated, 8000, scaled(f.pcm, gain)));
      const all = speechOnly(await eventsFor(full, 8000, scaled(f.pcm, gain)));
      assert.deepEqual(withGate.map((e) => e.type), ['speech-start', 'speech-end', 'speech-start', 'speech-end'], `gain ${gain}: ${JSON.stringify(withGate)}`);
      for (const i of [0, 2]) {
        // A stop consonant's closure inside a soft word is below the gate: it must not restart the onset.
        assert.ok((withGate[i] as VadEvent).atMs <= (all[i] as VadEvent).atMs + 32, `gain ${gain}: onset ${(withGate[i] as VadEvent).atMs} vs ${(all[i] as VadEvent).atMs} ungated`);
      }
    }
  });

  test('line noise above the gate is inferred (no events); digital silence and -70 dBFS noise are gated', async () => {
    const g0 = gated.stats();
    assert.deepEqual(speechOnly(await eventsFor(gated, 8000, lowNoise(8000, 2000, -45, 7))), []);
    const g1 = gated.stats();
    assert.equal(g1.gatedWindows - g0.gatedWindows, 0, '-45 dBFS noise goes through the model');
    assert.deepEqual(await eventsFor(gated, 8000, lowNoise(8000, 2048, -70, 9)), []);
    assert.deepEqual(await eventsFor(gated, 8000, new Int16Array(8 * 2048)), []);
    const g2 = gated.stats();
    assert.equal(g2.gatedWindows - g1.gatedWindows, 128, 'two 2.048 s stretches of 64 windows each');
    assert.equal(g2.windows, g1.windows, 'nothing inferred');
  });

  test('gateDbfs must be a level <= 0 dBFS or null', async () => {
    for (const bad of [3, Number.NaN]) {
      await assert.rejects(createSileroVad({ mode: 'inline', gateDbfs: bad }), (e: unknown) => e instanceof VadError && e.code === 'BAD_OPTIONS');
    }
  });
});
