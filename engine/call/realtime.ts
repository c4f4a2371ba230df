/**
 * The realtime (speech-to-speech) conversation: caller audio goes to the provider session as it
 * is; agent audio comes back in the call's format and goes to the pacer. The provider's VAD runs
 * the turns; on caller speech during agent audio the pacer is cleared at once, the response is
 * cancelled and the provider is told how much was heard (truncate), so its memory matches the call.
 */
import type { Logger } from 'pino';
import type { MediaEvent } from '../../media/types.js';
import type { AudioFormat } from '../providers/audio.js';
import { ProviderError } from '../providers/errors.js';
import type { LlmToolFunction } from '../providers/llm.js';
import type { RealtimeAudioFormat, RealtimeProvider, RealtimeSession } from '../providers/realtime.js';
import type { Clock } from './clock.js';
import type { CallMessage, Conversation, ConversationEvent, ToolRunner } from './conversation.js';
import { heardText } from './heard.js';
import { toolDefinitions, toolFunctions } from './tools.js';
import { Speaker, type CallMedia, type Utterance } from './speaker.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface RealtimeOptions {
  readonly assistant: Obj;
  readonly provider: RealtimeProvider;
  readonly media: CallMedia;
  readonly clock: Clock;
  readonly log: Logger;
  readonly tools: ToolRunner;
  /** The call's codec audio format (G.711 passes through untouched). */
  readonly format: AudioFormat;
  readonly emit: (ev: ConversationEvent) => void;
}

const toRealtime = (f: AudioFormat): RealtimeAudioFormat => (f === 'ulaw_8000' ? 'mulaw_8000' : f === 'alaw_8000' ? 'alaw_8000' : 'pcm_16000');
const bytesPerMs = (f: AudioFormat): number => (f === 'ulaw_8000' || f === 'alaw_8000' ? 8 : 32);

export class RealtimeConversation implements Conversation {
  readonly #o: RealtimeOptions;
  readonly #speaker: Speaker;
  readonly #transcript: CallMessage[] = [];
  readonly #closed = new AbortController();
  #session: RealtimeSession | null = null;
  #offMedia: (() => void) | null = null;
  /** Agent audio per provider item: the utterance that plays it and its text. */
  readonly #items = new Map<string, { u: Utterance; text: string; offset: number; interrupted: boolean }>();
  #idleWaiters: (() => void)[] = [];
  #speaking = false;

  constructor(o: RealtimeOptions) {
    this.#o = o;
    this.#speaker = new Speaker(o.media, () => o.clock.now());
    this.#speaker.onIdle = () => {
      this.#setSpeaking(false);
      for (const w of this.#idleWaiters.splice(0)) w();
    };
  }

  get messages(): readonly CallMessage[] {
    return this.#transcript;
  }

