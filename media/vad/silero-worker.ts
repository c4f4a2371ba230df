/**
 * Worker-thread entry: owns one onnxruntime session and answers batch requests in order.
 * Stateless between requests: the recurrent state travels with each batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VadError } from './errors.js';
import type { VadErrorCode } from './errors.js';
import { openSileroSession, runSileroBatch } from './model.js';
import type { SessionTuning } from './model.js';
import type { VadRate } from './types.js';

export interface WorkerSetup {
  readonly modelPath: string;
  readonly tuning: SessionTuning;
}

export type WorkerRequest = {
  readonly type: 'run';
  readonly id: number;
  readonly rate: VadRate;
  readonly batch: number;
  readonly input: Float32Array;
  readonly state: Float32Array;
};

export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly code: VadErrorCode; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly probs: Float32Array; readonly state: Float32Array }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const setup = workerData as WorkerSetup;
  const send = (m: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let session;
  try {
    session = await openSileroSession(setup.modelPath, setup.tuning);
  } catch (err) {
    const code: VadErrorCode = err instanceof VadError ? err.code : 'MODEL_LOAD_FAILED';
    send({ type: 'init-error', code, message: err instanceof Error ? err.message : String(err) });
    return;
  }
  const s = session;
  port.on('message', (req: WorkerRequest) => {
    if (req.type !== 'run') return;
    runSileroBatch(s, req).then(
      (out) => {
        // Copy out of onnxruntime's buffers so they can be transferred.
        const probs = new Float32Array(out.probs);
        const state = new Float32Array(out.state);
        send({ type: 'result', id: req.id, probs, state }, [probs.buffer, state.buffer]);
      },
      (err: unknown) => send({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
  send({ type: 'ready' });
}

void main();
