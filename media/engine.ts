/**
 * MediaEngine: one per process. Owns the RTP port allocator and either runs every session in
 * this thread (one media clock, the resampler, the optional VAD engine), or, with `workers: N`,
 * spreads them over N media worker threads (each with its own clock, resampler and Silero VAD)
 * and hands out `RemoteMediaSession`s that behave the same. Sessions are created here.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { MediaClock } from './clock.js';
import type { ClockStats, TimeSource } from './clock.js';
import { MediaError } from './errors.js';
import { PortAllocator } from './ports.js';
import { Resampler } from './resample.js';
import type { ResamplerQuality } from './resample.js';
import { LocalMediaSession } from './session.js';
import type { JitterConfig, MediaSession, SessionOptions, VadConfig } from './types.js';
import type { VadEngine } from './vad/types.js';
import type { PlayoutControl } from './worker/slots.js';
import { MediaWorkerPool } from './worker/pool.js';
import type { MediaThreadPriority, PriorityResult, VadCounters } from './worker/protocol.js';

export interface MediaEngineOptions {
  /** RTP_PORT_MIN / RTP_PORT_MAX. Default 20000..30000. */
  readonly portMin?: number;
  readonly portMax?: number;
  /** Address the RTP sockets bind to. Default 0.0.0.0. */
  readonly bindAddress?: string;
  /** Optional voice activity detector (Silero from media/vad, or any VadEngine). Owned: closed with the engine. */
  readonly vad?: VadEngine;
  readonly vadConfig?: VadConfig;
  readonly jitter?: JitterConfig;
  /** RTP inactivity timeout (both sides sendrecv). Default 30 s. */
  readonly rtpTimeoutMs?: number;
  /** `stats` event period. Default 5 s. */
  readonly statsIntervalMs?: number;
  /** RTCP report period. Default 5 s. */
  readonly rtcpIntervalMs?: number;
  /** Media clock: busy-wait before each deadline (ms), default 1.5. */
  readonly spinMs?: number;
  /** For tests: a fake time source. */
  readonly time?: TimeSource;
  readonly resamplerQuality?: ResamplerQuality;
  /**
   * Media worker threads. 0 (default): sessions run in this thread. N > 0: sessions run in N
   * workers, so the control plane's work (provider sockets, JSON, SQLite) never delays a packet.
   * `vad` (an object) cannot cross threads: with workers, use `workerVad`.
   */
  readonly workers?: number;
  /** With workers: Silero VAD in each worker (default) or none. */
  readonly workerVad?: 'silero' | 'none';
  /** With workers: the level gate of each worker's Silero engine (SileroVadOptions.gateDbfs). */
  readonly vadGateDbfs?: number | null;
  /**
   * With workers: scheduling of each worker's thread (see MediaThreadPriority). Default normal.
   * A priority the OS refuses is reported in `workerPriorities`; the worker runs on regardless.
   */
  readonly workerPriority?: MediaThreadPriority;
}

export interface MediaEngineStats {
  readonly sessions: number;
  readonly portsInUse: number;
  /** Summed over workers (maxLateMs: the worst). */
  readonly clock: ClockStats;
  readonly vad: VadCounters;
  readonly workers: number;
  /** The worst media thread's event-loop delay p99 over its last period, ms (workers only). */
  readonly workerLoopDelayP99Ms: number | null;
}

/**
 * dgram resolves every destination through `lookup` before sending, and the default (dns.lookup)
 * answers an IP literal on process.nextTick: every packet of a tick would leave only after the
 * whole tick's work (decode, VAD, events of every session). Sessions only send to IPv4 literals
 * (setRemote checks; latched sources are literals), so answer at once and the packet leaves in
 * the send phase, on the deadline.
 */
function literalLookup(address: string, _family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, 4);
}

function bindSocket(s: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { s.removeListener('listening', onListening); reject(err); };
    const onListening = (): void => { s.removeListener('error', onError); resolve(); };
    s.once('error', onError);
    s.once('listening', onListening);
    s.bind({ port, address, exclusive: true });
  });
}

export class MediaEngine {
  #opts: MediaEngineOptions = {};
  #clock: MediaClock | null = null;
  #ports: PortAllocator | null = null;
  #resampler: Resampler | null = null;
  #sessions = new Set<MediaSession>();
  #pool: MediaWorkerPool | null = null;
  #started = false;
  #closing: Promise<void> | null = null;

