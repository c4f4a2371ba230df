/**
 * Turns per-window speech probabilities into speech-start / speech-end with hysteresis, as the
 * Silero reference VADIterator does: speech begins on p >= positive, ends on p < negative, and
 * values in between keep whatever is in progress. Pure logic, no model: unit-testable alone.
 */
import { VadError } from './errors.js';
import type { VadEvent, VadOptions } from './types.js';

export interface DetectorConfig {
  readonly positiveThreshold: number;
  readonly negativeThreshold: number;
  readonly minSpeechMs: number;
  readonly minSilenceMs: number;
}

export const DEFAULT_DETECTOR: DetectorConfig = {
  positiveThreshold: 0.5,
  negativeThreshold: 0.35,
  minSpeechMs: 100,
  minSilenceMs: 300,
};

/** Fills defaults and rejects impossible settings with VadError('BAD_OPTIONS'). */
export function detectorConfig(opts: VadOptions): DetectorConfig {
  const positive = opts.positiveThreshold ?? DEFAULT_DETECTOR.positiveThreshold;
  const c: DetectorConfig = {
    positiveThreshold: positive,
    // Like the Silero reference: negative = positive - 0.15 unless given.
    negativeThreshold: opts.negativeThreshold ?? Math.max(0, positive - 0.15),
    minSpeechMs: opts.minSpeechMs ?? DEFAULT_DETECTOR.minSpeechMs,
    minSilenceMs: opts.minSilenceMs ?? DEFAULT_DETECTOR.minSilenceMs,
  };
  const { positiveThreshold: pos, negativeThreshold: neg } = c;
  if (!(pos > 0 && pos <= 1)) throw new VadError('BAD_OPTIONS', `positiveThreshold must be in (0, 1], got ${pos}`);
  if (!(neg >= 0 && neg <= pos)) throw new VadError('BAD_OPTIONS', `negativeThreshold must be in [0, positiveThreshold], got ${neg}`);
  if (!(c.minSpeechMs >= 0 && Number.isFinite(c.minSpeechMs))) throw new VadError('BAD_OPTIONS', `minSpeechMs must be >= 0, got ${c.minSpeechMs}`);
  if (!(c.minSilenceMs >= 0 && Number.isFinite(c.minSilenceMs))) throw new VadError('BAD_OPTIONS', `minSilenceMs must be >= 0, got ${c.minSilenceMs}`);
  return c;
}

export class SpeechDetector {
  readonly #c: DetectorConfig;
  #speaking = false;
  /** Start of a speech run that has not yet lasted minSpeechMs. */
  #candidateStart: number | null = null;
  /** Start of the speech segment in progress. */
  #speechStart = 0;
  /** Start of a silence run inside speech that has not yet lasted minSilenceMs. */
  #silenceStart: number | null = null;

  constructor(c: DetectorConfig) {
    this.#c = c;
  }

  get speaking(): boolean {
    return this.#speaking;
  }

  /** True while a speech run has begun but not yet lasted minSpeechMs. */
  get pending(): boolean {
    return !this.#speaking && this.#candidateStart !== null;
  }

  /** A probability between the thresholds: it keeps whatever is in progress. */
  get neutral(): number {
    return (this.#c.positiveThreshold + this.#c.negativeThreshold) / 2;
  }

  /**
   * One window's probability; `startMs`/`endMs` bound the window's new audio. Appends at most one
   * event to `out`. `speech-start.atMs` is where the speech run began (so it fires minSpeechMs
   * later); `speech-end.atMs` is where the closing silence began.
   */
  step(p: number, startMs: number, endMs: number, out: VadEvent[]): void {
    const c = this.#c;
    if (!this.#speaking) {
      if (p >= c.positiveThreshold) {
        if (this.#candidateStart === null) this.#candidateStart = startMs;
        if (endMs - this.#candidateStart >= c.minSpeechMs) {
          this.#speaking = true;
          this.#speechStart = this.#candidateStart;
          this.#candidateStart = null;
          this.#silenceStart = null;
          out.push({ type: 'speech-start', atMs: this.#speechStart });
        }
      } else if (p < c.negativeThreshold) {
        this.#candidateStart = null;
      } else if (this.#candidateStart !== null && endMs - this.#candidateStart >= c.minSpeechMs) {
        // A run that started above the positive threshold and stayed above the negative one.
        this.#speaking = true;
        this.#speechStart = this.#candidateStart;
        this.#candidateStart = null;
        this.#silenceStart = null;
        out.push({ type: 'speech-start', atMs: this.#speechStart });
      }
      return;
    }
    if (p < c.negativeThreshold) {
      if (this.#silenceStart === null) this.#silenceStart = startMs;
      if (endMs - this.#silenceStart >= c.minSilenceMs) {
        const at = this.#silenceStart;
        this.#speaking = false;
        this.#silenceStart = null;
        out.push({ type: 'speech-end', atMs: at, speechMs: at - this.#speechStart });
      }
    } else if (p >= c.positiveThreshold) {
      this.#silenceStart = null;
    }
  }

  reset(): void {
    this.#speaking = false;
    this.#candidateStart = null;
    this.#silenceStart = null;
    this.#speechStart = 0;
  }
}
