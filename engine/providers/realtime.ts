// Speech-to-speech (realtime) provider contract: one session per call; caller audio in, agent
// audio, transcripts, VAD and function calls out.
import type { ProviderError } from './errors.js';
import type { LlmToolFunction } from './llm.js';

/** The call's audio format on both directions. */
export type RealtimeAudioFormat = 'mulaw_8000' | 'alaw_8000' | 'pcm_16000';

export interface TurnDetection {
  threshold?: number;
  prefixPaddingMs?: number;
  silenceDurationMs?: number;
  idleTimeoutMs?: number;
}

export interface RealtimeConnectOptions {
  model: string;
  voice?: string;
  instructions?: string;
  temperature?: number;
  tools?: readonly LlmToolFunction[];
  /** Clamped per spec §4.2 before it is sent. */
  turnDetection?: TurnDetection;
  audioFormat: RealtimeAudioFormat;
  /** Time allowed to open the socket and get `session.updated` (default 5000 ms). */
  connectTimeoutMs?: number;
}

export type RealtimeEvent =
  | { type: 'audio'; audio: Uint8Array; responseId: string; itemId: string }
  | { type: 'speech-started'; audioStartMs: number; itemId?: string }
  | { type: 'speech-stopped'; audioEndMs: number; itemId?: string }
  | { type: 'user-transcript'; itemId: string; text: string }
  | { type: 'agent-transcript-delta'; responseId: string; itemId: string; delta: string }
  | { type: 'agent-transcript'; responseId: string; itemId: string; text: string }
  | { type: 'response-started'; responseId: string }
  | { type: 'function-call'; callId: string; name: string; arguments: string; itemId: string }
  | { type: 'response-done'; responseId: string; status: string }
  | { type: 'error'; error: ProviderError; fatal: boolean }
  | { type: 'closed' };

export interface RealtimeSession extends AsyncIterable<RealtimeEvent> {
  /** Caller audio in the session's format. */
  pushAudio(chunk: Uint8Array): void;
  /** Returns a function call's result and asks for the next response. */
  sendToolResult(callId: string, output: string): void;
  /** Adds a text item (inject-context); `respond` asks the model to answer it. */
  sendText(text: string, role?: 'user' | 'system', respond?: boolean): void;
  /** Cancels the response in progress (barge-in). */
  interrupt(): void;
  /** Tells the server how much of an assistant item the caller actually heard. */
  truncate(itemId: string, playedMs: number): void;
  close(): Promise<void>;
}

export interface RealtimeProvider {
  readonly provider: string;
  connect(opts: RealtimeConnectOptions, signal?: AbortSignal): Promise<RealtimeSession>;
}

/** Spec §4.2 `turn_detection` ranges; out-of-range values are clamped, not refused. */
export function clampTurnDetection(td: TurnDetection | undefined): Required<Omit<TurnDetection, 'idleTimeoutMs'>> & { idleTimeoutMs?: number } {
  const clamp = (v: number | undefined, lo: number, hi: number, d: number): number => (v === undefined || Number.isNaN(v) ? d : Math.min(hi, Math.max(lo, v)));
  const out: Required<Omit<TurnDetection, 'idleTimeoutMs'>> & { idleTimeoutMs?: number } = {
    threshold: clamp(td?.threshold, 0, 1, 0.5),
    prefixPaddingMs: clamp(td?.prefixPaddingMs, 0, 2000, 300),
    silenceDurationMs: clamp(td?.silenceDurationMs, 100, 2000, 200),
  };
  if (td?.idleTimeoutMs !== undefined && td.idleTimeoutMs > 0) out.idleTimeoutMs = clamp(td.idleTimeoutMs, 0, 30000, 0);
  return out;
}
