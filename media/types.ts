/**
 * Public, plain-data types of the media plane: commands in, events out. Nothing here holds a
 * reference to a live object, so sessions can move to worker threads without changing callers.
 */
import type { AudioCodecName } from './codecs/capabilities.js';
import type { DtmfDigit } from './dtmf.js';
import type { JitterStats } from './jitter.js';
import type { PcmRate } from './resample.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RemoteCodec {
  readonly name: string;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly channels?: number;
}

/**
 * The negotiated remote side. `direction` is the direction attribute of the REMOTE description
 * (what the peer said): `sendonly` = the peer holds us (it sends, we must not), `recvonly` = we
 * hold the peer, `inactive` = nobody sends. `localDirection` is our own answer/offer's attribute
 * when it is more restrictive (e.g. we put the call on hold); default: the complement of
 * `direction`. Call `setRemote` again on every re-INVITE (hold, resume, codec or address change).
 */
export interface RemoteDescription {
  readonly address: string;
  readonly port: number;
  /** Default: port + 1. */
  readonly rtcpPort?: number;
  readonly codec: RemoteCodec;
  /** Payload type of telephone-event (RFC 4733) at the codec's clock rate, if negotiated. */
  readonly telephoneEventPt?: number;
  readonly direction: MediaDirection;
  readonly localDirection?: MediaDirection;
}

/**
 * Audio to play. `pcmu`/`pcma` bytes that match the call's codec go out untouched (no
 * transcoding); 16-bit PCM at 8/16/24/48 kHz is resampled (libsamplerate) and encoded.
 */
export type PlayItem =
  | { readonly id: string; readonly format: 'pcmu' | 'pcma'; readonly data: Uint8Array }
  | { readonly id: string; readonly format: 'pcm16'; readonly sampleRate: PcmRate; readonly samples: Int16Array };

export interface PlayedItem {
  readonly id: string;
  /** Milliseconds of this item actually sent to the caller. */
  readonly playedMs: number;
}

export interface ClearResult {
  /** Every item that was queued when clear() ran (the current one first), with what was sent of it. */
  readonly items: readonly PlayedItem[];
  /** Sum of `items[].playedMs`. */
  readonly playedMs: number;
}

export interface RemoteReport {
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly jitterMs: number;
  readonly rttMs: number | null;
}

export interface MediaStats {
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** RFC 3550 cumulative loss of the incoming stream. */
  readonly packetsLost: number;
  /** Fraction lost (0..1) in the last RTCP interval. */
  readonly fractionLost: number;
  /** RFC 3550 interarrival jitter of the incoming stream. */
  readonly jitterMs: number;
  readonly jitterBuffer: JitterStats;
  /** What the peer's RTCP says about our stream. */
  readonly remoteReport: RemoteReport | null;
  readonly dtmfIn: number;
  readonly dtmfOut: number;
  readonly comfortNoise: number;
  /** Datagrams that are not RTP/RTCP or are truncated. */
  readonly malformed: number;
  readonly wrongPayloadType: number;
  /** Packets from another address after latching. */
  readonly foreignSource: number;
  /** Packets before setRemote() (dropped). */
  readonly beforeRemote: number;
  readonly ssrcChanges: number;
  readonly rtcpIn: number;
  readonly rtcpOut: number;
  /** Media ticks that started late (> 2 ms) / were skipped while this session existed. */
  readonly lateWakeups: number;
  readonly skippedTicks: number;
  readonly playoutQueueMs: number;
  readonly latchedTo: { readonly address: string; readonly port: number } | null;
}

