/** Messages between the owner thread and a media worker. Plain data only. */
import type { ClockStats } from '../clock.js';
import type { MediaEngineOptions } from '../engine.js';
import type { MediaEvent, PlayItem, RemoteDescription, SessionOptions } from '../types.js';

/** The serialisable part of MediaEngineOptions that a worker runs with. */
export type WorkerEngineOptions = Pick<MediaEngineOptions,
  'bindAddress' | 'vadConfig' | 'jitter' | 'rtpTimeoutMs' | 'statsIntervalMs' | 'rtcpIntervalMs' | 'spinMs' | 'resamplerQuality' | 'vadGateDbfs'>;

export interface WorkerSetup {
  readonly index: number;
  readonly options: WorkerEngineOptions;
  /** Silero VAD inside the worker (its own inference thread), or none. */
  readonly vad: 'silero' | 'none';
  readonly slots: SharedArrayBuffer;
  readonly healthIntervalMs: number;
  readonly priority: MediaThreadPriority;
}

/**
 * The media threads' scheduling (Linux): `normal` leaves them; `high` sets nice -10 on the thread;
 * `realtime` also puts it in SCHED_FIFO (priority 10, with `chrt`), as Asterisk's `-p` or
 * FreeSWITCH's `-rp` do. Both need root or CAP_SYS_NICE.
 */
export type MediaThreadPriority = 'normal' | 'high' | 'realtime';

/**
 * What the thread got: the priority in force, why the requested one failed (if it did), and its
 * Linux thread id (for `chrt -p`, `top -H`, `/proc/<pid>/task/<tid>`; null elsewhere).
 */
export interface PriorityResult { readonly applied: MediaThreadPriority; readonly error: string | null; readonly tid: number | null }

export interface VadCounters { readonly windows: number; readonly batches: number; readonly droppedWindows: number; readonly gatedWindows: number }

export interface WorkerHealth {
  readonly sessions: number;
  readonly clock: ClockStats;
  readonly vad: VadCounters;
  /** The worker's own event-loop delay (p99 over the last period), ms. */
  readonly loopDelayP99Ms: number;
}

export type ToWorker =
  | { readonly type: 'open'; readonly rid: number; readonly slot: number; readonly port: number; readonly ssrc: number; readonly opts: SessionOptions }
  | { readonly type: 'set-remote'; readonly slot: number; readonly remote: RemoteDescription }
  | { readonly type: 'play'; readonly slot: number; readonly ordinal: number; readonly item: PlayItem }
  | { readonly type: 'send-dtmf'; readonly slot: number; readonly digit: string; readonly durationMs: number }
  | { readonly type: 'inject-dtmf'; readonly slot: number; readonly digit: string; readonly durationMs: number }
  | { readonly type: 'start-recording'; readonly rid: number; readonly slot: number; readonly path: string }
  | { readonly type: 'stop-recording'; readonly rid: number; readonly slot: number }
  | { readonly type: 'close'; readonly rid: number; readonly slot: number }
  | { readonly type: 'shutdown'; readonly rid: number };

export interface WireError { readonly code: string; readonly message: string }

export type FromWorker =
  | { readonly type: 'ready'; readonly priority: PriorityResult }
  | { readonly type: 'init-error'; readonly error: WireError }
  | { readonly type: 'reply'; readonly rid: number; readonly error: WireError | null }
  /** Every event of every session since the last batch, in order (one message per tick). */
  | { readonly type: 'events'; readonly batch: readonly (readonly [number, MediaEvent])[] }
  | { readonly type: 'health'; readonly health: WorkerHealth };
