/**
 * Barge-in: caller speech while the agent talks. After `minDurationMs` of speech (and, when set,
 * `minWords` transcribed words) the agent's audio is cleared at once (`interrupt`). When words
 * follow (or there is no false-interruption timeout) the turn is given up (`confirm`: abort LLM
 * and TTS, cut the transcript); when nothing is said within the timeout it was a cough or a door,
 * and the agent resumes where it stopped (`resume`).
 */
import type { Clock, Timer } from './clock.js';

export interface BargeInOptions {
  readonly minDurationMs: number;
  readonly minWords: number;
  /** null: every interruption is final. */
  readonly falseInterruptionTimeoutMs: number | null;
  /** How much speech the VAD needed before it reported speech-start (subtracted from minDurationMs). */
  readonly vadSpeechMs: number;
}

export const DEFAULT_BARGE_IN: BargeInOptions = { minDurationMs: 300, minWords: 0, falseInterruptionTimeoutMs: 1500, vadSpeechMs: 100 };

export interface BargeInHandlers {
  /** Is the agent's audio playing (or about to)? */
  agentSpeaking(): boolean;
  interrupt(): void;
  confirm(): void;
  resume(): void;
  /** The candidate is dropped (too short, agent done, disabled): undo an armed media-side mute. */
  dropped?(): void;
}

type State = 'idle' | 'candidate' | 'waiting-words' | 'interrupted';

export class BargeIn {
  readonly #clock: Clock;
  readonly #o: BargeInOptions;
  readonly #h: BargeInHandlers;
  #state: State = 'idle';
  #words = 0;
  #timer: Timer | null = null;
  #enabled = true;

  constructor(clock: Clock, opts: BargeInOptions, handlers: BargeInHandlers) {
    this.#clock = clock;
    this.#o = opts;
    this.#h = handlers;
  }

  get state(): State {
    return this.#state;
  }

  /** Disabled for utterances that must not be interrupted (say with end_after). */
  setEnabled(on: boolean): void {
    this.#enabled = on;
    if (!on && this.#state !== 'interrupted') this.#toIdle();
  }

  /**
   * `heardMs`: how much of this speech the media stream already carried when the VAD reported it
   * (its minimum speech plus inference lag); the minimum duration counts from the real onset.
   */
  speechStart(heardMs: number = this.#o.vadSpeechMs): void {
    if (!this.#enabled || this.#state !== 'idle' || !this.#h.agentSpeaking()) return;
    this.#state = 'candidate';
    this.#words = 0;
    this.#timer = this.#clock.after(Math.max(0, this.#o.minDurationMs - heardMs), () => {
      this.#timer = null;
      if (this.#o.minWords > 0 && this.#words < this.#o.minWords) this.#state = 'waiting-words';
      else this.#interrupt();
    });
  }

  speechEnd(): void {
    // Too short to count (a cough, "uh-huh" without enough words).
    if (this.#state === 'candidate' || this.#state === 'waiting-words') this.#toIdle();
  }

  /** Words transcribed since the caller started this stretch of speech. */
  words(count: number): void {
    this.#words = Math.max(this.#words, count);
    if (this.#state === 'waiting-words' && this.#words >= this.#o.minWords) this.#interrupt();
    else if (this.#state === 'interrupted' && this.#words > 0) this.#confirm();
  }

  /** The agent stopped talking on its own: nothing to interrupt any more. */
  agentDone(): void {
    if (this.#state === 'candidate' || this.#state === 'waiting-words') this.#toIdle();
  }

  close(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#state = 'idle';
  }

  #interrupt(): void {
    if (!this.#h.agentSpeaking()) {
      this.#toIdle();
      return;
    }
    this.#state = 'interrupted';
    this.#h.interrupt();
    if (this.#words > 0 || this.#o.falseInterruptionTimeoutMs === null) {
      this.#confirm();
      return;
    }
    this.#timer = this.#clock.after(this.#o.falseInterruptionTimeoutMs, () => {
      this.#timer = null;
      if (this.#state !== 'interrupted') return;
      this.#state = 'idle';
      this.#h.resume();
    });
  }

  #confirm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#state = 'idle';
    this.#h.confirm();
  }

  #toIdle(): void {
    const wasCandidate = this.#state === 'candidate' || this.#state === 'waiting-words';
    this.#timer?.cancel();
    this.#timer = null;
    this.#state = 'idle';
    if (wasCandidate) this.#h.dropped?.();
  }
}
