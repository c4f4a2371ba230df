/**
 * A media session that runs in a media worker, seen from the thread that owns the call. Same
 * contract as LocalMediaSession:
 * - commands are validated here (same MediaErrors, thrown synchronously) and then posted;
 * - events arrive in per-tick batches and fan out to the listeners;
 * - clear() is synchronous and exact: it raises the slot's clear mark under the slot lock (the
 *   worker drops those items before its next packet) and reads, under the same lock, how far the
 *   worker got. Items the worker finished but whose `played` event is still in flight are
 *   reported here with their full length, and their late `played` events are swallowed.
 * - getStats() is the last `stats` event, with the playout queue (from this side) current.
 */
import { digitToEvent } from '../dtmf.js';
import { EventHub } from '../events.js';
import { MediaError } from '../errors.js';
import { checkPlayItem, originalMs } from '../playout.js';
import { checkRemote } from '../session.js';
import type { ClearResult, MediaEvent, MediaEventListener, MediaSession, MediaStats, PlayItem, RemoteDescription } from '../types.js';
import { SLOT } from './slots.js';
import type { WorkerLink } from './pool.js';

interface Outstanding { readonly ordinal: number; readonly id: string; readonly ms: number }
interface Position { readonly finished: number; readonly head: number; readonly headMs: number }

/** Ms of an outstanding item the caller received, by the worker's position. */
function playedOf(o: Outstanding, p: Position): number {
  return o.ordinal <= p.finished ? o.ms : o.ordinal === p.head ? Math.min(o.ms, p.headMs) : 0;
}

const EMPTY_STATS: MediaStats = {
  packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, packetsLost: 0, fractionLost: 0, jitterMs: 0,
  jitterBuffer: { depth: 0, targetDelayMs: 0, delayMs: 0, jitterMs: 0, received: 0, played: 0, duplicates: 0, late: 0, reordered: 0, lost: 0, concealed: 0, dropped: 0, underruns: 0, resets: 0 },
  remoteReport: null, dtmfIn: 0, dtmfOut: 0, comfortNoise: 0, malformed: 0, wrongPayloadType: 0, foreignSource: 0, beforeRemote: 0,
  ssrcChanges: 0, rtcpIn: 0, rtcpOut: 0, lateWakeups: 0, skippedTicks: 0, playoutQueueMs: 0, latchedTo: null,
};

/** A compact copy in a buffer of its own, so the transfer moves exactly this audio. */
function ownCopy(item: PlayItem): { item: PlayItem; buffer: ArrayBuffer } {
  if (item.format === 'pcm16') {
    const samples = item.samples.slice();
    return { item: { id: item.id, format: 'pcm16', sampleRate: item.sampleRate, samples }, buffer: samples.buffer as ArrayBuffer };
  }
  const data = item.data.slice();
  return { item: { id: item.id, format: item.format, data }, buffer: data.buffer as ArrayBuffer };
}

export class RemoteMediaSession implements MediaSession {
  readonly id: string;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly ssrc: number;
  readonly #link: WorkerLink;
  readonly #slot: number;
  readonly #hub = new EventHub();
  readonly #onClosed: (s: MediaSession) => void;
  #closed = false;
  #closing: Promise<void> | null = null;
  #codecName: string | null = null;
  #remote: RemoteDescription | null = null;
  #lastOrdinal = 0;
  #outstanding: Outstanding[] = [];
  #stats: MediaStats = EMPTY_STATS;

  constructor(o: { link: WorkerLink; slot: number; id: string; localAddress: string; rtpPort: number; ssrc: number; onClosed: (s: MediaSession) => void }) {
    this.#link = o.link;
    this.#slot = o.slot;
    this.id = o.id;
    this.localAddress = o.localAddress;
    this.rtpPort = o.rtpPort;
    this.rtcpPort = o.rtpPort + 1;
    this.ssrc = o.ssrc;
    this.#onClosed = o.onClosed;
  }

