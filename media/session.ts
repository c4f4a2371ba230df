/**
 * One call's media: a UDP port pair, the receive path (latching, SSRC tracking, jitter buffer,
 * decode, concealment, VAD, DTMF in), the send path (playout queue, encode, DTMF out, one packet
 * per media-clock tick), RTCP, recording and stats. Driven only by plain-data commands; reports
 * through plain-data events (see types.ts).
 *
 * Created by MediaEngine.createSession(); never construct one directly.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { createCodec } from './codecs/index.js';
import type { AudioCodec } from './codecs/index.js';
import { normalizeCodecName } from './codecs/capabilities.js';
import type { AudioCodecName } from './codecs/capabilities.js';
import type { ClockTick, MediaClock } from './clock.js';
import { EventHub } from './events.js';
import { DtmfReceiver, DtmfSender, digitToEvent, eventToDigit, parseTelephoneEvent } from './dtmf.js';
import { MediaError } from './errors.js';
import { JitterBuffer } from './jitter.js';
import { OnsetRefiner } from './onset.js';
import { Concealer } from './plc.js';
import { Playout } from './playout.js';
import type { Resampler } from './resample.js';
import { buildRtp, isRtcpPacket, parseRtp, RtpReceiveStats } from './rtp/packet.js';
import { buildBye, buildReceiverReport, buildSdes, buildSenderReport, ntpMiddle, ntpNow, parseRtcp } from './rtp/rtcp.js';
import type { ReportBlock } from './rtp/rtcp.js';
import type {
  ClearResult, JitterConfig, MediaDirection, MediaEvent, MediaEventListener, MediaSession, MediaStats, PlayedItem, PlayItem, RemoteDescription,
  RemoteReport, VadConfig,
} from './types.js';
import type { VadEngine, VadEvent, VadStream } from './vad/types.js';
import type { PlayoutControl } from './worker/slots.js';
import { WavWriter } from './wav.js';

const CN_PT = 13;

/** What the engine hands a session. */
export interface SessionDeps {
  readonly id: string;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtpSocket: Socket;
  readonly rtcpSocket: Socket;
  readonly clock: MediaClock;
  readonly resampler: Resampler;
  readonly vad: VadEngine | null;
  readonly vadConfig: VadConfig;
  readonly jitter: JitterConfig;
  readonly rtpTimeoutMs: number;
  readonly statsIntervalMs: number;
  readonly rtcpIntervalMs: number;
  readonly onClosed: (session: LocalMediaSession) => void;
  /** Set when the session runs in a media worker: the owner thread's clear() and playout view. */
  readonly control?: PlayoutControl | null;
  readonly ssrc?: number;
}

interface Counters {
  packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number; dtmfIn: number; dtmfOut: number;
  comfortNoise: number; malformed: number; wrongPayloadType: number; foreignSource: number; beforeRemote: number;
  ssrcChanges: number; rtcpIn: number; rtcpOut: number; lateWakeups: number; skippedTicks: number;
}

