/**
 * One Call per dialog. It composes the parts (SIP dialog, media session, conversation, recorder)
 * and routes between them; it does not contain them. `end()` is idempotent: hang up, stop media,
 * close the conversation, write the record, queue the report.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Dialog, DialogEvent } from '../../sip/index.js';
import type { MediaSession } from '../../media/index.js';
import type { ControlCommand } from '../api/deps.js';
import type { Clock, Timer } from './clock.js';
import type { Conversation, ConversationEvent, EndReason } from './conversation.js';
import type { CallRecorder } from './records.js';
import { SilenceMonitor, silenceOptions, type SilenceAction } from './silence.js';
import type { EngineMetrics } from '../metrics.js';
import { remoteDescription } from './media-glue.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CallInit {
  readonly id: string;
  readonly orgId: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly recorder: CallRecorder;
  readonly media: MediaSession;
  readonly assistant: Obj;
  /** Hard limit; the assistant's max_duration_seconds, an assistant-request override, or the engine cap. */
  readonly maxDurationSeconds: number;
  /** Turns a transfer destination into the Refer-To URI, or null when there is no trunk for it. */
  readonly referTarget: (destination: string) => string | null;
  readonly onClosed: (call: Call) => void;
  readonly metrics?: EngineMetrics;
  /** WAV path when this call is recorded. */
  readonly recordTo?: string;
  /** Dials a second leg through the transfer trunk (REFER refused); null when there is no trunk. */
  readonly dialBridge?: (destination: string) => Promise<{ dialog: Dialog; media: MediaSession } | null>;
}

export class Call {
  readonly id: string;
  readonly orgId: string;
  readonly #i: CallInit;
  #dialog: Dialog | null = null;
  #conversation: Conversation | null = null;
  #silence: SilenceMonitor | null = null;
  #maxTimer: Timer | null = null;
  #ending: Promise<void> | null = null;
  #answeredAt: number | null = null;
  #speaking = false;
  #transferring = false;
  /** The second leg of a bridged transfer: the AI has left, the engine relays audio both ways. */
  #bridge: { dialog: Dialog; media: MediaSession; off: (() => void)[] } | null = null;

  constructor(init: CallInit) {
    this.#i = init;
    this.id = init.id;
    this.orgId = init.orgId;
  }

  get inProgress(): boolean {
    return this.#dialog !== null && this.#ending === null;
  }

  /** The webhook context of this call (resolved assistant with its secret, metadata). */
  get context(): CallRecorder['context'] {
    return this.#i.recorder.context;
  }

  get media(): MediaSession {
    return this.#i.media;
  }

  get conversation(): Conversation | null {
    return this.#conversation;
  }

  /** The conversation's events come here (set before the conversation starts). */
  readonly onConversationEvent = (ev: ConversationEvent): void => {
    switch (ev.type) {
      case 'message':
        this.#i.recorder.message(ev.index, ev.message);
        break;
      case 'turn-latency':
        this.#i.recorder.latency(ev.latency);
        this.#i.metrics?.turn(ev.latency);
        this.#i.log.info({ latency: ev.latency }, 'turn');
        break;
      case 'agent-speaking':
        this.#speaking = ev.speaking;
        if (ev.speaking) this.#silence?.pause();
        else this.#silence?.resume();
        break;
      case 'caller-speech':
        if (ev.speaking) this.#silence?.callerActivity();
        break;
      case 'barge-in':
        this.#i.log.debug({ phase: ev.phase, heardMs: ev.heardMs }, 'barge-in');
        this.#i.metrics?.bargeIn.inc({ phase: ev.phase });
        break;
      case 'end-call':
        void this.end(ev.reason, ev.detail ?? null);
        break;
      case 'transfer':
        void this.transfer(ev.destination, null);
        break;
      case 'voicemail':
        this.#i.log.info({ indicator: ev.indicator, left: ev.leftMessage }, 'voicemail detected');
        break;
      case 'provider-error':
        this.#i.log.warn({ provider: ev.error.provider, code: ev.error.code, fatal: ev.fatal }, ev.error.message);
        if (ev.fatal) void this.end('error', `${ev.error.provider}: ${ev.error.message}`);
        break;
    }
  };

