/**
 * The telephony runtime: the SIP stack, the media engine (with the Silero VAD), the live-call
 * registry, trunk registrations, inbound admission and routing, outbound dialling, call control
 * and drain. Implements the API's `Telephony` port.
 */
import { BlockList, isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EngineConfig } from '../../config/index.js';
import {
  CallFailedError, createAnswer, SdpError, SipStack, type AuthorizeResult, type Dialog, type IncomingCall, type LocalMedia,
  type NegotiatedMedia, type Registration, type TrunkTarget,
} from '../../sip/index.js';
import { CODEC_CAPABILITIES, MediaEngine, type MediaSession, type VadEngine } from '../../media/index.js';
import type { Store } from '../store/index.js';
import type { TrunkRecord } from '../store/repos/trunks.js';
import type { NumberRecord } from '../store/repos/numbers.js';
import { callId as newCallId } from '../store/ids.js';
import type { ControlCommand, OutboundPlan, Telephony, VoiceCatalog } from '../api/deps.js';
import { ApiError } from '../api/errors.js';
import { Problems } from '../api/errors.js';
import { normaliseAssistant, shallowMerge } from '../api/schemas/assistant.js';
import {
  buildAssistantRequest, callTools, requestAssistant, resolveWebhook, type CallContext, type WebhookOutbox,
} from '../webhooks/index.js';
import type { AudioFormat } from '../providers/audio.js';
import type { SttEncoding } from '../providers/stt.js';
import { realClock, type Clock } from './clock.js';
import { Call } from './call.js';
import type { Conversation, EndReason, ToolRunner } from './conversation.js';
import { GreetingCache } from './greetings.js';
import { PipelineConversation } from './pipeline.js';
import { audioFor, remoteDescription, type CallAudio } from './media-glue.js';
import { RealtimeConversation } from './realtime.js';
import { analysisLlm, ProviderResolver, ProviderSetupError, type CallProviders } from './providers.js';
import { CallRecorder } from './records.js';
import { CallRegistry } from './registry.js';
import { emailCallSummary, recipientsOf } from './notify.js';
import type { CallRecord } from '../store/repos/calls.js';
import { DEFAULT_BARGE_IN } from './bargein.js';
import { DEFAULT_TURN } from './turns.js';
import type { EngineMetrics } from '../metrics.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CallServiceOptions {
  readonly config: EngineConfig;
  readonly store: Store;
  readonly log: Logger;
  readonly outbox: WebhookOutbox;
  readonly providers: ProviderResolver;
  readonly voices: VoiceCatalog;
  /** null: no VAD (tests); undefined: Silero from media/vad. */
  readonly vad?: VadEngine | null;
  readonly clock?: Clock;
  readonly metrics?: EngineMetrics;
  /** Registration sync period (trunks created/deleted through the API). Default 5 s. */
  readonly trunkSyncMs?: number;
}

const AUDIO_CODECS = CODEC_CAPABILITIES.filter((c) => c.name !== 'telephone-event' && c.name !== 'CN');

function trunkTarget(t: TrunkRecord): TrunkTarget {
  return {
    id: t.id, host: t.address, port: t.port, transport: t.transport,
    ...(t.outbound_proxy ? { outboundProxy: t.outbound_proxy } : {}),
    ...(t.auth_username ? { username: t.auth_username } : {}),
    ...(t.auth_password ? { password: t.auth_password } : {}),
    ...(t.send_pai ? { pAssertedIdentity: true } : {}),
  };
}

interface AdmissionTable { lists: { trunkId: string; list: BlockList }[]; withCreds: TrunkRecord[] }

export class CallService implements Telephony {
  readonly #o: CallServiceOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #registry = new CallRegistry();
  readonly #greetings = new GreetingCache();
  readonly #registrations = new Map<string, { reg: Registration; fingerprint: string }>();
  #sip: SipStack | null = null;
  #media: MediaEngine | null = null;
  #draining = false;
  #admissionCache: { fp: string; table: AdmissionTable } | null = null;
  /** Records being finished outside a Call (calls that were never answered). */
  readonly #finishing = new Set<Promise<unknown>>();
  #syncTimer: ReturnType<typeof setInterval> | null = null;
  #closing: Promise<void> | null = null;

  constructor(o: CallServiceOptions) {
    this.#o = o;
    this.#log = o.log.child({ part: 'calls' });
    this.#clock = o.clock ?? realClock;
  }