  async start(): Promise<void> {
    const llm = isObj(this.#o.assistant.llm_config) ? this.#o.assistant.llm_config : {};
    const instructions = (Array.isArray(llm.messages) ? llm.messages.filter(isObj) : [])
      .filter((m) => m.role === 'system' && typeof m.content === 'string').map((m) => String(m.content)).join('\n\n');
    const td = isObj(llm.turn_detection) ? llm.turn_detection : {};
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    const turnDetection = Object.fromEntries(Object.entries({
      threshold: num(td.threshold), prefixPaddingMs: num(td.prefix_padding_ms), silenceDurationMs: num(td.silence_duration_ms), idleTimeoutMs: num(td.idle_timeout_ms),
    }).filter(([, v]) => v !== undefined));
    this.#session = await this.#o.provider.connect({
      model: String(llm.model ?? 'grok-realtime-v1'),
      ...(typeof llm.voice === 'string' ? { voice: llm.voice } : {}),
      ...(instructions ? { instructions } : {}),
      ...(typeof llm.temperature === 'number' ? { temperature: llm.temperature } : {}),
      tools: toolFunctions(this.#o.assistant),
      turnDetection,
      audioFormat: toRealtime(this.#o.format),
    }, this.#closed.signal);
    this.#offMedia = this.#o.media.on((ev) => this.#onMedia(ev));
    void this.#pump(this.#session);
  }

  async greet(text: string | null): Promise<void> {
    if (text) this.#session?.sendText(`Greet the caller by saying exactly: "${text}"`, 'system', true);
  }

  injectContext(content: string, triggerResponse: boolean): void {
    const msg: CallMessage = { role: 'system', content: `[Context update] ${content}` };
    this.#record(msg);
    this.#session?.sendText(msg.content, 'system', triggerResponse);
  }

  /** Spec §7.5: a "repeat exactly" instruction; realtime models may paraphrase. */
  async say(content: string, _opts: { interruptible: boolean }): Promise<void> {
    this.#session?.sendText(`Say exactly this to the caller, word for word: "${content}"`, 'system', true);
    await this.#nextSpeechDone(20_000);
  }

  async farewell(message: string | null): Promise<void> {
    if (!message) return;
    await this.say(message, { interruptible: false });
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#offMedia?.();
    this.#speaker.close();
    for (const w of this.#idleWaiters.splice(0)) w();
    await this.#session?.close().catch(() => undefined);
  }

  #onMedia(ev: MediaEvent): void {
    if (ev.type === 'audio') this.#session?.pushAudio(ev.encoded ?? new Uint8Array(ev.pcm.buffer, ev.pcm.byteOffset, ev.pcm.byteLength));
    else if (ev.type === 'dtmf') this.#session?.sendText(`The caller pressed DTMF key ${ev.digit}.`, 'user', true);
  }

  async #pump(session: RealtimeSession): Promise<void> {
    try {
      for await (const ev of session) {
        if (this.#closed.signal.aborted) break;
        switch (ev.type) {
          case 'audio': {
            let it = this.#items.get(ev.itemId);
            if (!it) {
              it = { u: this.#speaker.begin(), text: '', offset: 0, interrupted: false };
              this.#items.set(ev.itemId, it);
              this.#setSpeaking(true);
            }
            if (it.interrupted) break;
            const durationMs = ev.audio.length / bytesPerMs(this.#o.format);
            this.#speaker.push(it.u, { audio: ev.audio, format: this.#o.format, offsetMs: it.offset, durationMs });
            it.offset += durationMs;
            break;
          }
          case 'speech-started':
            this.#o.emit({ type: 'caller-speech', speaking: true });
            this.#bargeIn();
            break;
          case 'speech-stopped':
            this.#o.emit({ type: 'caller-speech', speaking: false });
            break;
          case 'user-transcript':
            if (ev.text.trim()) this.#record({ role: 'user', content: ev.text.trim() });
            break;
          case 'agent-transcript': {
            const it = this.#items.get(ev.itemId);
            if (it) it.text = ev.text;
            if (it?.interrupted) break;
            if (ev.text.trim()) this.#record({ role: 'assistant', content: ev.text.trim() });
            break;
          }
          case 'response-done':
            for (const it of this.#items.values()) if (!it.u.ended) this.#speaker.end(it.u);
            break;
          case 'function-call':
            void this.#onFunctionCall(session, ev.callId, ev.name, ev.arguments);
            break;
          case 'error':
            this.#o.emit({ type: 'provider-error', error: ev.error, fatal: ev.fatal });
            if (ev.fatal) return;
            break;
          case 'closed':
            if (!this.#closed.signal.aborted) {
              this.#o.emit({ type: 'provider-error', error: new ProviderError({ provider: 'xai_realtime', code: 'network', message: 'realtime session closed' }), fatal: true });
            }
            return;
          default:
            break;
        }
      }
    } catch (e) {
      if (!this.#closed.signal.aborted) {
        this.#o.emit({ type: 'provider-error', error: e instanceof ProviderError ? e : new ProviderError({ provider: 'xai_realtime', code: 'protocol', message: String(e) }), fatal: true });
      }
    }
  }

  /** Caller speech while the agent talks: clear at once, cancel, tell the provider what was heard. */
  #bargeIn(): void {
    if (!this.#speaker.speaking) return;
    const { utterance, heardMs } = this.#speaker.stop();
    this.#session?.interrupt();
    for (const [itemId, it] of this.#items) {
      if (it.u !== utterance || it.interrupted) continue;
      it.interrupted = true;
      this.#session?.truncate(itemId, Math.round(heardMs));
      const heard = it.text ? heardText(it.text, heardMs, it.offset, null) : '';
      if (heard) this.#record({ role: 'assistant', content: heard });
    }
    this.#o.emit({ type: 'barge-in', heardMs, phase: 'confirm' });
    this.#setSpeaking(false);
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #onFunctionCall(session: RealtimeSession, callId: string, name: string, args: string): Promise<void> {
    let parsed: Obj = {};
    try {
      const v: unknown = args ? JSON.parse(args) : {};
      if (isObj(v)) parsed = v;
    } catch {
      session.sendToolResult(callId, `Tool ${name} failed: arguments are not valid JSON`);
      return;
    }
    if (name === 'end_call') {
      session.sendToolResult(callId, 'Ending the call.');
      await this.#whenQuiet();
      this.#o.emit({ type: 'end-call', reason: 'assistant_hangup' });
      return;
    }
    if (name === 'transfer_call') {
      session.sendToolResult(callId, `Transferring to ${String(parsed.destination)}.`);
      await this.#whenQuiet();
      this.#o.emit({ type: 'transfer', destination: String(parsed.destination) });
      return;
    }
    const tool = toolDefinitions(this.#o.assistant).find((t) => t.name === name);
    if (!tool) {
      session.sendToolResult(callId, `Tool ${name} failed: no such tool`);
      return;
    }
    const [r] = await this.#o.tools.run([{ id: callId, name, arguments: parsed, tool }], this.#closed.signal);
    session.sendToolResult(callId, r?.result ?? `Tool ${name} failed: no result`);
  }

  #record(m: CallMessage): void {
    this.#transcript.push(m);
    this.#o.emit({ type: 'message', index: this.#transcript.length - 1, message: m });
  }

  #setSpeaking(on: boolean): void {
    if (this.#speaking === on) return;
    this.#speaking = on;
    this.#o.emit({ type: 'agent-speaking', speaking: on });
  }

  #whenQuiet(): Promise<void> {
    if (!this.#speaker.speaking || this.#closed.signal.aborted) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Waits for the next agent speech to start and finish (bounded). */
  async #nextSpeechDone(timeoutMs: number): Promise<void> {
    const t0 = this.#o.clock.now();
    while (!this.#speaker.speaking && this.#o.clock.now() - t0 < timeoutMs && !this.#closed.signal.aborted) await new Promise((r) => setTimeout(r, 50));
    await Promise.race([this.#whenQuiet(), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
}
