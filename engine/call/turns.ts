/**
 * End-of-turn detection: the caller's turn ends when the VAD has heard silence for the
 * endpointing delay AND the STT has produced final text. The delay is short after a complete
 * sentence or a short "yes", and long when the text looks unfinished (digits being read out,
 * a trailing "and", a comma), so callers reading numbers with pauses are not cut off.
 */
import type { Clock, Timer } from './clock.js';

export interface TurnOptions {
  /** Delay after speech when the text looks complete (speech_config.turn_taking.endpointing_min_delay). */
  readonly minDelayMs: number;
  /** Delay when the text looks unfinished (endpointing_max_delay). */
  readonly maxDelayMs: number;
  /** Silence the VAD already waited before it reported speech-end (subtracted from the delays). */
  readonly vadSilenceMs: number;
}

export const DEFAULT_TURN: TurnOptions = { minDelayMs: 400, maxDelayMs: 2000, vadSilenceMs: 300 };

const DIGIT_WORDS = new Set(['zero', 'oh', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
  'nul', 'een', 'twee', 'drie', 'vier', 'vijf', 'zes', 'zeven', 'acht', 'negen', 'tien', 'hundred', 'thousand', 'double', 'triple']);
const CONTINUATIONS = new Set(['and', 'or', 'but', 'because', 'so', 'the', 'a', 'an', 'to', 'of', 'my', 'is', 'uh', 'um', 'uhm', 'er',
  'en', 'of', 'maar', 'want', 'dus', 'de', 'het', 'mijn', 'is', 'eh', 'ehm']);

/** Whether the caller probably has more to say. */
export function looksUnfinished(text: string): boolean {
  const t = text.trim();
  if (!t) return true;
  if (/[,;:\-–]$/.test(t)) return true;
  // Digits (the STT may put a period after the last one): a number is probably being read out.
  if (/\d\.?$/.test(t)) return true;
  if (/[!?]$/.test(t)) return false;
  const last = (t.toLowerCase().match(/([\p{L}']+)\.?$/u) ?? ['', ''])[1] ?? '';
  if (/\.$/.test(t)) return DIGIT_WORDS.has(last);
  return DIGIT_WORDS.has(last) || CONTINUATIONS.has(last);
}

export type TurnEvent = { type: 'turn-end'; text: string; endpointingMs: number; waitedForSttMs: number };

export class TurnDetector {
  readonly #clock: Clock;
  readonly #opts: TurnOptions;
  readonly #onTurn: (ev: TurnEvent) => void;
  readonly #onNeedFinal: () => void;
  #speaking = false;
  #text: string[] = [];
  #interim = '';
  #speechEndAt: number | null = null;
  #timer: Timer | null = null;
  #finalizeTimer: Timer | null = null;

  /** `onNeedFinal` asks the STT to finalize when only interim text exists after the max delay. */
  constructor(clock: Clock, opts: TurnOptions, onTurn: (ev: TurnEvent) => void, onNeedFinal: () => void = () => {}) {
    this.#clock = clock;
    this.#opts = opts;
    this.#onTurn = onTurn;
    this.#onNeedFinal = onNeedFinal;
  }

  get pendingText(): string {
    return [...this.#text, this.#interim].filter(Boolean).join(' ');
  }

  get callerSpeaking(): boolean {
    return this.#speaking;
  }

  speechStart(): void {
    this.#speaking = true;
    this.#speechEndAt = null;
    this.#cancel();
  }

  /** `silentMs`: silence the media stream already carried when the VAD reported the end. */
  speechEnd(silentMs: number = this.#opts.vadSilenceMs): void {
    this.#speaking = false;
    this.#speechEndAt = this.#clock.now() - silentMs + this.#opts.vadSilenceMs;
    this.#schedule();
  }

  interim(text: string): void {
    this.#interim = text;
  }

  final(text: string, speechFinal: boolean): void {
    if (text.trim()) this.#text.push(text.trim());
    this.#interim = '';
    // Without a VAD verdict (VAD off, or it missed the end), the STT's endpoint stands in for it.
    if (speechFinal && this.#speechEndAt === null && !this.#speaking) this.#speechEndAt = this.#clock.now();
    if (!this.#speaking) this.#schedule();
  }

  /** STT utterance-end: the caller stopped talking even if the VAD still thinks otherwise. */
  utteranceEnd(): void {
    if (this.#speaking) {
      this.#speaking = false;
      this.#speechEndAt = this.#clock.now();
    }
    this.#schedule();
  }

  /** Drops what was heard (e.g. the agent took the turn for another reason). */
  reset(): void {
    this.#cancel();
    this.#text = [];
    this.#interim = '';
    this.#speechEndAt = null;
  }

  close(): void {
    this.#cancel();
  }

  #cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#finalizeTimer?.cancel();
    this.#finalizeTimer = null;
  }

  #schedule(): void {
    this.#cancel();
    if (this.#speaking || this.#speechEndAt === null) return;
    const endAt = this.#speechEndAt;
    if (!this.#text.length) {
      // Speech ended but no final text yet: if only interim text is there after the max delay, ask for a final.
      if (this.#interim) {
        const wait = Math.max(0, this.#opts.maxDelayMs - this.#opts.vadSilenceMs - (this.#clock.now() - endAt));
        this.#finalizeTimer = this.#clock.after(wait, () => this.#onNeedFinal());
      }
      return;
    }
    const delay = looksUnfinished(this.#text.join(' ')) ? this.#opts.maxDelayMs : this.#opts.minDelayMs;
    const wait = Math.max(0, delay - this.#opts.vadSilenceMs - (this.#clock.now() - endAt));
    this.#timer = this.#clock.after(wait, () => {
      this.#timer = null;
      if (this.#speaking || !this.#text.length) return;
      const text = this.#text.join(' ');
      const now = this.#clock.now();
      this.#text = [];
      this.#speechEndAt = null;
      this.#onTurn({ type: 'turn-end', text, endpointingMs: now - endAt + this.#opts.vadSilenceMs, waitedForSttMs: 0 });
    });
  }
}