  get sip(): SipStack {
    if (!this.#sip) throw new Error('CallService not started');
    return this.#sip;
  }

  /** Media worker threads carrying the RTP sessions (0: this thread). */
  get mediaWorkers(): number {
    return this.#media?.workers ?? 0;
  }

  /** Per media worker: the thread priority in force ('normal' | 'high' | 'realtime'). */
  get mediaPriorities(): string[] {
    return this.#media?.workerPriorities.map((p) => p.applied) ?? [];
  }

  /** Per media worker: its Linux thread id (null where unknown). */
  get mediaThreadIds(): Array<number | null> {
    return this.#media?.workerPriorities.map((p) => p.tid) ?? [];
  }

  get liveCalls(): number {
    return this.#registry.size;
  }

  async start(): Promise<void> {
    const { config } = this.#o;
    // A VAD object handed in (tests) cannot cross threads: the sessions then stay in this thread.
    const injected = this.#o.vad !== undefined && this.#o.vad !== null;
    const workers = injected ? 0 : config.rtp.workers ?? autoMediaWorkers(availableParallelism());
    let vad: VadEngine | undefined;
    if (workers === 0 && this.#o.vad === undefined) {
      const { createSileroVad } = await import('../../media/vad/index.js');
      vad = await createSileroVad({ gateDbfs: config.rtp.vadGateDbfs });
    } else if (this.#o.vad) vad = this.#o.vad;
    this.#media = new MediaEngine();
    await this.#media.start({
      portMin: config.rtp.portMin, portMax: config.rtp.portMax, bindAddress: config.sip.host,
      ...(vad ? { vad } : {}),
      workers, workerVad: this.#o.vad === null ? 'none' : 'silero', workerPriority: config.rtp.priority,
      vadGateDbfs: config.rtp.vadGateDbfs,
      vadConfig: { minSpeechMs: DEFAULT_BARGE_IN.vadSpeechMs, minSilenceMs: DEFAULT_TURN.vadSilenceMs },
      // Caller audio feeds the VAD and the STT, not an ear: a small delay floor (it still adapts
      // upward to 3x the measured jitter) makes barge-in and end-of-turn detection react sooner.
      jitter: { minDelayMs: 20, initialDelayMs: 40 },
    });
    for (const [i, p] of this.#media.workerPriorities.entries()) {
      if (p.error) this.#log.warn({ worker: i, wanted: config.rtp.priority, applied: p.applied, error: p.error }, 'media worker thread priority not raised (needs root or CAP_SYS_NICE); RTP pacing may suffer under CPU contention');
    }
    this.#log.info({ workers, priority: this.#media.workerPriorities.map((p) => p.applied), threads: this.#media.workerPriorities.map((p) => p.tid) }, 'media plane started');
    const sipLog = this.#log.child({ part: 'sip' });
    this.#sip = new SipStack({
      host: config.sip.host, port: config.sip.port,
      ...(config.sip.advertisedAddress ? { advertisedAddress: config.sip.advertisedAddress } : {}),
      authorize: (req, source) => this.#authorize(source.address),
      onCall: (inc) => void this.#onIncoming(inc).catch((e: unknown) => {
        this.#log.error({ err: e }, 'inbound call failed');
        if (inc.state === 'pending' || inc.state === 'early') inc.reject(500);
      }),
      logger: { info: (o, m) => sipLog.info(o, m), warn: (o, m) => sipLog.warn(o, m) },
      ...(config.sip.trace || this.#o.metrics ? {
        trace: (e) => {
          this.#o.metrics?.sip(e.direction, e.summary);
          if (config.sip.trace) sipLog.info({ dir: e.direction, remote: e.remote, callId: e.callId, msg: e.raw }, e.summary);
        },
      } : {}),
    });
    await this.#sip.start();
    this.#o.metrics?.setSources({
      liveCalls: () => this.#registry.size,
      rtp: () => this.#registry.all().map((c) => c.media.getStats()),
      pacer: () => this.#media?.stats().clock ?? { ticks: 0, lateWakeups: 0, skippedTicks: 0, maxLateMs: 0 },
      vad: () => this.#media?.stats().vad ?? { windows: 0, batches: 0, droppedWindows: 0, gatedWindows: 0 },
      mediaWorkerLoopP99Ms: () => this.#media?.stats().workerLoopDelayP99Ms ?? null,
      registrations: () => this.#o.store.trunks.listAllActive().filter((t) => t.register).map((t) => ({ trunkId: t.id, name: t.name, status: t.registration_status })),
    });
    this.#syncRegistrations();
    this.#syncTimer = setInterval(() => this.#syncRegistrations(), this.#o.trunkSyncMs ?? 5000);
    this.#syncTimer.unref();
    this.#log.info({ sip: `${config.sip.host}:${this.#sip.port('udp')}` }, 'telephony started');
  }

  /** The SIP port actually bound (tests bind port 0). */
  sipPort(): number {
    return this.sip.port('udp');
  }

  // ---- admission and routing ----

  /** IP/CIDR allowlists first, then digest credentials of any trunk; else 403 (counted by the stack). */
  /**
   * Admission table (allowlists as BlockLists, trunks with credentials), rebuilt only when the
   * trunk table changes: INVITEs, including a scanner's flood, cost one cheap query each.
   */
  #admission(): AdmissionTable {
    const fp = this.#o.store.trunks.fingerprint();
    if (this.#admissionCache?.fp === fp) return this.#admissionCache.table;
    const trunks = this.#o.store.trunks.listAllActive();
    const lists = trunks.filter((t) => t.inbound_addresses.length).map((t) => {
      const list = new BlockList();
      for (const entry of t.inbound_addresses) {
        const [ip, bits] = entry.split('/') as [string, string | undefined];
        const f = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
        try {
          if (bits !== undefined) list.addSubnet(ip, Number(bits), f);
          else list.addAddress(ip, f);
        } catch {
          // A malformed entry never admits anything.
        }
      }
      return { trunkId: t.id, list };
    });
    const table = { lists, withCreds: trunks.filter((t) => t.auth_username && t.auth_password) };
    this.#admissionCache = { fp, table };
    return table;
  }

  /** IP/CIDR allowlists first, then digest credentials of any trunk; else 403 (counted by the stack). */
  #authorize(address: string): AuthorizeResult {
    const { lists, withCreds } = this.#admission();
    const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    const fam = isIP(a) === 6 ? 'ipv6' : 'ipv4';
    for (const { trunkId, list } of lists) if (list.check(a, fam)) return { allow: true, trunkId };
    if (withCreds.length) {
      return {
        challenge: {
          realm: this.#o.config.sip.advertisedAddress ?? 'voice-engine',
          lookup: (username) => {
            const t = withCreds.find((x) => x.auth_username === username);
            return t ? { password: t.auth_password as string, trunkId: t.id } : undefined;
          },
        },
      };
    }
    return { allow: false };
  }

  async #onIncoming(inc: IncomingCall): Promise<void> {
    const { store } = this.#o;
    if (this.#draining) return inc.reject(503, 'Service Unavailable', { 'Retry-After': '30' });
    const number = inc.calledNumber ? store.numbers.findByE164(inc.calledNumber) : undefined;
    const trunk = inc.trunkId ? store.trunks.getById(inc.trunkId) : undefined;
    // A trunk only reaches its own organization's numbers.
    if (!number || (trunk && trunk.org_id !== number.org_id)) return inc.reject(404, 'Not Found');
    if (!number.is_active) return inc.reject(480, 'Temporarily Unavailable');
    const org = store.organizations.get(number.org_id);
    if (!org) return inc.reject(404, 'Not Found');
    const saved = number.agent_id ? store.assistants.get(org.id, number.agent_id) : undefined;
    if (!saved && !org.webhook_url) return inc.reject(480, 'Temporarily Unavailable');

    const id = newCallId(inc.callingNumber ?? null);
    const log = this.#log.child({ callId: id, sipCallId: inc.callId });
    store.calls.insert(org.id, {
      id, direction: 'inbound', status: 'connecting', caller_phone: inc.callingNumber ?? null, assistant_phone: number.phone_number,
      phone_number: number.phone_number, number_id: number.id, agent_id: saved?.id ?? null, agent_name: saved?.name ?? null,
      sip_call_id: inc.callId, room_name: id,
    });
    const context: CallContext = {
      call: { id, type: 'inbound_phone_call', pipeline: 'standard' },
      phoneNumber: { id: number.id, number: number.phone_number, name: number.name },
      customer: { number: inc.callingNumber ?? null },
      assistant: saved ? { ...saved, metadata: {} } : { metadata: {} },
    };
    const recorder = new CallRecorder({
      store, outbox: this.#o.outbox, log, orgId: org.id, callId: id, context,
      analysisLlm: () => analysisLlm(this.#o.providers, org.id, context.assistant),
      ...(this.#o.metrics ? { metrics: this.#o.metrics } : {}),
      notify: (rec) => this.#notify(org.id, context.assistant, rec, log),
    });
    const cancelled = new AbortController();
    inc.on('cancelled', () => cancelled.abort());
    const failEarly = async (status: number, reason: EndReason, error: string): Promise<void> => {
      if (inc.state === 'pending' || inc.state === 'early') inc.reject(status);
      log.warn({ status, reason, error }, 'inbound call not answered');
      await this.#track(recorder.end(reason, error));
    };

    // assistant-request (spec §6.3)
    let assistant: Obj | undefined = saved ? { ...saved } : undefined;
    let maxDuration: number | null = null;
    let rejectText: string | null = null;
    const orgHook = { webhook_url: org.webhook_url, webhook_secret: org.webhook_secret };
    const target = resolveWebhook({ event: 'assistant-request', assistant: saved ?? null, org: orgHook });
    if (target) {
      inc.progress({ status: 180 });
      const { assistant: _a, ...ctx } = context;
      const r = await requestAssistant({ target, payload: buildAssistantRequest(ctx), allowHttp: this.#o.config.webhooks.allowHttp, signal: cancelled.signal });
      if (cancelled.signal.aborted) return void (await this.#track(recorder.end('user_hangup', 'caller cancelled')));
      switch (r.type) {
        case 'use-saved':
          maxDuration = r.maxDurationSeconds;
          break;
        case 'transient':
          assistant = await this.#validated(org.id, saved ? shallowMerge({ ...saved }, r.assistant) : r.assistant, saved ? 'saved' : 'transient', log);
          if (assistant && saved) assistant.id = saved.id;
          maxDuration = r.maxDurationSeconds;
          break;
        case 'hybrid': {
          const base = store.assistants.get(org.id, r.assistantId);
          assistant = base ? await this.#validated(org.id, shallowMerge({ ...base }, r.override), 'saved', log) : undefined;
          if (assistant && base) assistant.id = base.id;
          maxDuration = r.maxDurationSeconds;
          break;
        }
        case 'reject':
          rejectText = r.error;
          maxDuration = r.maxDurationSeconds;
          break;
        case 'failed':
          log.warn({ reason: r.reason, detail: r.detail }, 'assistant-request failed; using the saved assistant');
          break;
      }
      if (!assistant) return failEarly(480, 'assistant_request_failed', 'assistant-request gave no usable assistant and the number has none');
    }
    if (!assistant) return failEarly(480, 'assistant_request_failed', 'no assistant');
    if (assistant.is_active === false) return failEarly(480, 'error', 'assistant is inactive');
    recorder.setAssistant(assistant, typeof assistant.id === 'string' ? assistant.id : null);

    let providers: CallProviders;
    try {
      providers = this.#o.providers.resolve(org.id, assistant);
    } catch (e) {
      if (e instanceof ProviderSetupError) return failEarly(503, 'error', e.message);
      throw e;
    }
    recorder.setByok(providers.byok);

    const media = await this.#mediaEngine().createSession({ id });
    const localMedia = this.#localMedia(media);
    // Pre-negotiate from the offer so STT and greeting can start while the 200 is on its way.
    let negotiated: NegotiatedMedia | undefined;
    if (inc.remoteSdp) {
      try {
        negotiated = createAnswer(inc.remoteSdp, localMedia, { sessionId: '0', version: 0 }).media;
      } catch (e) {
        await media.close();
        if (e instanceof SdpError) return failEarly(488, 'failed_to_connect', `no common codec: ${e.message}`);
        throw e;
      }
    }
    const max = maxDuration ?? (typeof assistant.max_duration_seconds === 'number' ? assistant.max_duration_seconds : this.#o.config.calls.maxDurationSeconds);
    const call = this.#newCall({ id, orgId: org.id, log, recorder, media, assistant, maxDurationSeconds: max, number });
    let conversation: Conversation | null = null;
    const greeting = rejectText ?? (typeof assistant.first_message === 'string' && assistant.first_message ? assistant.first_message : null);
    if (negotiated) conversation = await this.#prepare(call, assistant, providers, media, audioFor(negotiated.codec.name), null, greeting, log);

    let dialog: Dialog;
    try {
      dialog = await inc.answer({ media: localMedia });
    } catch (e) {
      await conversation?.close();
      await media.close();
      this.#registry.remove(call);
      if (e instanceof CallFailedError) return void (await this.#track(recorder.end('user_hangup', 'caller cancelled before answer')));
      return failEarly(500, 'failed_to_connect', e instanceof Error ? e.message : String(e));
    }
    const m = dialog.media ?? negotiated;
    if (!m) {
      await dialog.bye().catch(() => undefined);
      return void (await call.end('failed_to_connect', 'no media negotiated'));
    }
    media.setRemote(remoteDescription(m));
    if (!conversation) conversation = await this.#prepare(call, assistant, providers, media, audioFor(m.codec.name), null, greeting, log);
    if (!conversation) return void (await call.end('error', 'conversation could not start'));
    await call.start(dialog, greeting);
    if (rejectText) {
      // spec §6.3 form 5: the text was the greeting; hang up when it has been played.
      await call.end('rejected', null, null);
    }
  }

  async #validated(orgId: string, cfg: Obj, mode: 'saved' | 'transient', log: Logger): Promise<Obj | undefined> {
    const p = new Problems();
    const tts = isObj(cfg.tts_config) ? cfg.tts_config : null;
    let localVoices: Set<string> | null = null;
    if (tts?.provider === 'local') {
      const cat = await this.#o.voices.listLocalVoices();
      localVoices = cat.available ? new Set(cat.voices.map((v) => v.id)) : null;
    }
    const out = normaliseAssistant(cfg, { store: this.#o.store, orgId, localVoices, allowHttpWebhooks: this.#o.config.webhooks.allowHttp, mode }, p);
    if (!p.ok) {
      log.warn({ problems: p.list.map((x) => x.message) }, 'assistant config from assistant-request is invalid');
      return undefined;
    }
    if (isObj(cfg.metadata)) out.metadata = cfg.metadata;
    return out;
  }

  #localMedia(media: MediaSession): LocalMedia {
    const adv = this.#o.config.sip.advertisedAddress ?? this.sip.advertisedAddress();
    return { address: adv, port: media.rtpPort, codecs: AUDIO_CODECS.map((c) => ({ ...c })), telephoneEvent: true };
  }

  #mediaEngine(): MediaEngine {
    if (!this.#media) throw new Error('CallService not started');
    return this.#media;
  }

  #newCall(o: { id: string; orgId: string; log: Logger; recorder: CallRecorder; media: MediaSession; assistant: Obj; maxDurationSeconds: number; number: NumberRecord }): Call {
    const call = new Call({
      id: o.id, orgId: o.orgId, log: o.log, clock: this.#clock, recorder: o.recorder, media: o.media, assistant: o.assistant,
      maxDurationSeconds: o.maxDurationSeconds,
      referTarget: (dest) => this.#referTarget(o.orgId, o.number, dest),
      ...(this.#o.metrics ? { metrics: this.#o.metrics } : {}),
      // Recording (spec §8.7 PROPOSED): an engine setting, never for gdpr_mode assistants.
      ...(this.#o.config.calls.record && o.assistant.gdpr_mode !== true
        ? { recordTo: join(this.#o.config.dataDir, 'recordings', `${o.id.replace(/[^A-Za-z0-9_+-]/g, '_')}.wav`) } : {}),
      dialBridge: (dest) => this.#dialBridge(o.orgId, o.number, dest, o.log),
      onClosed: (c) => this.#registry.remove(c),
    });
    this.#registry.add(call);
    return call;
  }

  /** Second leg of a bridged transfer, through the number's transfer trunk (caller ID: the number). */
  async #dialBridge(orgId: string, number: NumberRecord, destination: string, log: Logger): Promise<{ dialog: Dialog; media: MediaSession } | null> {
    const trunk = number.transfer_trunk_id ? this.#o.store.trunks.get(orgId, number.transfer_trunk_id) : undefined;
    if (!trunk && !/^sips?:/i.test(destination)) return null;
    const media = await this.#mediaEngine().createSession({ id: `bridge-${number.id}`, vad: false });
    try {
      const target = trunk ? trunkTarget(trunk) : (() => {
        const u = new URL(destination.replace(/^sips?:/i, 'http://'));
        return { host: u.hostname, ...(u.port ? { port: Number(u.port) } : {}) };
      })();
      const dialog = await this.sip.placeCall({
        trunk: target, to: destination.replace(/^tel:/i, ''),
        from: { user: trunk?.outbound_number ?? number.phone_number, ...(number.name ? { display: number.name } : {}) },
        media: this.#localMedia(media), ringTimeoutMs: 30_000,
      });
      if (!dialog.media) throw new Error('no media on the bridge leg');
      media.setRemote(remoteDescription(dialog.media));
      log.info({ destination }, 'bridge leg answered');
      return { dialog, media };
    } catch (e) {
      await media.close();
      throw e;
    }
  }

  #referTarget(orgId: string, number: NumberRecord, destination: string): string | null {
    if (/^(sips?|tel):/i.test(destination)) return destination;
    const trunk = number.transfer_trunk_id ? this.#o.store.trunks.get(orgId, number.transfer_trunk_id) : undefined;
    if (!trunk) return null;
    const host = trunk.address.includes(':') && !trunk.address.startsWith('[') ? `[${trunk.address}]` : trunk.address;
    return `sip:${destination}@${host}${trunk.port && trunk.port !== 5060 ? `:${trunk.port}` : ''}${trunk.transport !== 'udp' ? `;transport=${trunk.transport}` : ''}`;
  }

  /** Builds and starts the conversation (STT connected, greeting warmed). Null when providers fail. */
  async #prepare(call: Call, assistant: Obj, providers: CallProviders, media: MediaSession, audio: CallAudio,
    voicemail: { message: string | null } | null, greeting: string | null, log: Logger): Promise<Conversation | null> {
    const tools = this.#toolRunner(call);
    let conversation: Conversation;
    if (providers.kind === 'realtime') {
      conversation = new RealtimeConversation({
        assistant, provider: providers.realtime, media, clock: this.#clock, log, tools, format: audio.ttsFormat, emit: call.onConversationEvent,
      });
    } else {
      const tts = isObj(assistant.tts_config) ? assistant.tts_config : {};
      const ttsOpts = {
        voiceId: String(tts.voice_id ?? ''), outputFormat: audio.ttsFormat,
        ...(typeof tts.model === 'string' ? { model: tts.model } : {}),
      };
      let warm: Promise<unknown> = Promise.resolve();
      if (greeting) warm = this.#greetings.warm(GreetingCache.key(String(tts.provider), ttsOpts, greeting), providers.tts, ttsOpts, greeting);
      const sc = isObj(assistant.speech_config) && isObj(assistant.speech_config.turn_taking) ? assistant.speech_config.turn_taking : {};
      const sec = (v: unknown, d: number): number => (typeof v === 'number' ? Math.round(v * 1000) : d);
      conversation = new PipelineConversation({
        assistant, stt: providers.stt, llm: providers.llm, tts: providers.tts, media, clock: this.#clock, log, tools,
        sttEncoding: audio.sttEncoding, sampleRate: audio.sampleRate, ttsFormat: audio.ttsFormat,
        turn: { ...DEFAULT_TURN, minDelayMs: sec(sc.endpointing_min_delay, DEFAULT_TURN.minDelayMs), maxDelayMs: sec(sc.endpointing_max_delay, DEFAULT_TURN.maxDelayMs) },
        bargeIn: {
          ...DEFAULT_BARGE_IN,
          minDurationMs: sec(sc.interruption_min_duration, DEFAULT_BARGE_IN.minDurationMs),
          minWords: typeof sc.interruption_min_words === 'number' ? sc.interruption_min_words : 0,
          falseInterruptionTimeoutMs: sc.false_interruption_timeout === null ? null : sec(sc.false_interruption_timeout, DEFAULT_BARGE_IN.falseInterruptionTimeoutMs ?? 1500),
        },
        voicemail,
        cachedAudio: (text) => this.#greetings.get(GreetingCache.key(String(tts.provider), ttsOpts, text)),
        emit: call.onConversationEvent,
      });
      // A warm greeting is ready at once; a cold one must not hold the 200 OK back for long.
      await Promise.race([warm, new Promise((r) => setTimeout(r, 250))]);
    }
    call.setConversation(conversation);
    try {
      await conversation.start();
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'conversation failed to start');
      await conversation.close();
      return null;
    }
    return conversation;
  }

  #toolRunner(call: Call): ToolRunner {
    return {
      run: async (calls, signal) => {
        const org = this.#o.store.organizations.get(call.orgId);
        const context = call.context;
        const results = await callTools({
          calls: calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })), context,
          org: org ? { webhook_url: org.webhook_url, webhook_secret: org.webhook_secret } : null,
          allowHttp: this.#o.config.webhooks.allowHttp, signal,
        });
        return results.map((r) => ({ id: r.toolCallId, result: r.content }));
      },
    };
  }

  // ---- outbound ----

  async placeOutbound(orgId: string, plan: OutboundPlan): Promise<{ callId: string }> {
    if (this.#draining) throw new ApiError(503, 'service_unavailable', 'The engine is shutting down');
    const { store } = this.#o;
    const number = store.numbers.get(orgId, plan.numberId);
    if (!number) throw new ApiError(400, 'no_outbound_number', 'number_id does not name a number of this organization', { param: 'number_id' });
    const trunk = number.transfer_trunk_id ? store.trunks.get(orgId, number.transfer_trunk_id) : undefined;
    if (!trunk) throw new ApiError(400, 'no_outbound_trunk', 'the caller-ID number has no SIP trunk for outbound dialling', { param: 'number_id' });
    const assistant: Obj = { ...plan.assistant, ...(plan.metadata ? { metadata: plan.metadata } : {}) };
    let providers: CallProviders;
    try {
      providers = this.#o.providers.resolve(orgId, assistant);
    } catch (e) {
      if (e instanceof ProviderSetupError) throw new ApiError(400, 'provider_key_missing', e.message);
      throw e;
    }
    const id = newCallId(plan.destination);
    const log = this.#log.child({ callId: id });
    store.calls.insert(orgId, {
      id, direction: 'outbound', status: 'connecting', caller_phone: plan.destination, assistant_phone: number.phone_number,
      phone_number: number.phone_number, number_id: number.id, agent_id: plan.assistantId,
      agent_name: typeof assistant.name === 'string' ? assistant.name : null, room_name: id,
      ...(isObj(assistant.metadata) && typeof assistant.metadata.campaign_id === 'string' ? { campaign_id: assistant.metadata.campaign_id } : {}),
      ...(isObj(assistant.metadata) && typeof assistant.metadata.lead_id === 'string' ? { lead_id: assistant.metadata.lead_id } : {}),
    });
    const context: CallContext = {
      call: { id, type: 'outbound_phone_call', pipeline: 'standard' },
      phoneNumber: { id: number.id, number: number.phone_number, name: number.name },
      customer: { number: plan.destination },
      assistant: { ...assistant, id: plan.assistantId, metadata: isObj(assistant.metadata) ? assistant.metadata : {} },
    };
    const recorder = new CallRecorder({
      store, outbox: this.#o.outbox, log, orgId, callId: id, context,
      analysisLlm: () => analysisLlm(this.#o.providers, orgId, context.assistant),
      ...(this.#o.metrics ? { metrics: this.#o.metrics } : {}),
      notify: (rec) => this.#notify(orgId, context.assistant, rec, log),
    });
    recorder.setAssistant(context.assistant, plan.assistantId);
    recorder.setByok(providers.byok);
    void this.#dial({ id, orgId, log, recorder, assistant: context.assistant, providers, plan, number, trunk }).catch(async (e: unknown) => {
      log.error({ err: e }, 'outbound call failed');
      await this.#track(recorder.end('error', e instanceof Error ? e.message : String(e)));
    });
    return { callId: id };
  }

  async #dial(o: { id: string; orgId: string; log: Logger; recorder: CallRecorder; assistant: Obj; providers: CallProviders; plan: OutboundPlan; number: NumberRecord; trunk: TrunkRecord }): Promise<void> {
    const media = await this.#mediaEngine().createSession({ id: o.id });
    const max = typeof o.assistant.max_duration_seconds === 'number' ? o.assistant.max_duration_seconds : this.#o.config.calls.maxDurationSeconds;
    const call = this.#newCall({ id: o.id, orgId: o.orgId, log: o.log, recorder: o.recorder, media, assistant: o.assistant, maxDurationSeconds: max, number: o.number });
    let dialog: Dialog;
    try {
      dialog = await this.sip.placeCall({
        trunk: trunkTarget(o.trunk), to: o.plan.destination,
        from: { user: o.trunk.outbound_number ?? o.number.phone_number, ...(o.number.name ? { display: o.number.name } : {}) },
        media: this.#localMedia(media), ringTimeoutMs: 60_000,
      });
    } catch (e) {
      await media.close();
      this.#registry.remove(call);
      const reason: EndReason = e instanceof CallFailedError
        ? (e.reason === 'busy' ? 'busy' : e.reason === 'no_answer' || e.reason === 'cancelled' ? 'no_answer' : e.reason === 'rejected' ? 'rejected' : 'failed_to_connect')
        : 'failed_to_connect';
      o.log.info({ reason, err: e instanceof Error ? e.message : String(e) }, 'outbound call not answered');
      await this.#track(o.recorder.end(reason, e instanceof Error ? e.message : String(e)));
      return;
    }
    if (!dialog.media) {
      await dialog.bye().catch(() => undefined);
      await call.end('failed_to_connect', 'no media negotiated');
      return;
    }
    media.setRemote(remoteDescription(dialog.media));
    const sc = isObj(o.assistant.speech_config) ? o.assistant.speech_config : {};
    const greeting = o.plan.firstMessage
      ?? (typeof sc.first_message_outbound === 'string' ? sc.first_message_outbound : null)
      ?? (typeof o.assistant.first_message === 'string' && o.assistant.first_message ? o.assistant.first_message : null);
    const voicemail = o.assistant.voicemail_detection === true
      ? { message: typeof o.assistant.voicemail_message === 'string' && o.assistant.voicemail_message ? o.assistant.voicemail_message : null }
      : null;
    const conversation = await this.#prepare(call, o.assistant, o.providers, media, audioFor(dialog.media.codec.name), voicemail, greeting, o.log);
    if (!conversation) {
      await call.end('error', 'conversation could not start');
      return;
    }
    await call.start(dialog, greeting);
  }

  async #notify(orgId: string, assistant: Obj, call: CallRecord, log: Logger): Promise<void> {
    if (!recipientsOf(assistant).length) return;
    const r = await emailCallSummary({ store: this.#o.store, config: this.#o.config, log, orgId, assistant, call });
    if (r.sent) log.info({ to: r.to, id: r.id }, 'summary e-mailed');
    else log.warn({ reason: r.reason }, 'summary e-mail not sent');
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#finishing.add(p);
    void p.finally(() => this.#finishing.delete(p)).catch(() => undefined);
    return p;
  }

  // ---- control ----

  async control(orgId: string, callId: string, command: ControlCommand): Promise<void> {
    const call = this.#registry.get(callId);
    if (!call || call.orgId !== orgId || !call.inProgress) throw new ApiError(400, 'call_not_active', 'The call is not in progress');
    if (command.type === 'transfer' && !/^(sips?|tel):/i.test(command.destination)) {
      const rec = this.#o.store.calls.get(orgId, callId);
      const number = rec?.number_id ? this.#o.store.numbers.get(orgId, rec.number_id) : undefined;
      if (!number?.transfer_trunk_id) throw new ApiError(400, 'no_transfer_trunk', 'The call\'s number has no transfer trunk; use a SIP URI destination', { param: 'destination' });
    }
    await call.control(command);
  }

  // ---- registrations ----

  /**
   * Greetings of assistants on active numbers are synthesised ahead (G.711 formats), so even the
   * first call's greeting leaves right after the ACK. Best effort: missing keys are skipped.
   */
  #warmGreetings(): void {
    const { store } = this.#o;
    const seen = new Set<string>();
    for (const t of store.trunks.listAllActive()) {
      if (seen.has(t.org_id)) continue;
      seen.add(t.org_id);
      for (const n of store.numbers.list(t.org_id)) {
        if (!n.is_active || !n.agent_id) continue;
        const a = store.assistants.get(t.org_id, n.agent_id);
        if (!a || typeof a.first_message !== 'string' || !a.first_message || !isObj(a.tts_config)) continue;
        let providers: CallProviders;
        try {
          providers = this.#o.providers.resolve(t.org_id, a);
        } catch {
          continue;
        }
        if (providers.kind !== 'pipeline') continue;
        for (const format of ['ulaw_8000', 'alaw_8000'] as const) {
          const opts = { voiceId: String(a.tts_config.voice_id ?? ''), outputFormat: format, ...(typeof a.tts_config.model === 'string' ? { model: a.tts_config.model } : {}) };
          void this.#greetings.warm(GreetingCache.key(String(a.tts_config.provider), opts, a.first_message), providers.tts, opts, a.first_message);
        }
      }
    }
  }

  #syncRegistrations(): void {
    if (!this.#sip || this.#draining) return;
    this.#warmGreetings();
    const want = new Map(this.#o.store.trunks.listAllActive().filter((t) => t.register && t.auth_username && t.auth_password).map((t) => [t.id, t]));
    for (const [id, r] of this.#registrations) {
      const t = want.get(id);
      if (!t || r.fingerprint !== JSON.stringify(trunkTarget(t))) {
        void r.reg.stop().catch(() => undefined);
        this.#registrations.delete(id);
        if (!t) continue;
      }
    }
    for (const [id, t] of want) {
      if (this.#registrations.has(id)) continue;
      const reg = this.#sip.register({ trunk: trunkTarget(t) });
      reg.onAny((ev) => {
        if (ev.type === 'registered') this.#o.store.trunks.setRegistration(id, 'registered', null);
        else if (ev.type === 'failed') this.#o.store.trunks.setRegistration(id, 'failed', `${ev.status} ${ev.reason}`);
        else if (ev.type === 'unregistered') this.#o.store.trunks.setRegistration(id, 'unregistered', null);
      });
      this.#o.store.trunks.setRegistration(id, 'registering', null);
      reg.start();
      this.#registrations.set(id, { reg, fingerprint: JSON.stringify(trunkTarget(t)) });
    }
  }

  // ---- drain ----

  /** Stops taking calls (503), lets live calls finish up to drainSeconds, then ends the rest. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#draining = true;
      if (this.#syncTimer) clearInterval(this.#syncTimer);
      const deadline = Date.now() + this.#o.config.calls.drainSeconds * 1000;
      while (this.#registry.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      await Promise.all(this.#registry.all().map((c) => c.end('error', 'engine shut down', null)));
      await Promise.allSettled([...this.#finishing]);
      await Promise.all([...this.#registrations.values()].map((r) => r.reg.stop().catch(() => undefined)));
      this.#registrations.clear();
      await this.#sip?.close();
      await this.#media?.close();
    })());
  }
}

/**
 * MEDIA_WORKERS=auto: half the cores, but two wherever there are two cores. A worker's sessions
 * share one heap and one send loop, so two workers halve both the longest garbage-collection pause
 * and the send burst each packet waits behind: on 2 cores, 200 full calls paced at p99 1.9-2.1 ms
 * with two workers against 2-6 ms with one (bench/capacity.ts, repeated runs). Real-time workers
 * cannot lock the control plane out: Linux leaves SCHED_FIFO threads at most 95 % of each second
 * (sched_rt_runtime_us).
 */
export function autoMediaWorkers(cores: number): number {
  return Math.min(Math.max(1, cores), Math.max(2, Math.floor(cores / 2)));
}