  get closed(): boolean { return this.#closed; }
  get codecName(): string | null { return this.#codecName; }

  get queuedMs(): number {
    if (!this.#outstanding.length) return 0;
    const pos = this.#position();
    let ms = 0;
    for (const o of this.#outstanding) ms += o.ms - playedOf(o, pos);
    return ms;
  }

  on(listener: MediaEventListener): () => void { return this.#hub.on(listener); }
  events(signal?: AbortSignal): AsyncIterable<MediaEvent> { return this.#hub.events(signal); }

  setRemote(remote: RemoteDescription): void {
    this.#assertOpen();
    const checked = checkRemote(remote);
    this.#codecName = checked.codec;
    this.#remote = checked.remote;
    this.#link.post({ type: 'set-remote', slot: this.#slot, remote: checked.remote });
  }

  play(item: PlayItem): void {
    this.#assertOpen();
    checkPlayItem(item);
    const ordinal = ++this.#lastOrdinal;
    this.#outstanding.push({ ordinal, id: item.id, ms: Math.round(originalMs(item)) });
    const own = ownCopy(item);
    this.#link.post({ type: 'play', slot: this.#slot, ordinal, item: own.item }, [own.buffer]);
  }

  clear(): ClearResult {
    if (this.#closed) return { items: [], playedMs: 0 };
    const t = this.#link.table, slot = this.#slot;
    t.lock(slot);
    t.set(slot, SLOT.CLEAR_UP_TO, this.#lastOrdinal);
    this.#unarm();
    const pos = this.#position();
    t.unlock(slot);
    const items = this.#outstanding.map((o) => ({ id: o.id, playedMs: playedOf(o, pos) }));
    this.#outstanding = [];
    return { items, playedMs: items.reduce((a, b) => a + b.playedMs, 0) };
  }

  armInterruption(run: number, afterMs: number): void {
    if (this.#closed || !Number.isInteger(run) || run <= 0) return;
    const t = this.#link.table;
    t.set(this.#slot, SLOT.ARMED_AFTER_MS, Math.max(0, Math.round(afterMs)));
    t.set(this.#slot, SLOT.ARMED_RUN, run);
  }

  disarmInterruption(): void {
    // A closed session's slot may already carry another call: leave it alone.
    if (this.#closed) return;
    const t = this.#link.table, slot = this.#slot;
    t.lock(slot);
    this.#unarm();
    t.unlock(slot);
  }

  /** Drops an armed interruption and its mute (under the slot's lock). */
  #unarm(): void {
    this.#link.table.set(this.#slot, SLOT.ARMED_RUN, 0);
    this.#link.table.set(this.#slot, SLOT.MUTED, 0);
  }

  sendDtmf(digit: string, durationMs = 100): void {
    this.#assertOpen();
    digitToEvent(digit);
    if (this.#remote?.telephoneEventPt === undefined) throw new MediaError('NO_TELEPHONE_EVENT', 'telephone-event was not negotiated');
    this.#link.post({ type: 'send-dtmf', slot: this.#slot, digit, durationMs });
  }

  injectDtmf(digit: string, durationMs = 100): void {
    this.#assertOpen();
    digitToEvent(digit);
    this.#link.post({ type: 'inject-dtmf', slot: this.#slot, digit, durationMs });
  }

  startRecording(path: string): Promise<void> {
    this.#assertOpen();
    return this.#link.request({ type: 'start-recording', slot: this.#slot, path });
  }

  stopRecording(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#link.request({ type: 'stop-recording', slot: this.#slot });
  }

  getStats(): MediaStats {
    return { ...this.#stats, playoutQueueMs: Math.round(this.queuedMs) };
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = this.#link.request({ type: 'close', slot: this.#slot }).finally(() => this.#finish());
    return this.#closing;
  }

  /** An event from the worker. */
  deliver(ev: MediaEvent): void {
    if (ev.type === 'played') {
      const i = this.#outstanding.findIndex((o) => o.id === ev.id);
      if (i < 0) return; // already reported by clear()
      this.#outstanding.splice(i, 1);
    } else if (ev.type === 'stats') {
      this.#stats = ev.stats;
    } else if (ev.type === 'closed') {
      return; // emitted once the close reply is in (#finish)
    }
    this.#hub.emit(ev);
  }

  /** The worker died under this session. */
  fail(err: Error): void {
    if (this.#closing) return;
    this.#hub.emit({ type: 'error', code: 'WORKER_FAILED', message: err.message });
    this.#closed = true;
    this.#closing = Promise.resolve().then(() => this.#finish());
  }

  #finish(): void {
    this.#outstanding = [];
    this.#onClosed(this);
    this.#hub.emit({ type: 'closed' });
  }

  /** How far the worker got: the last item played to its end, the item playing and how much of it. */
  #position(): Position {
    const t = this.#link.table, slot = this.#slot;
    return { finished: t.get(slot, SLOT.FINISHED_UP_TO), head: t.get(slot, SLOT.HEAD), headMs: t.get(slot, SLOT.HEAD_PLAYED_MS) };
  }

  #assertOpen(): void {
    if (this.#closed) throw new MediaError('CLOSED', `media session ${this.id} is closed`);
  }
}