export type MediaEvent =
  /**
   * 20 ms of caller audio after the jitter buffer, in order. For PCMU/PCMA `encoded` holds the raw
   * G.711 octets as received (hand them to the STT untouched); `pcm` is always the 16-bit linear
   * audio at `sampleRate` (8 kHz G.711, 16 kHz G.722/Opus). `concealed` frames were synthesised
   * for lost packets.
   */
  | { readonly type: 'audio'; readonly codec: AudioCodecName; readonly sampleRate: 8000 | 16000; readonly encoded: Uint8Array | null; readonly pcm: Int16Array; readonly atMs: number; readonly concealed: boolean }
  /**
   * Caller speech began at `atMs` (caller-audio ms): the acoustic onset, i.e. the VAD's start
   * moved back over the sound just before it that stands above the noise floor (onset.ts).
   * `sinceOnsetMs`: from the arrival of the onset's packet at the socket to this event (jitter
   * buffer, VAD minimum speech and inference): how much of the speech has already been heard.
   */
  | { readonly type: 'speech-start'; readonly atMs: number; readonly sinceOnsetMs: number; readonly run: number }
  | { readonly type: 'speech-end'; readonly atMs: number; readonly speechMs: number }
  | { readonly type: 'dtmf'; readonly digit: DtmfDigit; readonly durationMs: number; readonly source: 'rfc4733' | 'sip-info' }
  | { readonly type: 'played'; readonly id: string; readonly playedMs: number }
  | { readonly type: 'stats'; readonly stats: MediaStats }
  | { readonly type: 'timeout'; readonly silentMs: number }
  | { readonly type: 'latched'; readonly address: string; readonly port: number }
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | { readonly type: 'closed' };

export type MediaEventType = MediaEvent['type'];
export type MediaEventListener = (ev: MediaEvent) => void;

/**
 * One call's media, wherever it runs: in this thread (`LocalMediaSession`) or in a media worker
 * (`RemoteMediaSession`, same behaviour through messages and shared memory). Created by
 * `MediaEngine.createSession()`.
 */
export interface MediaSession {
  readonly id: string;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly closed: boolean;
  readonly ssrc: number;
  readonly codecName: string | null;
  /** Milliseconds of queued audio not yet sent. */
  readonly queuedMs: number;
  /** Subscribes to events; returns an unsubscribe function. */
  on(listener: MediaEventListener): () => void;
  /** Async iterable of events until the session closes or `signal` aborts. */
  events(signal?: AbortSignal): AsyncIterable<MediaEvent>;
  setRemote(remote: RemoteDescription): void;
  play(item: PlayItem): void;
  /** Stops playout at once: the next tick sends silence. Returns what the caller received. */
  clear(): ClearResult;
  /**
   * Barge-in without waiting for this thread: once the caller's speech run `run` (from its
   * `speech-start`) has lasted `afterMs` since its onset reached the socket, the media plane mutes
   * playout by itself (silence goes out; the queue stays where it stopped). clear() or
   * disarmInterruption() ends it (after disarm, playout resumes where it stopped). Sessions in
   * this thread ignore it: their clock shares this thread's timers.
   */
  armInterruption(run: number, afterMs: number): void;
  disarmInterruption(): void;
  sendDtmf(digit: string, durationMs?: number): void;
  /** A digit from SIP INFO (the SIP layer parsed it); re-emitted as a `dtmf` event. */
  injectDtmf(digit: string, durationMs?: number): void;
  /** Records caller (left) and agent (right) as a stereo 16-bit WAV at the call's rate. */
  startRecording(path: string): Promise<void>;
  stopRecording(): Promise<void>;
  getStats(): MediaStats;
  /** Idempotent: sends RTCP BYE, stops recording, closes sockets, releases the ports. */
  close(): Promise<void>;
}

export interface JitterConfig {
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly initialDelayMs?: number;
}

export interface VadConfig {
  readonly positiveThreshold?: number;
  readonly negativeThreshold?: number;
  readonly minSpeechMs?: number;
  readonly minSilenceMs?: number;
}

export interface SessionOptions {
  /** Used in logs and the RTCP CNAME. */
  readonly id?: string;
  /** RTP inactivity timeout while both sides are sendrecv. Default: the engine's. */
  readonly rtpTimeoutMs?: number;
  /** VAD tuning for this call, or false for no VAD. Default: the engine's settings. */
  readonly vad?: VadConfig | false;
  readonly jitter?: JitterConfig;
}
