/**
 * The test caller: a SIP UAC + RTP speaker/listener built on our own `sip/` and `media/` stacks.
 * It places a real call, streams speech with realistic pauses, listens to the other side, detects
 * the onset and end of its speech, and reports a timeline. Used by the e2e scenarios, the demo
 * and the benchmarks. See test/e2e/lib/README.md for the timing model and the rules.
 *
 *   const caller = await TestCaller.start();
 *   const call = await caller.dial({ host: '127.0.0.1', port: enginePort, to: '+31850835037' });
 *   await call.waitForAgentSpeech({ timeoutMs: 5000 });          // the greeting
 *   await call.waitForAgentSilence({ silenceMs: 800 });
 *   call.sayText('What time do you open tomorrow?');
 *   await call.idle();
 *   await call.waitForAgentSpeech();
 *   console.log(formatTimeline(call.timeline()));
 *   await call.hangup();
 *   await caller.close();
 */
import { performance } from 'node:perf_hooks';
import { CallFailedError, SipError, SipStack } from '../../sip/index.js';
import type { CallProgress, DialogCloseReason, IncomingCall, LocalMedia, NegotiatedMedia, Dialog, CodecCapability as SipCodec } from '../../sip/index.js';
import { CODEC_CAPABILITIES, MediaEngine, Resampler, isPcmRate, normalizeCodecName, pcmRateOf } from '../../media/index.js';
import type { AudioCodecName, ClockStats, ClockTick, MediaEvent, MediaSession, MediaStats, RemoteDescription } from '../../media/index.js';
import { noiseBurst, renderText, silence as silentPcm } from './lib/audio.js';
import type { NoiseOptions, Pcm, RenderOptions } from './lib/audio.js';
import { SpeechDetector, speechFrames } from './lib/detector.js';
import type { DetectorOptions } from './lib/detector.js';
import { CallerError } from './lib/errors.js';
import { round1 } from './lib/timeline.js';
import type { ClipKind, HangupBy, TimelineEvent } from './lib/timeline.js';

export { CallerError } from './lib/errors.js';
export type { CallerErrorCode } from './lib/errors.js';
export { SpeechDetector, frameDbfs, speechFrames } from './lib/detector.js';
export type { DetectorOptions, DetectorEvent, SpeechSegment } from './lib/detector.js';
export { renderText, loadWav, loadFixtureClip, fixtureClips, noiseBurst, trimSilence, writeWav } from './lib/audio.js';
export type { Pcm, RenderOptions, NoiseOptions } from './lib/audio.js';
export { formatTimeline, responseLatencies, bargeIns, agentSegments, summarize } from './lib/timeline.js';
export type { TimelineEvent, TimelineEventType, HangupBy, ClipKind, ResponseLatency, BargeIn, Summary } from './lib/timeline.js';

const FRAME_MS = 20;

export interface TestCallerOptions {
  /** RTP port range. Default: a random 400-port range inside 40000-60000. */
  readonly portMin?: number;
  readonly portMax?: number;
  /** Address the SIP and RTP sockets bind to. Default 127.0.0.1. */
  readonly host?: string;
  /** SIP port. Default 0 (any free port). */
  readonly sipPort?: number;
  /** Log every SIP message to the console. */
  readonly trace?: boolean;
  /** Default render options for `sayText` (voice, speed, cache dir). */
  readonly render?: Omit<RenderOptions, 'sampleRate'>;
}

/** Options every call has, placed or answered. */
export interface CallOptions {
  /** Record the call as a stereo WAV: left = what we received (the agent), right = what we sent. */
  readonly recordTo?: string;
  /** Keep every received frame in memory (`receivedAudio()`). Default false. */
  readonly keepAudio?: boolean;
  /** Listener tuning (threshold, hangover...). */
  readonly detector?: DetectorOptions;
}