/** PCM (and, for G.711, the received octets) waiting to be cut into 20 ms frames. */
class FrameFifo {
  #pcm: Int16Array[] = [];
  #enc: (Uint8Array | null)[] = [];
  #samples = 0;
  #concealed = false;
  get samples(): number { return this.#samples; }
  push(pcm: Int16Array, enc: Uint8Array | null, concealed: boolean): void {
    if (pcm.length === 0) return;
    this.#pcm.push(pcm); this.#enc.push(enc); this.#samples += pcm.length;
    if (concealed) this.#concealed = true;
  }
  take(n: number, withEncoded: boolean): { pcm: Int16Array; encoded: Uint8Array | null; concealed: boolean } {
    const head = this.#pcm[0];
    if (head && head.length === n) {
      // The usual case, one packet = one frame: hand the decoded frame (and the received octets) on
      // without copying. Nothing else holds them.
      const e = this.#enc[0] ?? null;
      this.#pcm.shift(); this.#enc.shift();
      this.#samples -= n;
      return this.#out(head, withEncoded ? e : null);
    }
    const pcm = new Int16Array(n);
    const encoded = withEncoded ? new Uint8Array(n) : null;
    let off = 0;
    while (off < n && this.#pcm.length) {
      const p = this.#pcm[0]!, e = this.#enc[0]!;
      const k = Math.min(n - off, p.length);
      pcm.set(p.subarray(0, k), off);
      if (encoded && e) encoded.set(e.subarray(0, k), off);
      off += k;
      if (k === p.length) { this.#pcm.shift(); this.#enc.shift(); } else { this.#pcm[0] = p.subarray(k); this.#enc[0] = e ? e.subarray(k) : null; }
    }
    this.#samples -= off;
    return this.#out(pcm, encoded);
  }
  /** A frame handed out: it carries (and resets) the concealment flag of what went into it. */
  #out(pcm: Int16Array, encoded: Uint8Array | null): { pcm: Int16Array; encoded: Uint8Array | null; concealed: boolean } {
    const concealed = this.#concealed;
    this.#concealed = false;
    return { pcm, encoded, concealed };
  }
  clear(): void { this.#pcm = []; this.#enc = []; this.#samples = 0; this.#concealed = false; }
}

/** Validates a remote description (throws MediaError); port 0 becomes an inactive stream. */
export function checkRemote(remote: RemoteDescription): { codec: AudioCodecName; remote: RemoteDescription } {
  const codec = normalizeCodecName(remote.codec.name);
  if (!codec) throw new MediaError('UNSUPPORTED_CODEC', `unsupported codec ${remote.codec.name}`);
  if (!isIPv4(remote.address)) throw new MediaError('NO_REMOTE', `remote address must be an IPv4 literal, got ${JSON.stringify(remote.address)}`);
  if (!Number.isInteger(remote.port) || remote.port < 0 || remote.port > 65535) throw new MediaError('NO_REMOTE', `bad remote port ${remote.port}`);
  if (remote.port === 0) return { codec, remote: { ...remote, port: 9, direction: 'inactive', localDirection: 'inactive' } }; // a rejected stream (RFC 3264 §6)
  return { codec, remote };
}

function canSendFor(remote: MediaDirection, local: MediaDirection): boolean {
  return (remote === 'sendrecv' || remote === 'recvonly') && (local === 'sendrecv' || local === 'sendonly');
}
function expectsReceiveFor(remote: MediaDirection, local: MediaDirection): boolean {
  return (remote === 'sendrecv' || remote === 'sendonly') && (local === 'sendrecv' || local === 'recvonly');
}
function complement(d: MediaDirection): MediaDirection {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

export class LocalMediaSession implements MediaSession {
  readonly id: string;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly #d: SessionDeps;
  readonly #hub = new EventHub();
  readonly #playout: Playout;
  readonly #dtmfTx = new DtmfSender();
  readonly #dtmfRx = new DtmfReceiver(8000);
  readonly #ssrc: number;
  readonly #cname: string;
  #c: Counters = {
    packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, dtmfIn: 0, dtmfOut: 0, comfortNoise: 0, malformed: 0,
    wrongPayloadType: 0, foreignSource: 0, beforeRemote: 0, ssrcChanges: 0, rtcpIn: 0, rtcpOut: 0, lateWakeups: 0, skippedTicks: 0,
  };
  #started = false;
  #closed = false;
  #closing: Promise<void> | null = null;
  #removeTick: (() => void) | null = null;

  #remote: RemoteDescription | null = null;
  #localDirection: MediaDirection = 'sendrecv';
  #codec: AudioCodec | null = null;
  #rtpDest: { address: string; port: number } | null = null;
  #latched = false;
  #rtcpDest: { address: string; port: number } | null = null;
  #rtcpLatched = false;

  // receive
  #remoteSsrc: number | null = null;
  #recvStats = new RtpReceiveStats(8000);
  #jb: JitterBuffer;
  #fifo = new FrameFifo();
  #plc = new Concealer(8000);
  #receivedAudio = false;
  #callerMs = 0;
  #lastActivity = 0;
  #timedOut = false;
  #fractionLost = 0;
  #lastSrFromRemote: { middle: number; at: number } | null = null;

  // send
  #seq = randomBytes(2).readUInt16BE(0);
  #tsBase = randomBytes(4).readUInt32BE(0);
  #tickBase: number | null = null;
  #marker = true;
  #sentSinceReport = false;
  #octetsOut = 0;
  #lastRtpTs = 0;
  #lastSrNtpMiddle = 0;
  #remoteReport: RemoteReport | null = null;

  // vad
  #vad: VadStream | null = null;
  #vadBaseMs = 0;
  /** The caller's speech runs (for armed interruptions): number, still speaking, onset arrival. */
  #run = 0;
  #runActive = false;
  #runOnsetArrival = 0;
  readonly #onset = new OnsetRefiner();
  #vadRate = 0;

  // recording
  #recorder: WavWriter | null = null;

  #ticks = 0;
  #agentFrame: Int16Array | null = null;
  #recQueue: Int16Array[] = [];
  #finished: PlayedItem[] = [];

  constructor(deps: SessionDeps) {
    this.#d = deps;
    this.id = deps.id;
    this.localAddress = deps.localAddress;
    this.rtpPort = deps.rtpPort;
    this.rtcpPort = deps.rtcpPort;
    this.#cname = `${deps.id}@voice-engine`;
    this.#ssrc = deps.ssrc ?? randomBytes(4).readUInt32BE(0);
    this.#playout = new Playout(deps.resampler);
    this.#jb = new JitterBuffer({ clockRate: 8000, ...deps.jitter });
  }

  /** Starts receiving and joins the media clock. Called by MediaEngine.createSession(). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#lastActivity = this.#d.clock.time.now();
    this.#d.rtpSocket.on('message', (msg, rinfo) => this.#onRtpDatagram(msg, rinfo));
    this.#d.rtcpSocket.on('message', (msg, rinfo) => this.#onRtcpDatagram(msg, rinfo, false));
    const onErr = (err: Error): void => this.#emit({ type: 'error', code: (err as NodeJS.ErrnoException).code ?? 'SOCKET', message: err.message });
    this.#d.rtpSocket.on('error', onErr);
    this.#d.rtcpSocket.on('error', onErr);
    const offSend = this.#d.clock.add((t) => this.#onSendTick(t), 'send');
    const offWork = this.#d.clock.add((t) => this.#onTick(t), 'work');
    this.#removeTick = () => { offSend(); offWork(); };
  }

  get closed(): boolean { return this.#closed; }
  get ssrc(): number { return this.#ssrc; }
  get codecName(): string | null { return this.#codec?.name ?? null; }

  /** Subscribes to events; returns an unsubscribe function. */
  on(listener: MediaEventListener): () => void { return this.#hub.on(listener); }

  /** Async iterable of events until the session closes or `signal` aborts. */
  events(signal?: AbortSignal): AsyncIterable<MediaEvent> { return this.#hub.events(signal); }

  setRemote(remote: RemoteDescription): void {
    this.#assertOpen();
    const checked = checkRemote(remote);
    const name = checked.codec;
    remote = checked.remote;
    const prev = this.#remote;
    const now = this.#d.clock.time.now();
    const codecChanged = !prev || !this.#codec || this.#codec.name !== name || prev.codec.payloadType !== remote.codec.payloadType || prev.codec.clockRate !== remote.codec.clockRate;
    if (codecChanged) {
      const old = this.#codec;
      this.#codec = createCodec(name, remote.codec.clockRate);
      old?.close();
      const cr = this.#codec.clockRate;
      this.#jb = new JitterBuffer({ clockRate: cr, ...this.#d.jitter });
      this.#recvStats = new RtpReceiveStats(cr);
      this.#remoteSsrc = null;
      this.#dtmfRx.clockRate = cr;
      this.#fifo.clear();
      this.#plc = new Concealer(this.#codec.pcmRate);
      this.#playout.setCodec(name);
      this.#tsBase = randomBytes(4).readUInt32BE(0);
      this.#tickBase = null;
      this.#marker = true;
      this.#setupVad();
    }
    if (!prev || prev.address !== remote.address || prev.port !== remote.port) {
      this.#rtpDest = { address: remote.address, port: remote.port };
      this.#latched = false;
    }
    const rtcpPort = remote.rtcpPort ?? remote.port + 1;
    if (!prev || prev.address !== remote.address || (prev.rtcpPort ?? prev.port + 1) !== rtcpPort) {
      this.#rtcpDest = { address: remote.address, port: rtcpPort };
      this.#rtcpLatched = false;
    }
    const local = remote.localDirection ?? complement(remote.direction);
    const wasReceiving = prev ? expectsReceiveFor(prev.direction, this.#localDirection) : false;
    const wasSending = prev ? canSendFor(prev.direction, this.#localDirection) : false;
    this.#remote = remote;
    this.#localDirection = local;
    const receiving = expectsReceiveFor(remote.direction, local);
    if (wasReceiving !== receiving) {
      this.#jb.reset();
      this.#fifo.clear();
      this.#vad?.reset();
      this.#onset.clear();
    }
    if (!wasSending && canSendFor(remote.direction, local)) this.#marker = true;
    this.#lastActivity = now;
    this.#timedOut = false;
  }

  play(item: PlayItem): void {
    this.#assertOpen();
    if (!item || typeof item.id !== 'string') throw new MediaError('BAD_AUDIO', 'play item needs an id');
    this.#playout.add(item);
  }

  /** play() for a session in a media worker: `ordinal` is the owner's play order (see worker/slots.ts). */
  enqueue(item: PlayItem, ordinal: number): void {
    this.#assertOpen();
    const ctl = this.#d.control;
    if (ctl && ordinal <= ctl.clearUpTo) return; // cleared by the owner before it got here
    this.#playout.add(item, ordinal);
  }

  /** Stops playout at once: the next tick sends silence. Returns what the caller received. */
  clear(): ClearResult {
    if (this.#closed) return { items: [], playedMs: 0 };
    return this.#playout.clear();
  }

  /** Milliseconds of queued audio not yet sent. */
  get queuedMs(): number { return this.#playout.queuedMs; }

  /** In this thread the owner's timer runs on the same loop as the clock: nothing to gain (see MediaSession). */
  armInterruption(_run: number, _afterMs: number): void { /* the owner's own timer is as early */ }
  disarmInterruption(): void { /* nothing armed in this thread */ }

  sendDtmf(digit: string, durationMs = 100): void {
    this.#assertOpen();
    digitToEvent(digit);
    if (this.#remote?.telephoneEventPt === undefined) throw new MediaError('NO_TELEPHONE_EVENT', 'telephone-event was not negotiated');
    this.#dtmfTx.enqueue(digit, durationMs);
  }

  /** A digit from SIP INFO (the SIP layer parsed it); re-emitted as a `dtmf` event. */
  injectDtmf(digit: string, durationMs = 100): void {
    this.#assertOpen();
    const d = eventToDigit(digitToEvent(digit));
    if (d) { this.#c.dtmfIn++; this.#emit({ type: 'dtmf', digit: d, durationMs, source: 'sip-info' }); }
  }

  /** Records caller (left) and agent (right) as a stereo 16-bit WAV at the call's rate. */
  async startRecording(path: string): Promise<void> {
    this.#assertOpen();
    if (this.#recorder) throw new MediaError('RECORDING', 'already recording');
    const rate = this.#codec?.pcmRate ?? 8000;
    const w = new WavWriter(path, rate, 2);
    this.#recorder = w;
    try { await w.start(); } catch (err) { this.#recorder = null; throw err; }
  }

  async stopRecording(): Promise<void> {
    const w = this.#recorder;
    this.#recorder = null;
    this.#recQueue = [];
    if (w) await w.close();
  }

  getStats(): MediaStats {
    return {
      packetsIn: this.#c.packetsIn, packetsOut: this.#c.packetsOut, bytesIn: this.#c.bytesIn, bytesOut: this.#c.bytesOut,
      packetsLost: this.#recvStats.cumulativeLost,
      fractionLost: this.#fractionLost,
      jitterMs: Math.round(this.#recvStats.jitterMs * 100) / 100,
      jitterBuffer: this.#jb.stats(),
      remoteReport: this.#remoteReport,
      dtmfIn: this.#c.dtmfIn, dtmfOut: this.#c.dtmfOut, comfortNoise: this.#c.comfortNoise, malformed: this.#c.malformed,
      wrongPayloadType: this.#c.wrongPayloadType, foreignSource: this.#c.foreignSource, beforeRemote: this.#c.beforeRemote,
      ssrcChanges: this.#c.ssrcChanges, rtcpIn: this.#c.rtcpIn, rtcpOut: this.#c.rtcpOut,
      lateWakeups: this.#c.lateWakeups, skippedTicks: this.#c.skippedTicks,
      playoutQueueMs: Math.round(this.#playout.queuedMs),
      latchedTo: this.#latched && this.#rtpDest ? { ...this.#rtpDest } : null,
    };
  }

  /** Idempotent: sends RTCP BYE, stops recording, closes sockets, releases the ports. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      this.#removeTick?.();
      this.#removeTick = null;
      if (this.#rtcpDest && this.#remote) {
        const bye = Buffer.concat([this.#buildReport(), buildBye(this.#ssrc)]);
        await new Promise<void>((r) => this.#d.rtcpSocket.send(bye, this.#rtcpDest!.port, this.#rtcpDest!.address, () => r()));
      }
      this.#vad?.close();
      this.#vad = null;
      this.#codec?.close();
      let recErr: unknown = null;
      try { await this.stopRecording(); } catch (err) { recErr = err; }
      await Promise.all([closeSocket(this.#d.rtpSocket), closeSocket(this.#d.rtcpSocket)]);
      this.#d.onClosed(this);
      this.#emit({ type: 'closed' });
      if (recErr) throw recErr;
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------- receive

  #onRtpDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closed) return;
    this.#c.bytesIn += msg.length;
    if (isRtcpPacket(msg)) { this.#onRtcpDatagram(msg, rinfo, true); return; }
    const r = parseRtp(msg);
    if (!r.ok) { this.#c.malformed++; return; }
    const p = r.packet;
    const remote = this.#remote;
    const codec = this.#codec;
    if (!remote || !codec) { this.#c.beforeRemote++; return; }
    const isAudio = p.payloadType === remote.codec.payloadType;
    const isDtmf = remote.telephoneEventPt !== undefined && p.payloadType === remote.telephoneEventPt;
    const isCn = p.payloadType === CN_PT;
    if (!isAudio && !isDtmf && !isCn) { this.#c.wrongPayloadType++; return; }
    // Symmetric RTP: latch to the first valid source, ignore everyone else afterwards.
    if (this.#latched) {
      if (rinfo.address !== this.#rtpDest!.address || rinfo.port !== this.#rtpDest!.port) { this.#c.foreignSource++; return; }
    } else {
      this.#latched = true;
      const changed = !this.#rtpDest || this.#rtpDest.address !== rinfo.address || this.#rtpDest.port !== rinfo.port;
      this.#rtpDest = { address: rinfo.address, port: rinfo.port };
      if (!this.#rtcpLatched && changed) this.#rtcpDest = { address: rinfo.address, port: rinfo.port + 1 };
      this.#emit({ type: 'latched', address: rinfo.address, port: rinfo.port });
    }
    const now = this.#d.clock.time.now();
    if (this.#remoteSsrc !== p.ssrc) {
      if (this.#remoteSsrc !== null) {
        this.#c.ssrcChanges++;
        this.#recvStats.reset();
        this.#jb.reset();
        this.#dtmfRx.reset();
        this.#plc.reset();
      }
      this.#remoteSsrc = p.ssrc;
    }
    this.#c.packetsIn++;
    this.#lastActivity = now;
    this.#timedOut = false;
    const { extSeq } = this.#recvStats.update(p.sequenceNumber, p.timestamp, now);
    if (extSeq < 0) return; // a jump in sequence numbers, waiting for a second packet to confirm it
    if (isDtmf) {
      const te = parseTelephoneEvent(p.payload);
      if (!te) { this.#c.malformed++; return; }
      for (const d of this.#dtmfRx.push(p.timestamp, te, now)) {
        this.#c.dtmfIn++;
        this.#emit({ type: 'dtmf', digit: d.digit, durationMs: d.durationMs, source: 'rfc4733' });
      }
      // Keep the sequence space contiguous for the jitter buffer: an event packet plays as silence.
      this.#jb.push({ seq: extSeq, timestamp: p.timestamp, marker: p.marker, payload: new Uint8Array(0), arrival: now });
      return;
    }
    if (isCn) {
      this.#c.comfortNoise++;
      this.#jb.push({ seq: extSeq, timestamp: p.timestamp, marker: p.marker, payload: new Uint8Array(0), arrival: now });
      return;
    }
    if (p.payload.length === 0) { this.#c.malformed++; return; }
    this.#jb.push({ seq: extSeq, timestamp: p.timestamp, marker: p.marker, payload: p.payload, arrival: now });
    this.#receivedAudio = true;
  }

  #onRtcpDatagram(msg: Buffer, rinfo: RemoteInfo, muxed: boolean): void {
    if (this.#closed) return;
    if (!muxed) this.#c.bytesIn += msg.length;
    const pkts = parseRtcp(msg);
    if (!pkts) { this.#c.malformed++; return; }
    this.#c.rtcpIn++;
    if (!muxed && !this.#rtcpLatched) {
      this.#rtcpLatched = true;
      this.#rtcpDest = { address: rinfo.address, port: rinfo.port };
    }
    const nowMs = Date.now();
    for (const p of pkts) {
      if (p.type === 'sr') this.#lastSrFromRemote = { middle: ntpMiddle(p.sender.ntpSec, p.sender.ntpFrac), at: nowMs };
      if (p.type === 'sr' || p.type === 'rr') {
        const block = p.reports.find((b) => b.ssrc === this.#ssrc);
        if (block) {
          let rttMs: number | null = null;
          if (block.lastSr !== 0) {
            const n = ntpNow(nowMs);
            const a = ntpMiddle(n.sec, n.frac);
            // Signed: on loopback the true RTT is ~0 and ms-granular clocks can make it slightly negative.
            const rtt = ((a - block.lastSr - block.delaySinceLastSr) | 0) / 65536;
            if (rtt < 60) rttMs = Math.max(0, Math.round(rtt * 10000) / 10);
          }
          const cr = this.#codec?.clockRate ?? 8000;
          this.#remoteReport = {
            fractionLost: block.fractionLost / 256, cumulativeLost: block.cumulativeLost,
            jitterMs: Math.round(((block.jitter * 1000) / cr) * 100) / 100, rttMs,
          };
        }
      }
    }
  }

  // ---------------------------------------------------------------- tick

  /** Send phase: build and send this tick's packet; events are emitted in the work phase. */
  #onSendTick(t: ClockTick): void {
    if (this.#closed) return;
    const ctl = this.#d.control;
    if (!ctl) { this.#agentFrame = this.#sendTick(t); return; }
    ctl.lock();
    try {
      this.#playout.dropUpTo(ctl.clearUpTo);
      const armed = ctl.armedRun;
      if (armed !== 0 && armed === this.#run && this.#runActive && t.now - this.#runOnsetArrival >= ctl.armedAfterMs) ctl.mute();
      this.#agentFrame = this.#sendTick(t, ctl.muted);
      const p = this.#playout;
      ctl.publish(p.finishedUpTo, p.head, p.headPlayedMs);
    } finally {
      ctl.unlock();
    }
  }

  #onTick(t: ClockTick): void {
    if (this.#closed) return;
    this.#ticks++;
    if (t.skipped > 0) { this.#c.skippedTicks += t.skipped; this.#c.lateWakeups++; }
    else if (t.now - t.deadline > 2) this.#c.lateWakeups++;
    // One caller frame per tick; when packets piled up (a burst after a stall, here or in the
    // network), up to two extra frames that are really buffered are delivered at once, so the
    // STT and VAD lose nothing and the delay shrinks back instead of frames being dropped.
    const callerFrames: Int16Array[] = [];
    const first = this.#receiveTick(t, false);
    if (first) callerFrames.push(first);
    for (let extra = 0; extra < 2 && this.#jb.excessFrames > 0; extra++) {
      const c = this.#receiveTick(t, true);
      if (!c) break;
      callerFrames.push(c);
    }
    if (this.#recorder && this.#codec) {
      // Wall-clock aligned: one stereo frame per elapsed tick (skipped ticks included); caller
      // frames queue up so bursts are not lost; the agent channel carries what was sent.
      this.#recQueue.push(...callerFrames);
      const ticks = 1 + Math.min(t.skipped, 50);
      for (let k = 0; k < ticks; k++) this.#record(this.#recQueue.shift() ?? null, k === ticks - 1 ? this.#agentFrame : null);
      if (this.#recQueue.length > 50) this.#recQueue.splice(0, this.#recQueue.length - 50);
    }
    this.#agentFrame = null;
    for (const done of this.#finished) this.#emit({ type: 'played', id: done.id, playedMs: done.playedMs });
    if (this.#finished.length) this.#finished = [];
    this.#housekeeping(t);
  }

  /** One caller frame. `onlyBuffered`: take it only if it is really there (no concealment). */
  #receiveTick(t: ClockTick, onlyBuffered: boolean): Int16Array | null {
    const codec = this.#codec;
    const remote = this.#remote;
    if (!codec || !remote) return null;
    const n = codec.frameSamples;
    let arrival: number | null = null;
    while (this.#fifo.samples < n) {
      if (onlyBuffered && !this.#jb.hasNext) return null;
      const r = this.#jb.pop(t.now);
      if (r.type === 'idle') break;
      if (r.type === 'packet') {
        arrival ??= r.packet.arrival;
        const payload = r.packet.payload;
        if (payload.length === 0) {
          const silence = this.#plc.good(new Int16Array(n));
          this.#fifo.push(silence, codec.g711 ? codec.encode(silence) : null, false);
          continue;
        }
        const decoded = codec.decode(payload);
        if (decoded) {
          const pcm = this.#plc.good(decoded);
          // After a loss the first frame is cross-faded: its G.711 octets are re-encoded to match.
          this.#fifo.push(pcm, codec.g711 ? (pcm === decoded ? payload : codec.encode(pcm)) : null, false);
          continue;
        }
        this.#c.malformed++;
      }
      const plc = this.#plc.conceal(n);
      this.#fifo.push(plc, codec.g711 ? codec.encode(plc) : null, true);
    }
    const receiving = expectsReceiveFor(remote.direction, this.#localDirection);
    if (this.#fifo.samples >= n) {
      const f = this.#fifo.take(n, codec.g711);
      const atMs = this.#callerMs;
      this.#callerMs += 20;
      this.#emit({ type: 'audio', codec: codec.name, sampleRate: codec.pcmRate, encoded: f.encoded, pcm: f.pcm, atMs, concealed: f.concealed });
      this.#vad?.push(f.pcm); // push() copies what it keeps (VadStream contract)
      if (this.#vad) this.#onset.push(atMs, f.pcm, arrival ?? t.now);
      return f.pcm;
    }
    if (!onlyBuffered && receiving && this.#receivedAudio && this.#vad) {
      // The far end stopped sending (silence suppression): let the detector see the silence.
      this.#onset.push(this.#callerMs, null, t.now);
      this.#callerMs += 20;
      this.#vad.push(new Int16Array(n));
    }
    return null;
  }

  #sendTick(t: ClockTick, muted = false): Int16Array | null {
    const codec = this.#codec;
    const remote = this.#remote;
    const dest = this.#rtpDest;
    if (!codec || !remote || !dest || !canSendFor(remote.direction, this.#localDirection)) {
      this.#marker = true;
      return null;
    }
    if (this.#tickBase === null) this.#tickBase = t.index;
    const ts = (this.#tsBase + (t.index - this.#tickBase) * codec.frameTicks) >>> 0;
    if (this.#dtmfTx.active && remote.telephoneEventPt !== undefined) {
      const dt = this.#dtmfTx.next(ts, codec.frameTicks, codec.clockRate);
      if (dt) {
        this.#sendRtp(remote.telephoneEventPt, dt.marker, dt.timestamp, dt.payload, dest);
        if ((dt.payload[1]! & 0x80) !== 0) this.#dtmfEndSeen(dt.timestamp);
        this.#marker = true;
        return null;
      }
    }
    const f = muted ? this.#playout.silence(codec.frameSamples) : this.#playout.take(codec.frameSamples);
    let payload: Uint8Array;
    let pcm: Int16Array | null = null;
    if (f.g711) {
      payload = f.g711;
      if (this.#recorder) pcm = Playout.g711ToPcm(codec.name, f.g711);
    } else {
      pcm = f.pcm!;
      payload = codec.encode(pcm);
    }
    this.#sendRtp(remote.codec.payloadType, this.#marker, ts, payload, dest);
    this.#marker = false;
    if (f.finished.length) this.#finished.push(...f.finished);
    return pcm;
  }

  #lastDtmfEndTs = -1;
  #dtmfEndSeen(ts: number): void {
    if (ts !== this.#lastDtmfEndTs) { this.#lastDtmfEndTs = ts; this.#c.dtmfOut++; }
  }

  #sendRtp(pt: number, marker: boolean, ts: number, payload: Uint8Array, dest: { address: string; port: number }): void {
    const buf = buildRtp({ payloadType: pt, marker, sequenceNumber: this.#seq, timestamp: ts, ssrc: this.#ssrc, payload });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#d.rtpSocket.send(buf, dest.port, dest.address);
    this.#c.packetsOut++;
    this.#c.bytesOut += buf.length;
    this.#octetsOut += payload.length;
    this.#lastRtpTs = ts;
    this.#sentSinceReport = true;
  }

  #record(caller: Int16Array | null, agent: Int16Array | null): void {
    const w = this.#recorder!;
    const codec = this.#codec!;
    const n = codec.frameSamples;
    let left = caller ?? new Int16Array(n);
    let right = agent ?? new Int16Array(n);
    if (w.sampleRate !== codec.pcmRate) {
      left = this.#d.resampler.resample(left, codec.pcmRate, w.sampleRate);
      right = this.#d.resampler.resample(right, codec.pcmRate, w.sampleRate);
    }
    const m = Math.min(left.length, right.length);
    const inter = new Int16Array(m * 2);
    for (let i = 0; i < m; i++) { inter[2 * i] = left[i]!; inter[2 * i + 1] = right[i]!; }
    w.write(inter);
  }

  #housekeeping(t: ClockTick): void {
    const remote = this.#remote;
    const frameMs = this.#d.clock.frameMs;
    if (remote && expectsReceiveFor(remote.direction, this.#localDirection) && remote.direction === 'sendrecv' && this.#localDirection === 'sendrecv') {
      const silent = t.now - this.#lastActivity;
      if (!this.#timedOut && silent >= this.#d.rtpTimeoutMs) {
        this.#timedOut = true;
        this.#emit({ type: 'timeout', silentMs: Math.round(silent) });
      }
    } else {
      this.#lastActivity = t.now; // on hold: silence is expected
    }
    const pending = this.#dtmfRx.flush(t.now);
    if (pending) { this.#c.dtmfIn++; this.#emit({ type: 'dtmf', digit: pending.digit, durationMs: pending.durationMs, source: 'rfc4733' }); }
    const statsEvery = Math.max(1, Math.round(this.#d.statsIntervalMs / frameMs));
    if (this.#ticks % statsEvery === 0) this.#emit({ type: 'stats', stats: this.getStats() });
    const rtcpEvery = Math.max(1, Math.round(this.#d.rtcpIntervalMs / frameMs));
    if (this.#ticks % rtcpEvery === 0 && remote && this.#rtcpDest) {
      const buf = this.#buildReport();
      this.#d.rtcpSocket.send(buf, this.#rtcpDest.port, this.#rtcpDest.address);
      this.#c.rtcpOut++;
    }
  }

  #buildReport(): Buffer {
    const reports: ReportBlock[] = [];
    if (this.#remoteSsrc !== null && this.#recvStats.started) {
      this.#fractionLost = this.#recvStats.takeFractionLost() / 256;
      let lastSr = 0, dlsr = 0;
      if (this.#lastSrFromRemote) {
        lastSr = this.#lastSrFromRemote.middle;
        dlsr = Math.round(((Date.now() - this.#lastSrFromRemote.at) / 1000) * 65536);
      }
      reports.push({
        ssrc: this.#remoteSsrc, fractionLost: Math.round(this.#fractionLost * 256), cumulativeLost: this.#recvStats.cumulativeLost,
        highestSeq: this.#recvStats.extendedMax, jitter: this.#recvStats.jitter, lastSr, delaySinceLastSr: dlsr,
      });
    }
    let head: Buffer;
    if (this.#sentSinceReport) {
      const n = ntpNow();
      this.#lastSrNtpMiddle = ntpMiddle(n.sec, n.frac);
      head = buildSenderReport(this.#ssrc, { ntpSec: n.sec, ntpFrac: n.frac, rtpTimestamp: this.#lastRtpTs, packetCount: this.#c.packetsOut, octetCount: this.#octetsOut }, reports);
      this.#sentSinceReport = false;
    } else {
      head = buildReceiverReport(this.#ssrc, reports);
    }
    return Buffer.concat([head, buildSdes(this.#ssrc, this.#cname)]);
  }

  // ---------------------------------------------------------------- vad

  #setupVad(): void {
    const engine = this.#d.vad;
    const codec = this.#codec;
    if (!engine || !codec) return;
    if (this.#vad && this.#vadRate === codec.pcmRate) return;
    this.#vad?.close();
    this.#vadRate = codec.pcmRate;
    this.#vadBaseMs = this.#callerMs;
    const stream = engine.createStream({ sampleRate: codec.pcmRate, ...this.#d.vadConfig });
    const base = this.#vadBaseMs;
    stream.onEvent = (ev: VadEvent) => {
      if (this.#closed || this.#vad !== stream) return;
      if (ev.type === 'speech-start') {
        const onset = this.#onset.refine(base + ev.atMs);
        // How much of this speech the engine already has: from the onset packet's arrival at the
        // socket (jitter buffer, VAD minimum and inference included), else estimated.
        const now = this.#d.clock.time.now();
        const since = Math.max(0, onset.arrival !== null ? now - onset.arrival : this.#callerMs - onset.atMs + this.#jb.delayMs);
        this.#run++;
        this.#runActive = true;
        this.#runOnsetArrival = now - since;
        this.#emit({ type: 'speech-start', atMs: onset.atMs, sinceOnsetMs: Math.round(since * 10) / 10, run: this.#run });
      }
      else if (ev.type === 'speech-end') {
        this.#runActive = false;
        this.#emit({ type: 'speech-end', atMs: base + ev.atMs, speechMs: ev.speechMs });
      }
    };
    this.#vad = stream;
  }

  // ---------------------------------------------------------------- misc

  #emit(ev: MediaEvent): void { this.#hub.emit(ev); }

  #assertOpen(): void {
    if (this.#closed) throw new MediaError('CLOSED', `media session ${this.id} is closed`);
    if (!this.#started) throw new MediaError('NOT_STARTED', `media session ${this.id} is not started`);
  }
}

function closeSocket(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    try { s.close(() => resolve()); } catch { resolve(); }
  });
}