  setConversation(c: Conversation): void {
    this.#conversation = c;
  }

  /** The dialog is confirmed (ACK received / 200 received): the conversation starts now. */
  async start(dialog: Dialog, greeting: string | null): Promise<void> {
    this.#dialog = dialog;
    this.#answeredAt = this.#i.clock.now();
    dialog.onAny((ev) => this.#onDialog(ev));
    // The media plane lost this session under us (its worker thread died): the call cannot go on.
    this.#i.media.on((ev) => {
      if (ev.type === 'error' && ev.code === 'WORKER_FAILED') void this.end('error', `media: ${ev.message}`);
    });
    void dialog.closed.then((reason) => {
      if (reason === 'remote-bye') void this.end('user_hangup');
      else if (reason !== 'local-bye') void this.end('error', `dialog closed: ${reason}`);
    });
    this.#i.recorder.inProgress();
    if (this.#i.recordTo) {
      try {
        await mkdir(dirname(this.#i.recordTo), { recursive: true });
        await this.#i.media.startRecording(this.#i.recordTo);
        this.#i.recorder.recording(this.#i.recordTo);
      } catch (e) {
        this.#i.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'recording could not start');
      }
    }
    const max = this.#i.maxDurationSeconds;
    this.#maxTimer = this.#i.clock.after(max * 1000, () => void this.#onMaxDuration());
    const sil = silenceOptions(this.#i.assistant);
    if (sil) {
      this.#silence = new SilenceMonitor(this.#i.clock, sil, (a) => void this.#onSilence(a));
      this.#silence.callerActivity();
    }
    await this.#conversation?.greet(greeting);
    // ACK -> greeting handed to the pacer (it leaves on the next 20 ms tick).
    if (greeting) this.#i.recorder.timing('greeting_queued_ms', Math.round(this.#i.clock.now() - (this.#answeredAt ?? 0)));
  }

  async control(cmd: ControlCommand): Promise<void> {
    const c = this.#conversation;
    if (!c) return;
    switch (cmd.type) {
      case 'inject-context':
        c.injectContext(cmd.content, cmd.trigger_response);
        return;
      case 'say':
        // Barge-in is off for an utterance that ends the call (spec §7.2 PROPOSED).
        if (cmd.end_after) {
          void c.say(cmd.content, { interruptible: false }).then(() => this.end('control_end_call'));
        } else void c.say(cmd.content, { interruptible: true });
        return;
      case 'end-call':
        void this.end('control_end_call', null, cmd.message ?? null);
        return;
      case 'transfer':
        void this.transfer(cmd.destination, cmd.message ?? null);
        return;
    }
  }

  /** Cold transfer by REFER (spec §8.5). On failure the assistant resumes with a context note. */
  async transfer(destination: string, message: string | null): Promise<void> {
    const dialog = this.#dialog;
    if (!dialog || this.#transferring || this.#ending) return;
    this.#transferring = true;
    try {
      if (message) await this.#conversation?.say(message, { interruptible: false });
      const target = this.#i.referTarget(destination);
      if (!target) throw new Error('no transfer trunk for this number');
      const r = await dialog.refer(target, { timeoutMs: 20_000 });
      if (r.accepted && r.status >= 200 && r.status < 300) {
        this.#i.log.info({ destination, target, status: r.status }, 'transferred');
        await this.end('transferred');
        return;
      }
      throw new Error(`${r.status} ${r.reason}`);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      // REFER refused or failed: originate a new leg and bridge it (spec §8.5 PROPOSED).
      if (this.#i.dialBridge && !this.#ending) {
        this.#i.log.info({ destination, referError: why }, 'REFER failed; bridging a second leg');
        const leg = await this.#i.dialBridge(destination).catch((err: unknown) => {
          this.#i.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'bridge leg failed');
          return null;
        });
        if (leg && !this.#ending) {
          await this.#startBridge(leg, destination);
          return;
        }
        if (leg) await leg.dialog.bye().catch(() => undefined);
      }
      this.#i.log.warn({ destination, err: why }, 'transfer failed');
      this.#conversation?.injectContext(`Transfer to ${destination} failed (${why}). Tell the caller and continue helping them.`, true);
    } finally {
      this.#transferring = false;
    }
  }

  async #startBridge(leg: { dialog: Dialog; media: MediaSession }, destination: string): Promise<void> {
    // The AI leaves the conversation; the caller and the new leg hear each other through the engine.
    this.#silence?.close();
    this.#maxTimer?.cancel();
    await this.#conversation?.close().catch(() => undefined);
    let n = 0;
    const relay = (from: MediaSession, to: MediaSession): (() => void) => from.on((ev) => {
      if (ev.type === 'audio' && !ev.concealed) to.play({ id: `bridge${n++}`, format: 'pcm16', sampleRate: ev.sampleRate, samples: ev.pcm });
      else if (ev.type === 'dtmf') to.sendDtmf(ev.digit, ev.durationMs);
    });
    this.#bridge = { ...leg, off: [relay(this.#i.media, leg.media), relay(leg.media, this.#i.media)] };
    this.#i.log.info({ destination }, 'bridged');
    void leg.dialog.closed.then(() => void this.end('transferred'));
  }

