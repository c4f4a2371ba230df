/**
 * The voice-activity-detector contract between media/vad (Silero on onnxruntime) and the
 * MediaSession. Audio goes in as 16-bit PCM at the call's own rate; events come out.
 */
export type VadRate = 8000 | 16000;

export interface VadOptions {
  readonly sampleRate: VadRate;
  /** Probability at or above which a window counts as speech. Default 0.5. */
  readonly positiveThreshold?: number;
  /** Probability below which a window counts as silence (hysteresis). Default 0.35. */
  readonly negativeThreshold?: number;
  /** Speech must last this long before `speech-start` fires. Default 100 ms. */
  readonly minSpeechMs?: number;
  /** Silence must last this long before `speech-end` fires. Default 300 ms. */
  readonly minSilenceMs?: number;
  /** Also emit a `probability` event for every window. Default false. */
  readonly emitProbability?: boolean;
}

/** Times are milliseconds of audio pushed into this stream since it was created. */
export type VadEvent =
  | { readonly type: 'speech-start'; readonly atMs: number }
  | { readonly type: 'speech-end'; readonly atMs: number; readonly speechMs: number }
  | { readonly type: 'probability'; readonly atMs: number; readonly p: number };

/** One detector per call direction. `push` never blocks; inference runs asynchronously. */
export interface VadStream {
  /** Takes a copy of what it needs before returning: the caller may reuse `pcm`. */
  push(pcm: Int16Array): void;
  /** Called for every event, in order. */
  onEvent: ((ev: VadEvent) => void) | null;
  /** Drops state (e.g. after hold/resume). */
  reset(): void;
  close(): void;
}

export interface VadEngine {
  createStream(opts: VadOptions): VadStream;
  close(): Promise<void>;
  /** Optional: resolves once all audio pushed so far has been inferred and its events delivered. */
  whenIdle?(): Promise<void>;
}
