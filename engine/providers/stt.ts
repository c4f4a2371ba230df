// Speech-to-text provider contract. One `SttSession` per call leg: push the call's audio as it
// arrives, iterate transcript events. Sessions survive dropped sockets on their own (they
// reconnect and resend unconfirmed audio); only fatal failures end the iteration with `error`.
import type { ProviderError } from './errors.js';

export type SttEncoding = 'mulaw' | 'alaw' | 'linear16';

export interface SttStreamOptions {
  model: string;
  language: string;
  keyterms?: readonly string[];
  /** The call's audio as it is: mulaw/alaw at 8000 Hz, linear16 at 16000 Hz for wideband calls. */
  encoding: SttEncoding;
  sampleRate: 8000 | 16000;
  /** Interim (non-final) hypotheses (default true). */
  interimResults?: boolean;
  /** Silence in ms that ends a speech segment (`speech_final`); false disables (default 300). */
  endpointingMs?: number | false;
  /** Gap in ms after the last word that produces `utterance-end` (>= 1000; default 1000). */
  utteranceEndMs?: number;
  /** `speech-started` events (default true). */
  vadEvents?: boolean;
  smartFormat?: boolean;
  /** A KeepAlive is sent when no audio has been pushed for this long (default 3000 ms). */
  keepAliveMs?: number;
  /** Give up reconnecting after this many consecutive failed attempts (default 5). */
  maxReconnects?: number;
  /** Time allowed for a websocket to open (default 5000 ms). */
  connectTimeoutMs?: number;
}

export interface SttWord {
  word: string;
  /** Seconds from the start of the session's audio (continuous across reconnects). */
  start: number;
  end: number;
  confidence: number;
  punctuatedWord?: string;
}

export interface SttResult {
  text: string;
  /** Seconds from the start of the session's audio (continuous across reconnects). */
  start: number;
  duration: number;
  confidence: number;
  words: readonly SttWord[];
}

export type SttEvent =
  | ({ type: 'interim' } & SttResult)
  | ({ type: 'final'; speechFinal: boolean; fromFinalize: boolean } & SttResult)
  | { type: 'utterance-end'; lastWordEnd: number }
  | { type: 'speech-started'; timestamp: number }
  | { type: 'metadata'; requestId: string; duration: number }
  | { type: 'reconnecting'; attempt: number; error: ProviderError }
  | { type: 'reconnected'; resentMs: number }
  | { type: 'error'; error: ProviderError }
  | { type: 'closed' };

export interface SttSession extends AsyncIterable<SttEvent> {
  /** Pushes audio in the session's encoding. Never blocks; audio is buffered while reconnecting. */
  sendAudio(chunk: Uint8Array): void;
  /** Asks the service to flush its pending hypothesis as a final result now. */
  finalize(): void;
  /** Graceful end: flush, wait for the last results (bounded), close. Idempotent. */
  close(): Promise<void>;
}

export interface SttProvider {
  readonly provider: string;
  /** Opens a session; resolves once the first socket is open, rejects with ProviderError. */
  stream(opts: SttStreamOptions, signal?: AbortSignal): Promise<SttSession>;
}