  /** Ends the call once; `farewell` is spoken first when given. */
  end(reason: EndReason, error: string | null = null, farewell: string | null = null): Promise<void> {
    return (this.#ending ??= this.#end(reason, error, farewell));
  }

  async #end(reason: EndReason, error: string | null, farewell: string | null): Promise<void> {
    this.#maxTimer?.cancel();
    this.#silence?.close();
    const dialog = this.#dialog;
    const bridge = this.#bridge;
    if (bridge) {
      // Whoever hangs up, the AI left at the transfer; the other leg is released too.
      const callerLeft = reason === 'user_hangup';
      reason = 'transferred';
      for (const off of bridge.off) off();
      await bridge.dialog.bye().catch(() => undefined);
      await bridge.media.close().catch(() => undefined);
      if (callerLeft) {
        await this.#finish(reason, error);
        return;
      }
    }
    if (farewell && dialog && reason !== 'user_hangup') {
      await Promise.race([this.#conversation?.farewell(farewell), new Promise((r) => setTimeout(r, 15_000))]);
    }
    // After a successful REFER the transferor ends its own dialog too (RFC 5589 §6.1).
    if (dialog && reason !== 'user_hangup') await dialog.bye().catch(() => undefined);
    await this.#finish(reason, error);
  }

  async #finish(reason: EndReason, error: string | null): Promise<void> {
    await this.#conversation?.close().catch(() => undefined);
    await this.#i.media.stopRecording().catch(() => undefined);
    await this.#i.media.close().catch(() => undefined);
    this.#i.log.info({ reason, error }, 'call ended');
    // Leave the registry only once the record and report are written, so a drain waits for them.
    try {
      await this.#i.recorder.end(reason, error);
    } finally {
      this.#i.onClosed(this);
    }
  }

  async #onMaxDuration(): Promise<void> {
    const sc = isObj(this.#i.assistant.speech_config) ? this.#i.assistant.speech_config : {};
    const msg = typeof sc.end_call_message === 'string' ? sc.end_call_message : null;
    await this.end('max_duration', null, msg);
  }

  async #onSilence(a: SilenceAction): Promise<void> {
    const c = this.#conversation;
    if (!c || this.#ending) return;
    if (a.type === 'check') {
      if (a.message) await c.say(a.message, { interruptible: true });
      else c.injectContext('The caller has been silent for a while. Briefly check whether they are still there.', true);
      return;
    }
    const bye = a.message ?? "I haven't heard from you, so I'll end the call now. Goodbye!";
    await this.end('silence_timeout', null, bye);
  }

  #onDialog(ev: DialogEvent): void {
    switch (ev.type) {
      case 'reinvite':
      case 'update':
        if (ev.media) this.#i.media.setRemote(remoteDescription(ev.media));
        this.#i.log.info({ hold: ev.hold }, ev.type);
        break;
      case 'dtmf':
        this.#i.media.injectDtmf(ev.digit, ev.durationMs);
        break;
      default:
        break;
    }
  }
}
