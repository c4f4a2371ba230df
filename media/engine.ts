/**
 * MediaEngine: one per process. Owns the RTP port allocator, the single media clock that paces
 * every session, the resampler, and the optional VAD engine. Sessions are created here.
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
import { MediaSession } from './session.js';
import type { JitterConfig, SessionOptions, VadConfig } from './types.js';
import type { VadEngine } from './vad/types.js';

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
}

export interface MediaEngineStats {
  readonly sessions: number;
  readonly portsInUse: number;
  readonly clock: ClockStats;
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
  #started = false;
  #closing: Promise<void> | null = null;

  async start(opts: MediaEngineOptions = {}): Promise<void> {
    if (this.#started) return;
    if (this.#closing) throw new MediaError('CLOSED', 'media engine closed');
    this.#opts = opts;
    this.#ports = new PortAllocator(opts.portMin ?? 20000, opts.portMax ?? 30000);
    this.#resampler = await Resampler.load({ quality: opts.resamplerQuality ?? 2 });
    this.#clock = new MediaClock({ frameMs: 20, ...(opts.time ? { time: opts.time } : {}), ...(opts.spinMs !== undefined ? { spinMs: opts.spinMs } : {}) });
    this.#clock.start();
    this.#started = true;
  }

  get clock(): MediaClock {
    if (!this.#clock) throw new MediaError('NOT_STARTED', 'media engine not started');
    return this.#clock;
  }

  get sessionCount(): number { return this.#sessions.size; }

  stats(): MediaEngineStats {
    return { sessions: this.#sessions.size, portsInUse: this.#ports?.inUse ?? 0, clock: this.#clock?.stats() ?? { ticks: 0, lateWakeups: 0, skippedTicks: 0, maxLateMs: 0, listenerErrors: 0 } };
  }

  /** Allocates an RTP/RTCP port pair and returns a started session (receiving; sending after setRemote). */
  async createSession(opts: SessionOptions = {}): Promise<MediaSession> {
    if (!this.#started || !this.#ports || !this.#clock || !this.#resampler) throw new MediaError('NOT_STARTED', 'media engine not started');
    if (this.#closing) throw new MediaError('CLOSED', 'media engine closed');
    const address = this.#opts.bindAddress ?? '0.0.0.0';
    const ports = this.#ports;
    const { port, value: sockets } = await ports.allocate(async (rtpPort) => {
      const rtp = createSocket({ type: 'udp4' });
      const rtcp = createSocket({ type: 'udp4' });
      try {
        await bindSocket(rtp, rtpPort, address);
        await bindSocket(rtcp, rtpPort + 1, address);
      } catch (err) {
        await Promise.all([rtp, rtcp].map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
        throw err;
      }
      return { rtp, rtcp };
    });
    const vad = opts.vad === false ? null : this.#opts.vad ?? null;
    const session = new MediaSession({
      id: opts.id ?? randomUUID(),
      localAddress: address,
      rtpPort: port,
      rtcpPort: port + 1,
      rtpSocket: sockets.rtp,
      rtcpSocket: sockets.rtcp,
      clock: this.#clock,
      resampler: this.#resampler,
      vad,
      vadConfig: { ...this.#opts.vadConfig, ...(opts.vad ? opts.vad : {}) },
      jitter: { ...this.#opts.jitter, ...opts.jitter },
      rtpTimeoutMs: opts.rtpTimeoutMs ?? this.#opts.rtpTimeoutMs ?? 30_000,
      statsIntervalMs: this.#opts.statsIntervalMs ?? 5_000,
      rtcpIntervalMs: this.#opts.rtcpIntervalMs ?? 5_000,
      onClosed: (s) => { this.#sessions.delete(s); ports.release(s.rtpPort); },
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
      this.#clock?.stop();
      this.#resampler?.close();
      if (this.#opts.vad) await this.#opts.vad.close();
    })();
    return this.#closing;
  }
}
