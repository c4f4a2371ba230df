/**
 * Autonomous silence handling (spec §8.3): after the caller has been silent for the first-check
 * delay, the agent checks in; then every interval; the last check says goodbye and ends the call.
 * Timers pause while the agent speaks or a tool call is pending; any caller speech resets.
 */
import type { Clock, Timer } from './clock.js';

export interface SilenceOptions {
  readonly firstCheckMs: number;
  readonly intervalMs: number;
  readonly maxAttempts: number;
  /** Fixed prompts per attempt (speech_config.silence.messages); empty = let the LLM phrase them. */
  readonly messages: readonly string[];
  readonly finalMessage: string | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Precedence: speech_config.silence > silence_timeout_seconds > 7 s / 12 s / 3. Null when off. */
export function silenceOptions(assistant: Obj): SilenceOptions | null {
  const sc = isObj(assistant.speech_config) && isObj(assistant.speech_config.silence) ? assistant.speech_config.silence : null;
  if (assistant.autonomous_silence_handling !== true && !sc) return null;
  const first = typeof sc?.first_check_seconds === 'number' ? sc.first_check_seconds
    : typeof assistant.silence_timeout_seconds === 'number' ? assistant.silence_timeout_seconds : 7;
  return {
    firstCheckMs: first * 1000,
    intervalMs: (typeof sc?.interval_seconds === 'number' ? sc.interval_seconds : 12) * 1000,
    maxAttempts: typeof sc?.max_attempts === 'number' ? sc.max_attempts : 3,
    messages: Array.isArray(sc?.messages) ? (sc.messages as unknown[]).filter((m): m is string => typeof m === 'string') : [],
    finalMessage: typeof sc?.final_message === 'string' ? sc.final_message : null,
  };
}

export type SilenceAction =
  | { type: 'check'; attempt: number; message: string | null }
  | { type: 'give-up'; attempt: number; message: string | null };

export class SilenceMonitor {
  readonly #clock: Clock;
  readonly #o: SilenceOptions;
  readonly #act: (a: SilenceAction) => void;
  #attempt = 0;
  #timer: Timer | null = null;
  #paused = 0;
  #closed = false;

  constructor(clock: Clock, opts: SilenceOptions, act: (a: SilenceAction) => void) {
    this.#clock = clock;
    this.#o = opts;
    this.#act = act;
  }

  /** Caller spoke: start over. */
  callerActivity(): void {
    this.#attempt = 0;
    this.#arm();
  }

  /** Agent speaking / tool pending: hold the timer (nestable). */
  pause(): void {
    this.#paused++;
    this.#timer?.cancel();
    this.#timer = null;
  }

  resume(): void {
    if (this.#paused > 0) this.#paused--;
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#closed || this.#paused > 0 || this.#attempt >= this.#o.maxAttempts) return;
    const wait = this.#attempt === 0 ? this.#o.firstCheckMs : this.#o.intervalMs;
    this.#timer = this.#clock.after(wait, () => {
      this.#timer = null;
      this.#attempt++;
      const message = this.#o.messages[this.#attempt - 1] ?? null;
      if (this.#attempt >= this.#o.maxAttempts) this.#act({ type: 'give-up', attempt: this.#attempt, message: this.#o.finalMessage ?? message });
      else {
        this.#act({ type: 'check', attempt: this.#attempt, message });
        this.#arm();
      }
    });
  }
}