export interface DialOptions extends CallOptions {
  readonly host: string;
  readonly port: number;
  readonly transport?: 'udp' | 'tcp';
  /** Number or SIP URI to call. */
  readonly to: string;
  /** Our number (From user). Default '+31612345678'. */
  readonly from?: string;
  readonly display?: string;
  /** Offered codecs in order of preference. Default ['PCMU', 'PCMA']. */
  readonly codecs?: readonly AudioCodecName[];
  /** Offer RFC 4733 telephone-event. Default true. */
  readonly telephoneEvent?: boolean;
  /** Extra INVITE headers. */
  readonly headers?: Record<string, string>;
  /** Digest credentials if the target challenges. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** CANCEL after this long without an answer. Default 30 s. */
  readonly ringTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** For `answerNext()`: the engine calls us (outbound calls, voicemail, transfer targets). */
export interface AnswerOptions extends CallOptions {
  /** Accepted codecs in order of preference. Default ['PCMU', 'PCMA']. */
  readonly codecs?: readonly AudioCodecName[];
  /** Accept RFC 4733 telephone-event. Default true. */
  readonly telephoneEvent?: boolean;
  /** Send 180 Ringing and let it ring this long before the 200 OK. Default 0 (no 180). */
  readonly ringMs?: number;
  /** How long to wait for the INVITE. Default 30 s. */
  readonly timeoutMs?: number;
}

/** Who called us (answerNext / rejectNext). */
export interface IncomingInfo {
  readonly callId: string;
  /** E.164 numbers when the users are numbers, else the raw user parts. */
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly headers: (name: string) => string | undefined;
}

/** What happened to one queued clip. Times on the call clock (ms since the answer). */
export interface SentClip {
  readonly label: string;
  readonly kind: ClipKind | 'silence';
  /** Length of the clip as queued (whole 20 ms frames). */
  readonly durationMs: number;
  /** First / last packet of the clip handed to the socket; null if none was sent. */
  readonly startMs: number | null;
  readonly endMs: number | null;
  /** First / last packet that carried speech (or noise); null if none was sent. */
  readonly speechStartMs: number | null;
  readonly speechEndMs: number | null;
  /** False when the clip was stopped (stopSpeaking, hangup) before its last packet. */
  readonly completed: boolean;
}

/** An agent speech segment on the call clock. `endMs` is null while it is still going on. */
export interface AgentSpeech {
  readonly startMs: number;
  readonly endMs: number | null;
}

export interface CallEnd {
  readonly by: HangupBy;
  readonly reason: DialogCloseReason;
  /** On the call clock. */
  readonly ms: number;
}

function randomPortRange(): { portMin: number; portMax: number } {
  const base = 40000 + 2 * Math.floor(Math.random() * 9800);
  return { portMin: base, portMax: base + 399 };
}

function remoteFrom(m: NegotiatedMedia): RemoteDescription {
  return {
    address: m.remoteAddress, port: m.remotePort,
    codec: { name: m.codec.name, payloadType: m.codec.payloadType, clockRate: m.codec.clockRate, ...(m.codec.channels ? { channels: m.codec.channels } : {}) },
    ...(m.telephoneEvent ? { telephoneEventPt: m.telephoneEvent.payloadType } : {}),
    direction: m.remoteDirection, localDirection: m.localDirection,
  };
}

function offeredCodecs(names: readonly AudioCodecName[]): SipCodec[] {
  const out: SipCodec[] = [];
  for (const name of names) {
    const c = CODEC_CAPABILITIES.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!c) throw new CallerError('BAD_AUDIO', `unknown codec ${name}`);
    out.push({ name: c.name, clockRate: c.clockRate, channels: c.channels, payloadType: c.payloadType, ...(c.fmtp ? { fmtp: c.fmtp } : {}) });
  }
  return out;
}

/** One SIP stack + one media engine; places any number of calls. */
export class TestCaller {
  readonly #opts: TestCallerOptions;
  readonly #stack: SipStack;
  readonly #engine: MediaEngine;
  readonly #resampler: Resampler;
  readonly #calls = new Set<TestCall>();
  /** INVITEs nobody claimed yet (they ring until claimed, cancelled or close()). */
  readonly #unclaimed: IncomingCall[] = [];
  readonly #claimers: ((c: IncomingCall) => void)[] = [];
  #closing: Promise<void> | null = null;

  private constructor(opts: TestCallerOptions, stack: SipStack, engine: MediaEngine, resampler: Resampler) {
    this.#opts = opts;
    this.#stack = stack;
    this.#engine = engine;
    this.#resampler = resampler;
  }

  #onIncoming(c: IncomingCall): void {
    if (this.#closing) { c.reject(480); return; }
    c.on('cancelled', () => {
      const i = this.#unclaimed.indexOf(c);
      if (i >= 0) this.#unclaimed.splice(i, 1);
    });
    const claim = this.#claimers.shift();
    if (claim) claim(c); else this.#unclaimed.push(c);
  }

