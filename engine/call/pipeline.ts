/**
 * The pipeline conversation: caller audio -> STT; VAD + STT finals -> end of turn; LLM text
 * streamed and cut at sentence boundaries into a TTS stream; TTS audio -> the pacer. Barge-in
 * clears the pacer at once and either gives the turn up (abort LLM/TTS, transcript cut to what was
 * heard) or resumes where it stopped. Tools run between LLM rounds.
 */
import type { Logger } from 'pino';
import type { MediaEvent } from '../../media/types.js';
import type { LlmMessage, LlmProvider, LlmToolCall, LlmToolFunction } from '../providers/llm.js';
import type { SttEncoding, SttProvider, SttSession } from '../providers/stt.js';
import type { TtsProvider, TtsStreamOptions } from '../providers/tts.js';
import type { AudioFormat } from '../providers/audio.js';
import { ProviderError, withRetry } from '../providers/errors.js';
import type { Clock } from './clock.js';
import { BargeIn, type BargeInOptions } from './bargein.js';
import type { CallMessage, Conversation, ConversationEvent, ToolInvocation, ToolRunner, TurnLatency } from './conversation.js';
import { heardText } from './heard.js';
import { SentenceChunker } from './sentences.js';
import { Speaker, type CallMedia, type Utterance } from './speaker.js';
import { TurnDetector, type TurnOptions } from './turns.js';
import { voicemailIndicator } from './voicemail.js';
import { toolDefinitions, toolFunctions } from './tools.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface PipelineOptions {
  readonly assistant: Obj;
  readonly stt: SttProvider;
  readonly llm: LlmProvider;
  readonly tts: TtsProvider;
  readonly media: CallMedia;
  readonly clock: Clock;
  readonly log: Logger;
  readonly tools: ToolRunner;
  /** The call's audio: what the STT gets and what the TTS must produce. */
  readonly sttEncoding: SttEncoding;
  readonly sampleRate: 8000 | 16000;
  readonly ttsFormat: AudioFormat;
  readonly turn: TurnOptions;
  readonly bargeIn: BargeInOptions;
  /** Outbound with voicemail_detection: classify the first utterance before greeting. */
  readonly voicemail: { readonly message: string | null } | null;
  /** Pre-synthesised audio by text (greeting cache). */
  readonly cachedAudio?: (text: string) => { chunks: readonly { audio: Uint8Array; durationMs: number; offsetMs: number }[] } | undefined;
  readonly emit: (ev: ConversationEvent) => void;
}

interface Turn {
  readonly abort: AbortController;
  readonly utterance: Utterance;
  /** Text handed to the TTS, in order (what the utterance will say). */
  spoken: string;
  /** Set once the caller interrupted for real. */
  interrupted: boolean;
}

export class PipelineConversation implements Conversation {
  readonly #o: PipelineOptions;
  readonly #speaker: Speaker;
  readonly #turns: TurnDetector;
  readonly #barge: BargeIn;
  readonly #history: LlmMessage[] = [];
  readonly #transcript: CallMessage[] = [];
  readonly #closed = new AbortController();
  #stt: SttSession | null = null;
  #turn: Turn | null = null;
  #offMedia: (() => void) | null = null;
  #turnNo = 0;
  #lastSpeechAt: number | null = null;
  #lastFinalAt: number | null = null;
  #callerWordsSinceStart = 0;
  #dtmf = '';
  #dtmfTimer: { cancel(): void } | null = null;
  #vmPending: boolean;
  #vmTimer: { cancel(): void } | null = null;
  #greeting: string | null = null;
  #idleWaiters: (() => void)[] = [];
  #agentSpeaking = false;
  /** End of the caller audio seen so far, on the media session's caller clock (ms). */
  #audioEndMs = 0;