  async start(opts: MediaEngineOptions = {}): Promise<void> {
    if (this.#started) return;
    if (this.#closing) throw new MediaError('CLOSED', 'media engine closed');
    this.#opts = opts;
    this.#ports = new PortAllocator(opts.portMin ?? 20000, opts.portMax ?? 30000);
    const workers = opts.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new MediaError('BAD_OPTIONS', `workers must be an integer 0..64, got ${workers}`);
    if (workers > 0) {
      if (opts.vad || opts.time) throw new MediaError('BAD_OPTIONS', 'vad objects and fake time sources cannot cross threads: use workerVad, or workers: 0');
      const { portMin: _a, portMax: _b, vad: _c, time: _d, workers: _e, workerVad, workerPriority, ...wire } = opts;
      this.#pool = await MediaWorkerPool.start(workers, wire, workerVad ?? 'silero', workerPriority ?? 'normal');
      this.#started = true;
      return;
    }
    this.#resampler = await Resampler.load({ quality: opts.resamplerQuality ?? 2 });
    this.#clock = new MediaClock({ frameMs: 20, ...(opts.time ? { time: opts.time } : {}), ...(opts.spinMs !== undefined ? { spinMs: opts.spinMs } : {}) });
    this.#clock.start();
    this.#started = true;
  }

  /** The in-thread media clock (not available with workers: each worker has its own). */
  get clock(): MediaClock {
    if (!this.#clock) throw new MediaError('NOT_STARTED', this.#pool ? 'the media clocks run in the workers' : 'media engine not started');
    return this.#clock;
  }

  get sessionCount(): number { return this.#sessions.size; }

  get workers(): number { return this.#pool?.size ?? 0; }
  /** Per media worker: the priority its thread runs at, and why the requested one failed (if it did). */
  get workerPriorities(): PriorityResult[] { return this.#pool?.priorities ?? []; }

  stats(): MediaEngineStats {
    const base = { sessions: this.#sessions.size, portsInUse: this.#ports?.inUse ?? 0 };
    if (this.#pool) return { ...base, ...this.#pool.stats() };
    const v = this.#opts.vad as (VadEngine & { stats?: () => VadCounters }) | undefined;
    const vs = v?.stats?.();
    return {
      ...base,
      clock: this.#clock?.stats() ?? { ticks: 0, lateWakeups: 0, skippedTicks: 0, maxLateMs: 0, listenerErrors: 0 },
      vad: { windows: vs?.windows ?? 0, batches: vs?.batches ?? 0, droppedWindows: vs?.droppedWindows ?? 0, gatedWindows: vs?.gatedWindows ?? 0 },
      workers: 0, workerLoopDelayP99Ms: null,
    };
  }

  /** Allocates an RTP/RTCP port pair and returns a started session (receiving; sending after setRemote). */
  async createSession(opts: SessionOptions = {}): Promise<MediaSession> {
    if (!this.#started || !this.#ports) throw new MediaError('NOT_STARTED', 'media engine not started');
    if (this.#closing) throw new MediaError('CLOSED', 'media engine closed');
    const ports = this.#ports;
    const id = opts.id ?? randomUUID();
    const onClosed = (s: MediaSession): void => { this.#sessions.delete(s); ports.release(s.rtpPort); };
    const pool = this.#pool;
    const { value: session } = await ports.allocate<MediaSession>((rtpPort) => pool
      ? pool.open({ id, rtpPort, opts, onClosed })
      : this.openLocal(rtpPort, { ...opts, id }, { onClosed }));
    this.#sessions.add(session);
    return session;
  }

  /**
   * Binds exactly `rtpPort` and `rtpPort + 1` and starts a session in this thread. Used by
   * createSession and by a media worker (whose owner allocated the port).
   */
  async openLocal(rtpPort: number, opts: SessionOptions, extra: { onClosed?: (s: MediaSession) => void; control?: PlayoutControl; ssrc?: number } = {}): Promise<LocalMediaSession> {
    if (!this.#clock || !this.#resampler) throw new MediaError('NOT_STARTED', 'media engine not started');
    const address = this.#opts.bindAddress ?? '0.0.0.0';
    const rtp = createSocket({ type: 'udp4', lookup: literalLookup });
    const rtcp = createSocket({ type: 'udp4', lookup: literalLookup });
    try {
      await bindSocket(rtp, rtpPort, address);
      await bindSocket(rtcp, rtpPort + 1, address);
    } catch (err) {
      await Promise.all([rtp, rtcp].map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
      throw err;
    }
    const vad = opts.vad === false ? null : this.#opts.vad ?? null;
    const session = new LocalMediaSession({
      id: opts.id ?? randomUUID(),
      localAddress: address,
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtpSocket: rtp,
      rtcpSocket: rtcp,
      clock: this.#clock,
      resampler: this.#resampler,
      vad,
      vadConfig: { ...this.#opts.vadConfig, ...(opts.vad ? opts.vad : {}) },
      jitter: { ...this.#opts.jitter, ...opts.jitter },
      rtpTimeoutMs: opts.rtpTimeoutMs ?? this.#opts.rtpTimeoutMs ?? 30_000,
      statsIntervalMs: this.#opts.statsIntervalMs ?? 5_000,
      rtcpIntervalMs: this.#opts.rtcpIntervalMs ?? 5_000,
      onClosed: (s) => { this.#sessions.delete(s); extra.onClosed?.(s); },
      ...(extra.control ? { control: extra.control } : {}),
      ...(extra.ssrc !== undefined ? { ssrc: extra.ssrc } : {}),
    });
    this.#sessions.add(session);
    session.start();
    return session;
  }

  /** Idempotent: closes every session, stops the clock, closes the VAD engine and resampler. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      await Promise.allSettled([...this.#sessions].map((s) => s.close()));
      await this.#pool?.close();
      this.#clock?.stop();
      this.#resampler?.close();
      if (this.#opts.vad) await this.#opts.vad.close();
    })();
    return this.#closing;
  }
}