  #nextIncoming(timeoutMs: number): Promise<IncomingCall> {
    if (this.#closing) return Promise.reject(new CallerError('CLOSED', 'test caller closed'));
    const ready = this.#unclaimed.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const claim = (c: IncomingCall): void => { clearTimeout(timer); resolve(c); };
      const timer = setTimeout(() => {
        const i = this.#claimers.indexOf(claim);
        if (i >= 0) this.#claimers.splice(i, 1);
        reject(new CallerError('TIMEOUT', `no INVITE within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#claimers.push(claim);
    });
  }

  /** Starts the SIP stack (UDP+TCP on host:sipPort) and the media engine (no VAD). */
  static async start(opts: TestCallerOptions = {}): Promise<TestCaller> {
    const host = opts.host ?? '127.0.0.1';
    let self: TestCaller | null = null;
    const early: IncomingCall[] = [];
    const stack = new SipStack({
      host, port: opts.sipPort ?? 0, userAgent: 'voice-engine-test-caller', ...(opts.trace ? { trace: true } : {}),
      onCall: (c) => { if (self) self.#onIncoming(c); else early.push(c); },
    });
    const engine = new MediaEngine();
    let resampler: Resampler | null = null;
    try {
      await stack.start();
      const range = opts.portMin !== undefined && opts.portMax !== undefined ? { portMin: opts.portMin, portMax: opts.portMax } : randomPortRange();
      await engine.start({ ...range, bindAddress: host, jitter: { minDelayMs: 20, initialDelayMs: 40, maxDelayMs: 200 } });
      resampler = await Resampler.load({ quality: 1 });
    } catch (err) {
      await Promise.allSettled([stack.close(), engine.close()]);
      throw err;
    }
    self = new TestCaller(opts, stack, engine, resampler);
    for (const c of early) self.#onIncoming(c);
    return self;
  }

  /** The SIP port we listen on (UDP). */
  get sipPort(): number { return this.#stack.port('udp'); }
  get stack(): SipStack { return this.#stack; }
  /** Calls not yet ended. */
  get calls(): readonly TestCall[] { return [...this.#calls]; }
  /** The callers' shared media clock: late wake-ups show whether this process kept real time. */
  get clockStats(): ClockStats { return this.#engine.stats().clock; }

  /**
   * Places a call and resolves once it is answered (200 OK), with media set up. Rejects with the
   * SIP layer's `CallFailedError` (busy, no_answer, rejected, failed_to_connect, cancelled) or
   * `CallerError('NO_MEDIA')`.
   */
  async dial(opts: DialOptions): Promise<TestCall> {
    if (this.#closing) throw new CallerError('CLOSED', 'test caller closed');
    const session = await this.#engine.createSession({ vad: false, id: `test-caller-${Math.random().toString(36).slice(2, 10)}` });
    const call = new TestCall({
      session, clockAdd: (fn) => this.#engine.clock.add(fn), resampler: this.#resampler,
      render: this.#opts.render ?? {}, opts, direction: 'outbound',
      onEnded: (c) => this.#calls.delete(c),
    });
    const media = this.#localMedia(session, opts.codecs, opts.telephoneEvent);
    const inviteAt = performance.now();
    call.noteInvite(inviteAt, opts.to);
    let dialog: Dialog;
    try {
      dialog = await this.#stack.placeCall({
        trunk: {
          host: opts.host, port: opts.port, transport: opts.transport ?? 'udp',
          ...(opts.auth ? { username: opts.auth.username, password: opts.auth.password } : {}),
        },
        to: opts.to,
        from: { user: opts.from ?? '+31612345678', ...(opts.display ? { display: opts.display } : {}) },
        media,
        ...(opts.headers ? { headers: opts.headers } : {}),
        ringTimeoutMs: opts.ringTimeoutMs ?? 30_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (p) => call.noteProgress(p),
      });
    } catch (err) {
      await session.close();
      throw err;
    }
    this.#calls.add(call);
    await call.answered(dialog);
    return call;
  }

  /**
   * Answers the next INVITE sent to this caller's SIP port (already ringing, or within
   * `timeoutMs`): optional 180 and ring time, then 200 OK with our media; resolves once the ACK
   * came. The returned TestCall works exactly like a dialled one ("agent" = the far end).
   * Rejects with CallFailedError('cancelled') when the far end cancels while it rings.
   */
  async answerNext(opts: AnswerOptions = {}): Promise<TestCall> {
    const incoming = await this.#nextIncoming(opts.timeoutMs ?? 30_000);
    const session = await this.#engine.createSession({ vad: false, id: `test-callee-${Math.random().toString(36).slice(2, 10)}` });
    const call = new TestCall({
      session, clockAdd: (fn) => this.#engine.clock.add(fn), resampler: this.#resampler,
      render: this.#opts.render ?? {}, opts, direction: 'inbound',
      onEnded: (c) => this.#calls.delete(c),
    });
    call.noteIncoming(incoming);
    let dialog: Dialog;
    try {
      if ((opts.ringMs ?? 0) > 0) {
        incoming.progress({ status: 180 });
        call.noteSentProgress(180, 'Ringing');
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => { off(); resolve(); }, opts.ringMs);
          const off = incoming.on('cancelled', () => { clearTimeout(timer); reject(new CallFailedError('cancelled')); });
        });
      }
      dialog = await incoming.answer({ media: this.#localMedia(session, opts.codecs, opts.telephoneEvent) });
    } catch (err) {
      await session.close();
      throw err;
    }
    this.#calls.add(call);
    await call.answered(dialog);
    return call;
  }

  /** Rejects the next INVITE with `status` (486 busy, 603 decline, 480 unavailable...). */
  async rejectNext(status: number, opts: { timeoutMs?: number } = {}): Promise<IncomingInfo> {
    const incoming = await this.#nextIncoming(opts.timeoutMs ?? 30_000);
    incoming.reject(status);
    return incomingInfo(incoming);
  }

  #localMedia(session: MediaSession, codecs: readonly AudioCodecName[] | undefined, telephoneEvent: boolean | undefined): LocalMedia {
    return {
      address: session.localAddress === '0.0.0.0' ? '127.0.0.1' : session.localAddress,
      port: session.rtpPort,
      codecs: offeredCodecs(codecs ?? ['PCMU', 'PCMA']),
      telephoneEvent: telephoneEvent ?? true,
      ptime: FRAME_MS,
    };
  }

  /** Hangs up every live call, then closes SIP and media. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      for (const c of this.#unclaimed.splice(0)) { try { c.reject(480); } catch { /* already gone */ } }
      await Promise.allSettled([...this.#calls].map((c) => c.hangup()));
      await this.#stack.close();
      await this.#engine.close();
      this.#resampler.close();
    })();
    return this.#closing;
  }
}

interface CallDeps {
  readonly session: MediaSession;
  readonly clockAdd: (fn: (t: ClockTick) => void) => () => void;
  readonly resampler: Resampler;
  readonly render: Omit<RenderOptions, 'sampleRate'>;
  readonly opts: CallOptions;
  readonly direction: 'outbound' | 'inbound';
  readonly onEnded: (call: TestCall) => void;
}

function incomingInfo(c: IncomingCall): IncomingInfo {
  const user = (uri: string): string | undefined => /^sips?:([^@;?]+)@/i.exec(uri)?.[1];
  return {
    callId: c.callId,
    from: c.callingNumber ?? user(c.from.uri),
    to: c.calledNumber ?? c.dialledUser,
    headers: (name) => c.request.headers.get(name.toLowerCase()) ?? undefined,
  };
}

interface QueueItem {
  readonly label: string;
  readonly kind: ClipKind | 'silence';
  /** At the call rate, padded to whole frames; null while rendering. */
  pcm: Int16Array | null;
  frames: number;
  speech: { first: number; last: number } | null;
  next: number;
  startAt: number | null;
  lastSentAt: number | null;
  speechStartAt: number | null;
  speechEndAt: number | null;
  readonly resolve: (c: SentClip) => void;
  readonly reject: (err: unknown) => void;
}

interface Waiter {
  /** Returns true when satisfied (and has resolved). */
  check(): boolean;
  fail(err: unknown): void;
}

type AbsEvent = TimelineEvent; // internally `ms` holds absolute performance.now() milliseconds

/**
 * One call placed by a TestCaller. The outgoing stream is a queue (say/sayText/silence/noiseBurst
 * play one after the other); one 20 ms frame is handed to the media session per tick, so the send
 * time of every packet is known exactly. Everything received goes through a `SpeechDetector`.
 */
export class TestCall {
  readonly #d: CallDeps;
  readonly #session: MediaSession;
  readonly #detector: SpeechDetector;
  #dialog: Dialog | null = null;
  #origin = 0;
  #inviteAt = 0;
  #rate: 8000 | 16000 = 8000;
  #frameSamples = 160;
  #codec = '';
  #events: AbsEvent[] = [];
  #queue: QueueItem[] = [];
  #inFlight: { item: QueueItem; index: number } | null = null;
  #waiters = new Set<Waiter>();
  #removeTick: (() => void) | null = null;
  #removeMedia: (() => void) | null = null;
  #ended: CallEnd | null = null;
  #closed: Promise<CallEnd>;
  #resolveClosed!: (e: CallEnd) => void;
  #hold = 0;
  #lastPlayed = 0;
  #lastDelay = 0;
  #heardUntil = 0;
  #lastFrameAt = 0;
  #received: Int16Array[] = [];
  #clipSeq = 0;
  #renderError: unknown = null;
  #incoming: IncomingInfo | null = null;

  /** @internal Created by TestCaller.dial(). */
  constructor(deps: CallDeps) {
    this.#d = deps;
    this.#session = deps.session;
    this.#detector = new SpeechDetector(deps.opts.detector);
    this.#closed = new Promise((r) => { this.#resolveClosed = r; });
    this.#removeMedia = this.#session.on((ev) => this.#onMedia(ev));
  }

  // ------------------------------------------------------------------ set-up (TestCaller only)

  /** @internal */
  noteInvite(at: number, to: string): void {
    this.#inviteAt = at;
    this.#origin = at; // until answered, times count from the INVITE
    this.#events.push({ type: 'invite', ms: at, to });
  }

  /** @internal */
  noteIncoming(c: IncomingCall): void {
    const at = performance.now();
    this.#inviteAt = at;
    this.#origin = at;
    this.#incoming = incomingInfo(c);
    this.#events.push({ type: 'incoming', ms: at, from: this.#incoming.from ?? '', to: this.#incoming.to ?? '' });
  }

  /** @internal */
  noteSentProgress(status: number, reason: string): void {
    this.#events.push({ type: 'progress', ms: performance.now(), status, reason });
  }

  /** @internal */
  noteProgress(p: CallProgress): void {
    this.#events.push({ type: 'progress', ms: performance.now(), status: p.status, reason: p.reason });
    if (p.earlyMedia && !this.#dialog) {
      try { this.#applyMedia(p.earlyMedia); } catch { /* early media we cannot play: ignore */ }
    }
  }

  /** @internal */
  async answered(dialog: Dialog): Promise<void> {
    this.#origin = performance.now();
    this.#dialog = dialog;
    const media = dialog.media;
    dialog.on('closed', (e) => { void this.#end(e.reason); });
    dialog.on('dtmf', (e) => this.#events.push({ type: 'dtmf-received', ms: performance.now(), digit: e.digit, source: 'sip-info' }));
    const onRemodel = (e: { media?: NegotiatedMedia; hold: boolean }): void => {
      this.#events.push({ type: 'reinvite', ms: performance.now(), hold: e.hold });
      if (e.media) { try { this.#applyMedia(e.media); } catch { /* keep the old media */ } }
    };
    dialog.on('reinvite', onRemodel);
    dialog.on('update', onRemodel);
    if (!media) {
      this.#events.push({ type: 'answered', ms: this.#origin, codec: 'none' });
      await this.hangup();
      throw new CallerError('NO_MEDIA', 'answered without a usable SDP answer');
    }
    this.#applyMedia(media);
    this.#events.push({ type: 'answered', ms: this.#origin, codec: this.#codec });
    if (this.#d.opts.recordTo) await this.#session.startRecording(this.#d.opts.recordTo);
    this.#removeTick = this.#d.clockAdd((t) => this.#onTick(t));
    if (dialog.state === 'terminated') await this.#end(dialog.closeReason ?? 'remote-bye');
  }

  #applyMedia(m: NegotiatedMedia): void {
    const remote = remoteFrom(m);
    this.#session.setRemote(remote);
    const name = normalizeCodecName(m.codec.name);
    if (!name) throw new CallerError('NO_MEDIA', `unsupported codec ${m.codec.name}`);
    const rate = pcmRateOf(name);
    if (this.#codec && rate !== this.#rate) this.stopSpeaking(); // queued audio was converted for the old rate
    this.#codec = name;
    this.#rate = rate;
    this.#frameSamples = (rate * FRAME_MS) / 1000;
  }

  // ------------------------------------------------------------------ state

  /** The SIP dialog (for REFER, re-INVITE, INFO...). */
  get dialog(): Dialog {
    if (!this.#dialog) throw new CallerError('CLOSED', 'not answered');
    return this.#dialog;
  }
  get session(): MediaSession { return this.#session; }
  /** 'outbound' = we dialled (dial), 'inbound' = we answered (answerNext). */
  get direction(): 'outbound' | 'inbound' { return this.#d.direction; }
  /** For answered calls: who called and which number. */
  get incoming(): IncomingInfo | null { return this.#incoming; }
  /** Negotiated codec name (PCMU, PCMA, G722, opus). */
  get codec(): string { return this.#codec; }
  /** PCM rate of the call (8000 for G.711, 16000 for G.722/Opus). */
  get sampleRate(): 8000 | 16000 { return this.#rate; }
  /** performance.now() of the answer: call-clock 0. */
  get clockOrigin(): number { return this.#origin; }
  /** Milliseconds since the answer. */
  now(): number { return round1(performance.now() - this.#origin); }
  /** Converts a performance.now() time to the call clock. */
  toCallMs(perfMs: number): number { return round1(perfMs - this.#origin); }
  /** Outbound: post-dial delay (INVITE sent → 200 OK). Inbound: INVITE received → ACK received. */
  get setupMs(): number { return round1(this.#origin - this.#inviteAt); }

  /** Agent speech segments (on the call clock). */
  get agentSpeech(): readonly AgentSpeech[] {
    return this.#detector.segments.map((s) => ({ startMs: this.toCallMs(s.startMs), endMs: s.endMs === null ? null : this.toCallMs(s.endMs) }));
  }
  /** True while the agent is speaking (the detector's hangover has not elapsed). */
  get agentSpeaking(): boolean { return this.#detector.speaking; }
  /** Arrival time of the last packet that carried active agent audio, or null. */
  get lastAgentPacketMs(): number | null {
    const t = this.#detector.lastActiveMs;
    return t === null ? null : this.toCallMs(t);
  }
  /** True while one of our clips is between its first and last speech packet. */
  get callerSpeaking(): boolean {
    const it = this.#inFlight?.item ?? this.#queue[0];
    return !!it && it.speechStartAt !== null && it.speechEndAt === null;
  }
  /** Milliseconds of queued audio not yet sent. */
  get queuedMs(): number {
    let frames = 0;
    for (const it of this.#queue) frames += it.pcm ? it.frames - it.next : 0;
    return frames * FRAME_MS;
  }
  get ended(): CallEnd | null { return this.#ended; }
  /** Resolves when the call is over (either side, or a SIP failure) and the media is closed. */
  get closed(): Promise<CallEnd> { return this.#closed; }
  stats(): MediaStats { return this.#session.getStats(); }

  /** Everything received (needs `keepAudio: true`), at the call rate. */
  receivedAudio(): Pcm {
    const n = this.#received.reduce((a, c) => a + c.length, 0);
    const out = new Int16Array(n);
    let o = 0;
    for (const c of this.#received) { out.set(c, o); o += c.length; }
    return { samples: out, sampleRate: this.#rate };
  }

  /** Ordered events (stable by time) on the call clock. */
  timeline(): TimelineEvent[] {
    const list = this.#events.map((e) => this.#toPublic(e));
    return list.map((e, i) => ({ e, i })).sort((a, b) => a.e.ms - b.e.ms || a.i - b.i).map((x) => x.e);
  }

  // ------------------------------------------------------------------ speaking

  /**
   * Queues PCM (any of 8/16/24/48 kHz; resampled to the call rate) on the outgoing stream.
   * Resolves when its last packet was sent, or when it is cut (`completed: false`).
   */
  say(samples: Int16Array, sampleRate: number, opts: { label?: string; kind?: ClipKind } = {}): Promise<SentClip> {
    const { item, done } = this.#enqueue(opts.label ?? `clip-${++this.#clipSeq}`, opts.kind ?? 'speech');
    try { this.#ready(item, samples, sampleRate); } catch (err) { this.#drop(item); item.reject(err); }
    return done;
  }

  /**
   * Queues speech for `text` (fixture clip on an exact match, else espeak-ng + sox, cached). The
   * slot is taken at once, so `sayText(a); silence(500); sayText(b)` keeps its order even while
   * rendering; nothing is sent while the head of the queue is still rendering.
   */
  sayText(text: string, opts: Omit<RenderOptions, 'sampleRate'> & { label?: string } = {}): Promise<SentClip> {
    const { item, done } = this.#enqueue(opts.label ?? text, 'speech');
    const rate = this.#rate;
    renderText(text, { ...this.#d.render, ...opts, sampleRate: rate }).then(
      (pcm) => {
        if (this.#ended || !this.#queue.includes(item)) return;
        try { this.#ready(item, pcm.samples, pcm.sampleRate); } catch (err) { this.#renderError = err; this.#drop(item); item.reject(err); }
      },
      (err: unknown) => { this.#renderError = err; this.#drop(item); item.reject(err); this.#checkWaiters(); },
    );
    return done;
  }

  /** Queues digital silence (a pause between sentences). */
  silence(ms: number): Promise<SentClip> {
    const { item, done } = this.#enqueue(`silence ${ms} ms`, 'silence');
    this.#ready(item, silentPcm(ms, this.#rate), this.#rate);
    return done;
  }

  /** Queues a short broadband noise burst (a cough, a door): timeline events of kind 'noise'. */
  noiseBurst(ms: number, opts: NoiseOptions & { label?: string } = {}): Promise<SentClip> {
    return this.say(noiseBurst(ms, this.#rate, opts), this.#rate, { label: opts.label ?? `noise ${ms} ms`, kind: 'noise' });
  }

  /** Drops everything queued and stops the clip being sent at once (its end event says `cut`). */
  stopSpeaking(): void {
    if (this.#inFlight) {
      this.#session.clear();
      this.#inFlight = null;
    }
    const items = this.#queue.splice(0);
    const now = performance.now();
    for (const it of items) this.#finish(it, false, now);
    this.#checkWaiters();
  }

  /** Resolves when everything queued has been sent (rejects if a sayText failed to render). */
  async idle(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.#wait(opts.timeoutMs ?? 120_000, 'idle', () => {
      if (this.#renderError) throw this.#renderError;
      return this.#queue.length === 0 && !this.#inFlight ? true : undefined;
    }, true);
  }

  // ------------------------------------------------------------------ listening

  /**
   * Resolves with the next agent speech segment: the one going on now, or the next one to start.
   * With `sinceMs` (call clock), the first segment that starts at or after it (past ones count).
   */
  waitForAgentSpeech(opts: { timeoutMs?: number; sinceMs?: number } = {}): Promise<AgentSpeech> {
    const segs = this.#detector.segments;
    const base = this.#detector.speaking ? segs.length - 1 : segs.length;
    const since = opts.sinceMs;
    return this.#wait(opts.timeoutMs ?? 10_000, 'agent speech', () => {
      const all = this.agentSpeech;
      if (since !== undefined) return all.find((s) => s.startMs >= since);
      return all[base];
    });
  }

  /**
   * Resolves once the agent has been silent for `silenceMs` (default 1000) of received audio
   * (from its last speech packet, or from now if it is not speaking), with the last speech time.
   */
  waitForAgentSilence(opts: { silenceMs?: number; timeoutMs?: number } = {}): Promise<{ lastSpeechMs: number | null; ms: number }> {
    const silenceMs = opts.silenceMs ?? 1000;
    return this.#wait(opts.timeoutMs ?? 30_000, 'agent silence', () => {
      if (this.#detector.speaking) return undefined;
      const last = this.#detector.lastActiveMs;
      // Audio heard so far: up to the last received frame, or now when RTP stopped flowing.
      const now = performance.now();
      const heard = now - this.#lastFrameAt > 200 ? now : this.#heardUntil;
      const quietFrom = last === null ? this.#origin : last + FRAME_MS;
      if (heard - quietFrom < silenceMs) return undefined;
      return { lastSpeechMs: last === null ? null : this.toCallMs(last), ms: this.toCallMs(heard) };
    });
  }

  /** Resolves with the first timeline event of `type` (after the call, or any with `includePast`) matching `where`. */
  waitForEvent<K extends TimelineEvent['type']>(type: K, opts: { timeoutMs?: number; includePast?: boolean; where?: (e: Extract<TimelineEvent, { type: K }>) => boolean } = {}): Promise<Extract<TimelineEvent, { type: K }>> {
    const from = opts.includePast ? 0 : this.#events.length;
    return this.#wait(opts.timeoutMs ?? 10_000, type, () => {
      for (let i = from; i < this.#events.length; i++) {
        const e = this.#events[i]!;
        if (e.type !== type) continue;
        const out = this.#toPublic(e) as Extract<TimelineEvent, { type: K }>;
        if (!opts.where || opts.where(out)) return out;
      }
      return undefined;
    }, type === 'bye');
  }

  // ------------------------------------------------------------------ DTMF and hang-up

  /**
   * Sends a DTMF digit at once (not queued behind speech): RFC 4733 when telephone-event was
   * negotiated (the default), else SIP INFO. Resolves when sent (INFO: when answered 2xx).
   */
  async sendDtmf(digit: string, opts: { method?: 'rfc4733' | 'info'; durationMs?: number } = {}): Promise<void> {
    if (this.#ended) throw new CallerError('CALL_ENDED', 'call ended');
    const te = this.#dialog?.media?.telephoneEvent !== undefined;
    const method = opts.method ?? (te ? 'rfc4733' : 'info');
    const durationMs = opts.durationMs ?? 100;
    if (method === 'rfc4733') {
      if (!te) throw new CallerError('NO_TELEPHONE_EVENT', 'telephone-event was not negotiated');
      this.#session.sendDtmf(digit, durationMs);
      this.#events.push({ type: 'dtmf-sent', ms: performance.now(), digit, method });
      return;
    }
    this.#events.push({ type: 'dtmf-sent', ms: performance.now(), digit, method });
    const res = await this.dialog.sendDtmf(digit, durationMs);
    if (res.status >= 300) throw new SipError(res.status, res.reason);
  }

  /** Sends BYE (if the call is still up) and resolves when everything is closed. Idempotent. */
  async hangup(): Promise<CallEnd> {
    if (!this.#ended && this.#dialog && this.#dialog.state !== 'terminated') {
      this.stopSpeaking();
      await this.#dialog.bye();
    }
    if (!this.#ended && this.#dialog?.state === 'terminated') await this.#end(this.#dialog.closeReason ?? 'local-bye');
    return this.#closed;
  }

  // ------------------------------------------------------------------ internals

  #toPublic(e: AbsEvent): TimelineEvent {
    if (e.type === 'agent-speech-end') return { ...e, ms: this.toCallMs(e.ms), startMs: this.toCallMs(e.startMs) };
    return { ...e, ms: this.toCallMs(e.ms) };
  }

  #enqueue(label: string, kind: ClipKind | 'silence'): { item: QueueItem; done: Promise<SentClip> } {
    if (this.#ended) throw new CallerError('CALL_ENDED', 'call ended');
    let resolve!: (c: SentClip) => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<SentClip>((res, rej) => { resolve = res; reject = rej; });
    const item: QueueItem = {
      label, kind, pcm: null, frames: 0, speech: null, next: 0, startAt: null, lastSentAt: null,
      speechStartAt: null, speechEndAt: null, resolve, reject,
    };
    this.#queue.push(item);
    return { item, done };
  }

  #ready(item: QueueItem, samples: Int16Array, sampleRate: number): void {
    let pcm = samples;
    if (sampleRate !== this.#rate) {
      if (!isPcmRate(sampleRate)) throw new CallerError('BAD_AUDIO', `unsupported sample rate ${sampleRate} (use 8000/16000/24000/48000)`);
      pcm = this.#d.resampler.resample(samples, sampleRate, this.#rate);
    }
    const n = this.#frameSamples;
    const frames = Math.ceil(pcm.length / n);
    const padded = new Int16Array(frames * n);
    padded.set(pcm);
    item.pcm = padded;
    item.frames = frames;
    item.speech = item.kind === 'silence' ? null : speechFrames(padded, this.#rate, { frameMs: FRAME_MS, minDbfs: this.#detector.minDbfs });
    if (frames === 0) { this.#drop(item); this.#finish(item, true, performance.now()); }
  }

  #drop(item: QueueItem): void {
    const i = this.#queue.indexOf(item);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #onTick(t: ClockTick): void {
    if (this.#ended) return;
    if (this.#inFlight) {
      if (this.#session.queuedMs > 0) { this.#checkWaiters(); return; } // not sent this tick (DTMF event, hold)
      this.#frameSent(this.#inFlight.item, this.#inFlight.index, t.now);
      this.#inFlight = null;
    }
    const head = this.#queue[0];
    if (head && head.pcm) {
      const n = this.#frameSamples;
      const index = head.next++;
      const frame = head.pcm.slice(index * n, (index + 1) * n);
      if (head.next >= head.frames) this.#queue.shift();
      try {
        this.#session.play({ id: `${head.label}#${index}`, format: 'pcm16', sampleRate: this.#rate, samples: frame });
        this.#inFlight = { item: head, index };
      } catch {
        // The session closed under us: the call is ending.
      }
    }
    this.#checkWaiters();
  }

  #frameSent(item: QueueItem, index: number, at: number): void {
    if (item.startAt === null) item.startAt = at;
    item.lastSentAt = at;
    const kind = item.kind;
    if (kind !== 'silence' && item.speech) {
      if (index === item.speech.first) {
        item.speechStartAt = at;
        this.#events.push({ type: 'caller-speech-start', ms: at, clip: item.label, kind });
      }
      if (index === item.speech.last) {
        item.speechEndAt = at;
        this.#events.push({ type: 'caller-speech-end', ms: at, clip: item.label, kind, cut: false });
      }
    }
    if (index === item.frames - 1) this.#finish(item, true, at);
  }

  #finish(item: QueueItem, completed: boolean, at: number): void {
    if (!completed && item.kind !== 'silence' && item.speechStartAt !== null && item.speechEndAt === null) {
      item.speechEndAt = item.lastSentAt ?? at;
      this.#events.push({ type: 'caller-speech-end', ms: item.speechEndAt, clip: item.label, kind: item.kind, cut: true });
    }
    const ms = (x: number | null): number | null => (x === null ? null : this.toCallMs(x));
    item.resolve({
      label: item.label, kind: item.kind, durationMs: item.frames * FRAME_MS,
      startMs: ms(item.startAt), endMs: ms(item.lastSentAt),
      speechStartMs: ms(item.speechStartAt), speechEndMs: ms(item.speechEndAt), completed,
    });
  }

  #onMedia(ev: MediaEvent): void {
    switch (ev.type) {
      case 'audio': {
        const now = performance.now();
        this.#trackHold();
        const at = now - this.#hold;
        this.#lastFrameAt = now;
        this.#heardUntil = at + FRAME_MS;
        if (this.#d.opts.keepAudio) this.#received.push(ev.pcm.slice());
        for (const e of this.#detector.push(ev.pcm, at)) {
          if (e.type === 'speech-start') this.#events.push({ type: 'agent-speech-start', ms: e.startMs });
          else this.#events.push({ type: 'agent-speech-end', ms: e.endMs, startMs: e.startMs });
        }
        break;
      }
      case 'dtmf':
        if (ev.source === 'rfc4733') this.#events.push({ type: 'dtmf-received', ms: performance.now(), digit: ev.digit, source: 'rfc4733' });
        break;
      case 'timeout':
        this.#events.push({ type: 'rtp-timeout', ms: performance.now(), silentMs: ev.silentMs });
        break;
      default:
        break;
    }
  }

  /**
   * How long the frame just handed out sat in the jitter buffer. The buffer publishes only an
   * exponential average of holding times (`delay += (sample - delay) / 16` per packet played), so
   * when exactly one packet was played since the last frame the sample is recovered exactly:
   * `sample = 16 * delay_n - 15 * delay_(n-1)` (±1.6 ms from the 0.1 ms rounding). Otherwise
   * (concealment, a new buffer after a codec change) the previous holding time is kept.
   */
  #trackHold(): void {
    const jb = this.#session.getStats().jitterBuffer;
    if (jb.played === this.#lastPlayed + 1) {
      const sample = 16 * jb.delayMs - 15 * this.#lastDelay;
      if (sample >= 0 && sample < 5000) this.#hold = sample;
    }
    this.#lastPlayed = jb.played;
    this.#lastDelay = jb.delayMs;
  }

  #wait<T>(timeoutMs: number, what: string, test: () => T | undefined, survivesEnd = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const w: Waiter = {
        check: () => {
          let v: T | undefined;
          try { v = test(); } catch (err) { w.fail(err); return true; }
          if (v === undefined) return false;
          if (timer) clearTimeout(timer);
          this.#waiters.delete(w);
          resolve(v);
          return true;
        },
        fail: (err) => {
          if (timer) clearTimeout(timer);
          this.#waiters.delete(w);
          reject(err);
        },
      };
      if (w.check()) return;
      if (this.#ended && !survivesEnd) { w.fail(new CallerError('CALL_ENDED', `call ended while waiting for ${what}`)); return; }
      timer = setTimeout(() => w.fail(new CallerError('TIMEOUT', `no ${what} within ${timeoutMs} ms (call at +${this.now()} ms)`)), timeoutMs);
      this.#waiters.add(w);
    });
  }

  #checkWaiters(): void {
    for (const w of [...this.#waiters]) w.check();
  }

  async #end(reason: DialogCloseReason): Promise<void> {
    if (this.#ended) { await this.#closed; return; }
    const at = performance.now();
    const by: HangupBy = reason === 'remote-bye' ? 'remote'
      : reason === 'local-bye' || reason === 'stack-closed' ? 'caller'
        : 'error';
    this.#ended = { by, reason, ms: this.toCallMs(at) };
    this.#removeTick?.();
    this.#removeTick = null;
    if (this.#inFlight) { this.#session.clear(); this.#inFlight = null; }
    for (const it of this.#queue.splice(0)) this.#finish(it, false, at);
    for (const e of this.#detector.flush()) {
      if (e.type === 'speech-end') this.#events.push({ type: 'agent-speech-end', ms: e.endMs, startMs: e.startMs });
    }
    this.#events.push({ type: 'bye', ms: at, by });
    // Waiters that can still be satisfied (idle, the bye event) resolve; the rest fail.
    for (const w of [...this.#waiters]) if (!w.check()) w.fail(new CallerError('CALL_ENDED', 'the call ended'));
    this.#removeMedia?.();
    this.#removeMedia = null;
    try { await this.#session.close(); } catch { /* recording errors are not the call's end */ }
    this.#d.onEnded(this);
    this.#resolveClosed(this.#ended);
  }
}
