/**
 * Where inference runs. `InlineRunner` calls onnxruntime on the calling thread (onnxruntime-node's
 * `run()` is synchronous native work deferred by one setImmediate, so it blocks that thread for
 * the whole batch). `WorkerRunner` keeps the session in a worker thread and moves batches there
 * and back by transferring their buffers, so the thread that carries RTP only pays the copies.
 */
import type { Worker } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import { awaitWorkerStart, startModuleWorker } from '../threads.js';
import { VadError } from './errors.js';
import { openSileroSession, runSileroBatch } from './model.js';
import type { BatchInput, BatchOutput, SessionTuning } from './model.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './silero-worker.js';

export interface InferenceRunner {
  readonly kind: 'inline' | 'worker';
  run(batch: BatchInput): Promise<BatchOutput>;
  close(): Promise<void>;
}

export class InlineRunner implements InferenceRunner {
  readonly kind = 'inline';
  #session: ort.InferenceSession | null;

  private constructor(session: ort.InferenceSession) {
    this.#session = session;
  }

  static async open(modelPath: string, tuning: SessionTuning): Promise<InlineRunner> {
    return new InlineRunner(await openSileroSession(modelPath, tuning));
  }

  run(batch: BatchInput): Promise<BatchOutput> {
    const s = this.#session;
    if (!s) return Promise.reject(new VadError('ENGINE_CLOSED', 'VAD runner is closed'));
    return runSileroBatch(s, batch);
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = null;
    if (s) await s.release();
  }
}

interface Pending {
  resolve(out: BatchOutput): void;
  reject(err: Error): void;
}

function startWorker(setup: WorkerSetup): Worker {
  return startModuleWorker(import.meta.url, './silero-worker', setup);
}

export class WorkerRunner implements InferenceRunner {
  readonly kind = 'worker';
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #failure: VadError | null = null;
  readonly #onFailure: (err: VadError) => void;

  private constructor(worker: Worker, onFailure: (err: VadError) => void) {
    this.#worker = worker;
    this.#onFailure = onFailure;
    worker.on('message', (m: WorkerReply) => this.#onMessage(m));
    worker.on('error', (err) => this.#fail(new VadError('WORKER_FAILED', 'VAD worker crashed', { cause: err })));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new VadError('WORKER_FAILED', `VAD worker exited with code ${code}`));
    });
    worker.unref();
  }

  /** Starts the worker and resolves once its onnxruntime session is open. */
  static open(modelPath: string, tuning: SessionTuning, onFailure: (err: VadError) => void): Promise<WorkerRunner> {
    const setup: WorkerSetup = { modelPath, tuning };
    const worker = startWorker(setup);
    return awaitWorkerStart<WorkerReply, WorkerRunner>(worker,
      (m) => (m.type === 'ready' ? new WorkerRunner(worker, onFailure) : m.type === 'init-error' ? new VadError(m.code, m.message) : undefined),
      (reason, cause) => new VadError('WORKER_FAILED', `VAD worker ${reason}`, cause ? { cause } : undefined));
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  run(batch: BatchInput): Promise<BatchOutput> {
    if (this.#closed) return Promise.reject(new VadError('ENGINE_CLOSED', 'VAD runner is closed'));
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const req: WorkerRequest = { type: 'run', id, rate: batch.rate, batch: batch.batch, input: batch.input, state: batch.state };
    return new Promise<BatchOutput>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(req, [batch.input.buffer as ArrayBuffer, batch.state.buffer as ArrayBuffer]);
    });
  }

  #onMessage(m: WorkerReply): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (m.type === 'result') p.resolve({ probs: m.probs, state: m.state });
    else p.reject(new VadError('INFERENCE_FAILED', m.message));
  }

  #fail(err: VadError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#rejectAll(err);
    this.#onFailure(err);
  }

  #rejectAll(err: VadError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(err);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectAll(new VadError('ENGINE_CLOSED', 'VAD runner is closed'));
    await this.#worker.terminate();
  }
}