  constructor(o: PipelineOptions) {
    this.#o = o;
    this.#speaker = new Speaker(o.media, () => o.clock.now());
    this.#speaker.onIdle = () => this.#onIdle();
    this.#turns = new TurnDetector(o.clock, o.turn, (ev) => void this.#onTurnEnd(ev.text, ev.endpointingMs), () => this.#stt?.finalize());
    this.#barge = new BargeIn(o.clock, o.bargeIn, {
      agentSpeaking: () => this.#speaker.speaking && this.#speaker.current?.firstPlayAt != null,
      interrupt: () => this.#interrupt(),
      confirm: () => this.#confirmInterruption(),
      resume: () => this.#resume(),
      dropped: () => this.#o.media.disarmInterruption?.(),
    });
    this.#vmPending = o.voicemail !== null;
    const llm = isObj(o.assistant.llm_config) ? o.assistant.llm_config : {};
    for (const m of Array.isArray(llm.messages) ? llm.messages : []) {
      if (isObj(m) && typeof m.content === 'string' && (m.role === 'system' || m.role === 'user' || m.role === 'assistant')) {
        this.#history.push(m.role === 'assistant' ? { role: 'assistant', content: m.content } : { role: m.role, content: m.content });
      }
    }
  }

  get messages(): readonly CallMessage[] {
    return this.#transcript;
  }

  async start(): Promise<void> {
    const stt = isObj(this.#o.assistant.stt_config) ? this.#o.assistant.stt_config : {};
    this.#stt = await withRetry(() => this.#o.stt.stream({
      model: String(stt.model ?? 'nova-3-general'),
      language: String(stt.language ?? 'en'),
      ...(Array.isArray(stt.keyterms) ? { keyterms: stt.keyterms.map(String) } : {}),
      encoding: this.#o.sttEncoding,
      sampleRate: this.#o.sampleRate,
      interimResults: true,
      endpointingMs: 300,
      utteranceEndMs: 1000,
      vadEvents: true,
      smartFormat: true,
    }, this.#closed.signal), { attempts: 3, signal: this.#closed.signal });
    this.#offMedia = this.#o.media.on((ev) => this.#onMedia(ev));
    void this.#pumpStt(this.#stt);
  }

  async greet(text: string | null): Promise<void> {
    if (!text) return;
    if (this.#vmPending) {
      // Spec §8.1 PROPOSED: hold the greeting until the first utterance is classified, or 3 s of silence.
      this.#greeting = text;
      this.#armVoicemailTimer();
      return;
    }
    await this.#speak(text, { record: true, interruptible: true, wait: false });
  }

  injectContext(content: string, triggerResponse: boolean): void {
    const msg: CallMessage = { role: 'system', content: `[Context update] ${content}` };
    this.#record(msg);
    this.#history.push({ role: 'system', content: msg.content });
    if (triggerResponse) {
      // Queued after current speech, interrupting nothing (spec §7.1).
      void this.#whenQuiet().then(() => this.#reply(null));
    }
  }

  async say(content: string, opts: { interruptible: boolean }): Promise<void> {
    this.#cancelTurn();
    this.#speaker.stop();
    await this.#speak(content, { record: true, interruptible: opts.interruptible, wait: true });
  }

  async farewell(message: string | null): Promise<void> {
    this.#cancelTurn();
    if (!message) {
      this.#speaker.stop();
      return;
    }
    this.#speaker.stop();
    await this.#speak(message, { record: true, interruptible: false, wait: true });
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    // What the caller said in a turn that had not ended yet still belongs in the transcript.
    const pending = this.#turns.pendingText.trim();
    if (pending) this.#record({ role: 'user', content: pending });
    this.#closed.abort();
    this.#cancelTurn();
    this.#turns.close();
    this.#barge.close();
    this.#dtmfTimer?.cancel();
    this.#vmTimer?.cancel();
    this.#offMedia?.();
    this.#speaker.close();
    for (const w of this.#idleWaiters.splice(0)) w();
    await this.#stt?.close().catch(() => undefined);
  }

  // ---- input ----

  #onMedia(ev: MediaEvent): void {
    switch (ev.type) {
      case 'audio':
        this.#audioEndMs = ev.atMs + (ev.pcm.length / ev.sampleRate) * 1000;
        this.#stt?.sendAudio(ev.encoded ?? new Uint8Array(ev.pcm.buffer, ev.pcm.byteOffset, ev.pcm.byteLength));
        break;
      case 'speech-start': {
        // The VAD reports speech after its minimum duration and inference, and the audio reached it
        // through the jitter buffer: the interruption duration counts from the onset on the wire.
        const heard = ev.sinceOnsetMs;
        this.#lastSpeechAt = null;
        this.#callerWordsSinceStart = 0;
        this.#o.emit({ type: 'caller-speech', speaking: true });
        // The caller goes on before the agent said anything: the pending reply is dropped, the turn continues.
        if (this.#turn && this.#turn.utterance.firstPlayAt === null) this.#cancelTurn();
        // Outbound voicemail check: the callee is talking, so the "3 s of silence" verdict waits.
        if (this.#vmPending) this.#vmTimer?.cancel();
        this.#turns.speechStart();
        this.#barge.speechStart(heard);
        // The media plane mutes at onset + duration by itself: a busy event loop here cannot
        // delay the barge-in (the timer above then only does the bookkeeping).
        if (this.#barge.state === 'candidate' && this.#o.bargeIn.minWords === 0) this.#o.media.armInterruption?.(ev.run, this.#o.bargeIn.minDurationMs);
        break;
      }
      case 'speech-end': {
        const silent = Math.max(0, this.#audioEndMs - ev.atMs);
        this.#lastSpeechAt = this.#o.clock.now() - silent;
        this.#o.emit({ type: 'caller-speech', speaking: false });
        this.#turns.speechEnd(silent);
        this.#barge.speechEnd();
        if (this.#vmPending && !this.#turns.pendingText) this.#armVoicemailTimer();
        break;
      }
      case 'dtmf':
        this.#onDtmf(ev.digit);
        break;
      default:
        break;
    }
  }

  async #pumpStt(session: SttSession): Promise<void> {
    try {
      for await (const ev of session) {
        if (this.#closed.signal.aborted) break;
        switch (ev.type) {
          case 'interim': {
            const words = ev.text.trim() ? ev.text.trim().split(/\s+/).length : 0;
            this.#callerWordsSinceStart = Math.max(this.#callerWordsSinceStart, words);
            if (words) this.#barge.words(this.#callerWordsSinceStart);
            this.#turns.interim(ev.text);
            break;
          }
          case 'final': {
            const text = ev.text.trim();
            if (text) {
              this.#lastFinalAt = this.#o.clock.now();
              this.#callerWordsSinceStart += text.split(/\s+/).length;
              this.#barge.words(this.#callerWordsSinceStart);
            }
            this.#turns.final(text, ev.speechFinal);
            break;
          }
          case 'utterance-end':
            this.#turns.utteranceEnd();
            break;
          case 'reconnecting':
            this.#o.emit({ type: 'provider-error', error: ev.error, fatal: false });
            break;
          case 'error':
            this.#o.emit({ type: 'provider-error', error: ev.error, fatal: true });
            return;
          default:
            break;
        }
      }
    } catch (e) {
      if (!this.#closed.signal.aborted) {
        this.#o.emit({ type: 'provider-error', error: e instanceof ProviderError ? e : new ProviderError({ provider: 'deepgram', code: 'protocol', message: String(e) }), fatal: true });
      }
    }
  }

  #onDtmf(digit: string): void {
    this.#dtmf += digit;
    this.#dtmfTimer?.cancel();
    const flush = (): void => {
      const digits = this.#dtmf.replace(/#$/, '');
      this.#dtmf = '';
      if (digits) void this.#onTurnEnd(`[DTMF] ${digits}`, 0);
    };
    if (digit === '#') flush();
    else this.#dtmfTimer = this.#o.clock.after(2000, flush);
  }

  #armVoicemailTimer(): void {
    this.#vmTimer?.cancel();
    this.#vmTimer = this.#o.clock.after(3000, () => this.#voicemailVerdict(null));
  }

  /** Spec §8.1: the callee's first utterance (one turn) is checked once for voicemail phrases. */
  #voicemailVerdict(firstUtterance: string | null): void {
    if (!this.#vmPending) return;
    this.#vmPending = false;
    this.#vmTimer?.cancel();
    const indicator = firstUtterance ? voicemailIndicator(firstUtterance) : null;
    if (!indicator) {
      const g = this.#greeting;
      this.#greeting = null;
      // A person answered ("Hello?"): the held greeting is the answer; without one, reply to them.
      if (g) void this.#speak(g, { record: true, interruptible: true, wait: false });
      else if (firstUtterance) void this.#reply(null);
      return;
    }
    // Voicemail: the greeting of the box is the caller's message; leave ours (if any), then hang up.
    this.#turns.reset();
    const message = this.#o.voicemail?.message ?? null;
    this.#o.emit({ type: 'voicemail', indicator, leftMessage: !!message });
    void (async () => {
      if (message) await this.#speak(message, { record: true, interruptible: false, wait: true });
      this.#o.emit({ type: 'end-call', reason: 'voicemail' });
    })();
  }

  // ---- turns ----

  async #onTurnEnd(text: string, endpointingMs: number): Promise<void> {
    if (this.#closed.signal.aborted) return;
    if (this.#vmPending) {
      this.#record({ role: 'user', content: text });
      this.#history.push({ role: 'user', content: text });
      this.#voicemailVerdict(text);
      return;
    }
    const turnEndAt = this.#o.clock.now();
    this.#record({ role: 'user', content: text });
    this.#history.push({ role: 'user', content: text });
    const speechEnd = this.#lastSpeechAt;
    const latency: TurnLatency = {
      turn: ++this.#turnNo,
      endpointing_ms: Math.round(endpointingMs),
      stt_final_ms: speechEnd !== null && this.#lastFinalAt !== null ? Math.max(0, Math.round(this.#lastFinalAt - speechEnd)) : null,
      llm_first_token_ms: null, llm_first_sentence_ms: null, tts_first_audio_ms: null, engine_overhead_ms: null, first_packet_ms: null,
    };
    await this.#reply({ latency, turnEndAt, speechEnd });
  }

  /** One agent reply: LLM rounds (with tools) streamed into one TTS stream. */
  async #reply(m: { latency: TurnLatency; turnEndAt: number; speechEnd: number | null } | null): Promise<void> {
    this.#cancelTurn();
    this.#speaker.stop();
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    this.#closed.signal.addEventListener('abort', onClose, { once: true });
    const u = this.#speaker.begin();
    const turn: Turn = { abort, utterance: u, spoken: '', interrupted: false };
    this.#turn = turn;
    const llmCfg = isObj(this.#o.assistant.llm_config) ? this.#o.assistant.llm_config : {};
    const tools = toolFunctions(this.#o.assistant);
    let endAfter: { reason: 'assistant_hangup' } | { transfer: string } | null = null;
    let llmFirst: number | null = null;
    let ttsTextAt: number | null = null;
    let ttsFirst: number | null = null;
    let llmRequestAt: number | null = null;

    // The TTS socket opens while the LLM thinks: text waits in `pending` until it is up.
    type Stream = Awaited<ReturnType<TtsProvider['stream']>>;
    let tts: Stream | null = null;
    let ttsFailed = false;
    const pending: string[] = [];
    let flushed = false;
    const ttsReady = this.#openTts(abort.signal).then((t) => {
      tts = t;
      for (const p of pending.splice(0)) t.pushText(p);
      if (flushed) t.flush();
      return t;
    }, (e: unknown) => {
      ttsFailed = true;
      this.#providerError(e, false);
      return null;
    });
    let latencySent = false;
    const sendLatency = (): void => {
      if (!m || latencySent || abort.signal.aborted) return;
      latencySent = true;
      const firstPlay = u.firstPlayAt;
      const l = m.latency;
      l.llm_first_token_ms = llmFirst !== null ? Math.round(llmFirst - m.turnEndAt) : null;
      l.llm_first_sentence_ms = ttsTextAt !== null && llmRequestAt !== null ? Math.round(ttsTextAt - llmRequestAt) : null;
      l.tts_first_audio_ms = ttsFirst !== null && ttsTextAt !== null ? Math.round(ttsFirst - ttsTextAt) : null;
      if (firstPlay !== null) {
        l.first_packet_ms = m.speechEnd !== null ? Math.round(firstPlay - m.speechEnd) : null;
        // What the providers took: the LLM up to its first sentence, the TTS up to its first audio.
        const providers = (ttsTextAt !== null && llmRequestAt !== null ? ttsTextAt - llmRequestAt : 0) + (ttsFirst !== null && ttsTextAt !== null ? ttsFirst - ttsTextAt : 0);
        l.engine_overhead_ms = Math.max(0, Math.round(firstPlay - m.turnEndAt - providers));
      }
      this.#o.emit({ type: 'turn-latency', latency: l });
    };
    const pump = ttsReady.then(async (t) => {
      if (!t) return;
      for await (const ev of t) {
        if (ev.type !== 'audio') continue;
        ttsFirst ??= this.#o.clock.now();
        this.#speaker.push(u, { audio: ev.audio, format: ev.format, offsetMs: ev.offsetMs, durationMs: ev.durationMs, alignment: ev.alignment });
        // Measured as soon as the first audio is queued (an interrupted reply keeps its entry).
        if (u.firstPlayAt !== null) sendLatency();
      }
    }).catch((e: unknown) => {
      if (!abort.signal.aborted) this.#providerError(e, false);
    });

    const chunker = new SentenceChunker();
    const sendText = (piece: string): void => {
      const t = this.#pronounce(piece) + ' ';
      turn.spoken += (turn.spoken ? ' ' : '') + piece;
      ttsTextAt ??= this.#o.clock.now();
      if (tts) (tts as Stream).pushText(t);
      else if (!ttsFailed) pending.push(t);
    };
    this.#setAgentSpeaking(true);
    try {
      for (let round = 0; round < 6 && !abort.signal.aborted; round++) {
        const calls: LlmToolCall[] = [];
        let roundText = '';
        llmRequestAt ??= this.#o.clock.now();
        const stream = this.#o.llm.complete({
          model: String(llmCfg.model ?? 'gpt-4o-mini'),
          messages: this.#history,
          ...(typeof llmCfg.temperature === 'number' ? { temperature: llmCfg.temperature } : {}),
          ...(typeof llmCfg.max_completion_tokens === 'number' ? { maxCompletionTokens: llmCfg.max_completion_tokens } : {}),
          ...(tools.length ? { tools } : {}),
        }, abort.signal);
        for await (const ev of stream) {
          if (ev.type === 'text') {
            llmFirst ??= this.#o.clock.now();
            roundText += ev.delta;
            for (const piece of chunker.push(ev.delta)) sendText(piece);
          } else if (ev.type === 'tool-call') {
            calls.push(ev.call);
          }
        }
        for (const piece of chunker.flush()) sendText(piece);
        if (!calls.length) {
          if (roundText) this.#history.push({ role: 'assistant', content: roundText });
          break;
        }
        this.#history.push({ role: 'assistant', content: roundText || null, toolCalls: calls });
        const outcome = await this.#runTools(calls, abort.signal, sendText);
        for (const r of outcome.results) this.#history.push({ role: 'tool', toolCallId: r.id, content: r.result });
        if (outcome.end) {
          endAfter = outcome.end;
          break;
        }
      }
    } catch (e) {
      if (!abort.signal.aborted) {
        this.#providerError(e, false);
        // Say something rather than leave the caller in silence.
        if (!turn.spoken) sendText("Sorry, I'm having trouble right now. Could you say that again?");
      }
    }
    flushed = true;
    if (tts) (tts as Stream).flush();
    await pump;
    sendLatency();
    this.#speaker.end(u);
    if (!turn.interrupted && turn.spoken) this.#record({ role: 'assistant', content: turn.spoken });
    if (this.#turn === turn) {
      await this.#whenQuiet();
      if (this.#turn === turn) this.#turn = null;
    }
    this.#closed.signal.removeEventListener('abort', onClose);
    if (endAfter && !turn.interrupted && !this.#closed.signal.aborted) {
      if ('transfer' in endAfter) this.#o.emit({ type: 'transfer', destination: endAfter.transfer });
      else this.#o.emit({ type: 'end-call', reason: 'assistant_hangup' });
    }
  }

  async #runTools(calls: readonly LlmToolCall[], signal: AbortSignal, say: (t: string) => void):
    Promise<{ results: { id: string; result: string }[]; end: { reason: 'assistant_hangup' } | { transfer: string } | null }> {
    const defs = toolDefinitions(this.#o.assistant);
    const results: { id: string; result: string }[] = [];
    const webhook: ToolInvocation[] = [];
    let end: { reason: 'assistant_hangup' } | { transfer: string } | null = null;
    for (const c of calls) {
      let args: Record<string, unknown> = {};
      try {
        const parsed: unknown = c.arguments ? JSON.parse(c.arguments) : {};
        if (isObj(parsed)) args = parsed;
      } catch {
        results.push({ id: c.id, result: `Tool ${c.name} failed: arguments are not valid JSON` });
        continue;
      }
      if (c.name === 'end_call') {
        end = { reason: 'assistant_hangup' };
        results.push({ id: c.id, result: 'The call will end after your goodbye.' });
      } else if (c.name === 'transfer_call') {
        const t = defs.find((d) => d.type === 'transfer_call');
        const dests = t && Array.isArray(t.destinations) ? t.destinations.filter(isObj) : [];
        const dest = dests.find((d) => d.number === args.destination) ?? (dests.length === 1 ? dests[0] : undefined);
        if (!dest) {
          results.push({ id: c.id, result: `Tool transfer_call failed: unknown destination ${String(args.destination)}` });
          continue;
        }
        if (typeof dest.message === 'string' && dest.message) say(dest.message);
        end = { transfer: String(dest.number) };
        results.push({ id: c.id, result: `Transferring to ${String(dest.number)}.` });
      } else {
        const tool = defs.find((d) => d.name === c.name);
        if (!tool) {
          results.push({ id: c.id, result: `Tool ${c.name} failed: no such tool` });
          continue;
        }
        if (typeof tool.message === 'string' && tool.message && tool.async !== true) say(tool.message);
        webhook.push({ id: c.id, name: c.name, arguments: args, tool });
      }
    }
    if (webhook.length) results.push(...await this.#o.tools.run(webhook, signal));
    return { results, end };
  }

  async #openTts(signal: AbortSignal): Promise<Awaited<ReturnType<TtsProvider['stream']>>> {
    return withRetry(() => this.#o.tts.stream(this.#ttsOptions(), signal), { attempts: 2, signal });
  }

  #ttsOptions(): TtsStreamOptions {
    const t = isObj(this.#o.assistant.tts_config) ? this.#o.assistant.tts_config : {};
    const vs: Record<string, number | boolean> = {};
    if (typeof t.stability === 'number') vs.stability = t.stability;
    if (typeof t.similarity_boost === 'number') vs.similarityBoost = t.similarity_boost;
    if (typeof t.style === 'number') vs.style = t.style;
    if (typeof t.use_speaker_boost === 'boolean') vs.useSpeakerBoost = t.use_speaker_boost;
    if (typeof t.speed === 'number') vs.speed = t.speed;
    return {
      voiceId: String(t.voice_id ?? ''),
      ...(typeof t.model === 'string' ? { model: t.model } : {}),
      outputFormat: this.#o.ttsFormat,
      ...(Object.keys(vs).length ? { voiceSettings: vs } : {}),
      ...(typeof t.language === 'string' ? { language: t.language } : {}),
    };
  }

  #pronounce(text: string): string {
    const sc = isObj(this.#o.assistant.speech_config) ? this.#o.assistant.speech_config : {};
    let out = text;
    for (const p of Array.isArray(sc.pronunciation) ? sc.pronunciation.filter(isObj) : []) {
      if (typeof p.from === 'string' && typeof p.to === 'string' && p.from) {
        out = out.replace(new RegExp(`\\b${p.from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'gi'), p.to);
      }
    }
    return out;
  }

  /** Speaks fixed text (greeting, say, farewell) through the TTS, or the cache. */
  async #speak(text: string, o: { record: boolean; interruptible: boolean; wait: boolean }): Promise<void> {
    const u = this.#speaker.begin();
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    this.#closed.signal.addEventListener('abort', onClose, { once: true });
    const turn: Turn = { abort, utterance: u, spoken: text, interrupted: false };
    this.#turn = turn;
    this.#barge.setEnabled(o.interruptible);
    this.#setAgentSpeaking(true);
    const cached = this.#o.cachedAudio?.(text);
    try {
      if (cached) {
        for (const c of cached.chunks) this.#speaker.push(u, { audio: c.audio, format: this.#o.ttsFormat, offsetMs: c.offsetMs, durationMs: c.durationMs });
      } else {
        for await (const ev of this.#o.tts.synthesize(this.#pronounce(text), this.#ttsOptions(), abort.signal)) {
          if (ev.type === 'audio') this.#speaker.push(u, { audio: ev.audio, format: ev.format, offsetMs: ev.offsetMs, durationMs: ev.durationMs, alignment: ev.alignment });
        }
      }
    } catch (e) {
      if (!abort.signal.aborted) this.#providerError(e, false);
    }
    this.#speaker.end(u);
    if (o.record && !turn.interrupted) {
      this.#record({ role: 'assistant', content: text });
      this.#history.push({ role: 'assistant', content: text });
    }
    const done = this.#whenQuiet().then(() => {
      this.#closed.signal.removeEventListener('abort', onClose);
      if (this.#turn === turn) this.#turn = null;
      this.#barge.setEnabled(true);
    });
    if (o.wait) await done;
  }

  // ---- barge-in ----

  #interrupt(): void {
    this.#speaker.pause();
    this.#o.emit({ type: 'barge-in', heardMs: this.#speaker.current?.heardMs() ?? 0, phase: 'interrupt' });
  }

  #confirmInterruption(): void {
    const turn = this.#turn;
    const { utterance, heardMs } = this.#speaker.stop();
    this.#o.emit({ type: 'barge-in', heardMs, phase: 'confirm' });
    if (!turn || !utterance) return;
    turn.interrupted = true;
    turn.abort.abort();
    this.#turn = null;
    const heard = heardText(turn.spoken, heardMs, utterance.totalMs, utterance.alignmentOrNull());
    // The transcript and the LLM's memory hold only what the caller heard.
    const idx = this.#history.findLastIndex((h) => h.role === 'assistant');
    if (idx >= 0 && this.#history[idx]?.role === 'assistant' && this.#history[idx]?.content === turn.spoken) this.#history.splice(idx, 1);
    if (heard) {
      this.#record({ role: 'assistant', content: heard });
      this.#history.push({ role: 'assistant', content: heard });
    }
    this.#setAgentSpeaking(false);
    this.#onIdle();
  }

  #resume(): void {
    this.#speaker.resume();
    this.#o.emit({ type: 'barge-in', heardMs: this.#speaker.current?.heardMs() ?? 0, phase: 'resume' });
  }

  // ---- helpers ----

  #cancelTurn(): void {
    const t = this.#turn;
    if (!t) return;
    this.#turn = null;
    t.abort.abort();
  }

  #record(m: CallMessage): void {
    this.#transcript.push(m);
    this.#o.emit({ type: 'message', index: this.#transcript.length - 1, message: m });
  }

  #providerError(e: unknown, fatal: boolean): void {
    const err = e instanceof ProviderError ? e : new ProviderError({ provider: 'openai', code: 'protocol', message: e instanceof Error ? e.message : String(e) });
    if (err.code === 'aborted') return;
    this.#o.log.warn({ err: err.message, provider: err.provider, code: err.code }, 'provider error');
    this.#o.emit({ type: 'provider-error', error: err, fatal });
  }

  #setAgentSpeaking(on: boolean): void {
    if (this.#agentSpeaking === on) return;
    this.#agentSpeaking = on;
    this.#o.emit({ type: 'agent-speaking', speaking: on });
  }

  #onIdle(): void {
    if (this.#speaker.speaking) return;
    this.#barge.agentDone();
    this.#setAgentSpeaking(false);
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing is queued or playing. */
  #whenQuiet(): Promise<void> {
    if (!this.#speaker.speaking || this.#closed.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
