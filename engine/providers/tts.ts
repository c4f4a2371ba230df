// Text-to-speech provider contract: push text as the LLM streams it, iterate audio chunks in the
// call's format, with character alignment so barge-in can cut the transcript to what was heard.
import type { AudioFormat } from './audio.js';
import type { ProviderError } from './errors.js';

export interface TtsVoiceSettings {
  stability?: number;
  similarityBoost?: number;
  style?: number;
  useSpeakerBoost?: boolean;
  speed?: number;
}

export interface TtsStreamOptions {
  voiceId: string;
  model?: string;
  /** Match the call: `ulaw_8000` / `alaw_8000` for G.711, `pcm_16000` for wideband. */
  outputFormat: AudioFormat;
  voiceSettings?: TtsVoiceSettings;
  language?: string;
  /** Fail with `timeout` when no audio arrives this long after text was flushed (default 10000). */
  timeoutMs?: number;
}

/** Character timings for the text spoken in one chunk; ms are relative to the start of the stream. */
export interface TtsAlignment {
  chars: readonly string[];
  charStartMs: readonly number[];
  charDurationMs: readonly number[];
}

export type TtsEvent =
  | {
      type: 'audio';
      audio: Uint8Array;
      format: AudioFormat;
      /** Start of this chunk in ms from the start of the stream's audio. */
      offsetMs: number;
      durationMs: number;
      alignment?: TtsAlignment;
    }
  | { type: 'done'; totalMs: number };

export interface TtsStream extends AsyncIterable<TtsEvent> {
  /** Appends text; it is spoken once the provider has enough of it (or on flush). */
  pushText(text: string): void;
  /** Marks the end of the text: everything pushed is spoken, then the stream ends with `done`. */
  flush(): void;
  /** Stops at once (barge-in) and releases the connection. Idempotent. */
  close(): Promise<void>;
}

export interface TtsProvider {
  readonly provider: string;
  /** Opens a streaming synthesis. Errors surface as ProviderError, from here or from iteration. */
  stream(opts: TtsStreamOptions, signal?: AbortSignal): Promise<TtsStream>;
  /** One-shot phrase (greetings, `say`): the whole text, streamed back. */
  synthesize(text: string, opts: TtsStreamOptions, signal?: AbortSignal): AsyncIterable<TtsEvent>;
}

export type { ProviderError };
