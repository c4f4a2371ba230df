/**
 * The agent's voice on the call: TTS audio goes to the media session's pacer as play items, one
 * utterance (assistant message) at a time. Knows what was actually heard (played ms per item),
 * can stop at once (barge-in), hold new audio back while a possible interruption is judged, and
 * resume exactly where playout stopped.
 */
import type { ClearResult, MediaEvent, PlayItem } from '../../media/types.js';
import type { AudioFormat } from '../providers/audio.js';
import type { TtsAlignment } from '../providers/tts.js';
import { reachMs, type Alignment } from './heard.js';

/** The part of a MediaSession the call layer uses (a worker-backed session can implement it too). */
export interface CallMedia {
  play(item: PlayItem): void;
  clear(): ClearResult;
  on(listener: (ev: MediaEvent) => void): () => void;
  readonly queuedMs: number;
  /** Media-side barge-in: mute at the deadline even when this thread is late (see MediaSession). */
  armInterruption?(run: number, afterMs: number): void;
  disarmInterruption?(): void;
}

export interface AudioChunk {
  readonly audio: Uint8Array;
  readonly format: AudioFormat;
  /** Start of the chunk in its TTS stream, ms. */
  readonly offsetMs: number;
  readonly durationMs: number;
  readonly alignment?: TtsAlignment | undefined;
}

interface Segment {
  readonly id: string;
  readonly offsetMs: number;
  readonly durationMs: number;
  readonly format: AudioFormat;
  readonly audio: Uint8Array;
  playedMs: number;
  done: boolean;
}

const bytesPerMs = (f: AudioFormat): number => {
  const [codec, rate] = f.split('_') as [string, string];
  return (Number(rate) / 1000) * (codec === 'pcm' ? 2 : 1);
};

export function toPlayItem(id: string, audio: Uint8Array, format: AudioFormat): PlayItem {
  if (format === 'ulaw_8000') return { id, format: 'pcmu', data: audio };
  if (format === 'alaw_8000') return { id, format: 'pcma', data: audio };
  const rate = Number(format.split('_')[1]);
  if (rate !== 8000 && rate !== 16000 && rate !== 24000 && rate !== 48000) throw new RangeError(`unsupported playout format ${format}`);
  const even = audio.length & ~1;
  const copy = new Uint8Array(even);
  copy.set(audio.subarray(0, even));
  return { id, format: 'pcm16', sampleRate: rate, samples: new Int16Array(copy.buffer, 0, even / 2) };
}

/** One assistant message's audio. */
export class Utterance {
  readonly id: string;
  readonly text: string[] = [];
  readonly alignment: { chars: string[]; charStartMs: number[] } = { chars: [], charStartMs: [] };
  readonly segments: Segment[] = [];
  totalMs = 0;
  ended = false;
  /** Set when the first chunk was handed to the pacer (performance.now()). */
  firstPlayAt: number | null = null;
  constructor(id: string) {
    this.id = id;
  }

  /** Contiguous ms of this utterance's stream that reached the caller. */
  heardMs(): number {
    return reachMs(this.segments);
  }

  alignmentOrNull(): Alignment | null {
    return this.alignment.chars.length ? this.alignment : null;
  }
}

export class Speaker {
  readonly #media: CallMedia;
  readonly #now: () => number;
  #seq = 0;
  #current: Utterance | null = null;
  /** Segments handed to the pacer and not finished. */
  readonly #outstanding = new Map<string, { u: Utterance; s: Segment }>();
  /** While paused, new chunks wait here instead of playing. */
  #held: { u: Utterance; s: Segment }[] = [];
  #paused = false;
  readonly #off: () => void;
  #onIdle: (() => void) | null = null;

  constructor(media: CallMedia, now: () => number = () => performance.now()) {
    this.#media = media;
    this.#now = now;
    this.#off = media.on((ev) => {
      if (ev.type !== 'played') return;
      const o = this.#outstanding.get(ev.id);
      if (!o) return;
      o.s.playedMs = Math.max(o.s.playedMs, ev.playedMs);
      o.s.done = true;
      this.#outstanding.delete(ev.id);
      this.#checkIdle();
    });
  }

  /** Audio is queued, held, or an utterance is still open. */
  get speaking(): boolean {
    return this.#outstanding.size > 0 || this.#held.length > 0 || (this.#current !== null && !this.#current.ended);
  }

  get paused(): boolean {
    return this.#paused;
  }

  get current(): Utterance | null {
    return this.#current;
  }

  /** Called once whenever everything queued has been played and the utterance has ended. */
  set onIdle(fn: (() => void) | null) {
    this.#onIdle = fn;
  }

  begin(): Utterance {
    this.#current = new Utterance(`u${++this.#seq}`);
    return this.#current;
  }

  push(u: Utterance, chunk: AudioChunk): void {
    if (chunk.audio.length === 0) return;
    const s: Segment = {
      id: `${u.id}.${u.segments.length}`, offsetMs: chunk.offsetMs, durationMs: chunk.durationMs,
      format: chunk.format, audio: chunk.audio, playedMs: 0, done: false,
    };
    u.segments.push(s);
    u.totalMs = Math.max(u.totalMs, chunk.offsetMs + chunk.durationMs);
    if (chunk.alignment) {
      for (let i = 0; i < chunk.alignment.chars.length; i++) {
        u.alignment.chars.push(chunk.alignment.chars[i] as string);
        u.alignment.charStartMs.push(chunk.alignment.charStartMs[i] as number);
      }
    }
    if (this.#paused) this.#held.push({ u, s });
    else this.#play(u, s);
  }

  end(u: Utterance): void {
    u.ended = true;
    this.#checkIdle();
  }

  /** Barge-in suspected: silence the caller's side now, keep what was not heard. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    const r = this.#media.clear();
    const requeue: { u: Utterance; s: Segment }[] = [];
    for (const item of r.items) {
      const o = this.#outstanding.get(item.id);
      if (!o) continue;
      this.#outstanding.delete(item.id);
      o.s.playedMs = Math.max(o.s.playedMs, item.playedMs);
      if (o.s.playedMs < o.s.durationMs) requeue.push(o);
    }
    this.#held = [...requeue.map((o) => this.#remainder(o)), ...this.#held];
  }

  /** False interruption: continue exactly where playout stopped. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = [];
    for (const o of held) this.#play(o.u, o.s);
    this.#checkIdle();
  }

  /** Stops everything at once; returns what the caller heard of the current utterance. */
  stop(): { utterance: Utterance | null; heardMs: number } {
    if (!this.#paused) {
      const r = this.#media.clear();
      for (const item of r.items) {
        const o = this.#outstanding.get(item.id);
        if (o) o.s.playedMs = Math.max(o.s.playedMs, item.playedMs);
      }
    }
    this.#outstanding.clear();
    this.#held = [];
    this.#paused = false;
    const u = this.#current;
    if (u) u.ended = true;
    return { utterance: u, heardMs: u ? u.heardMs() : 0 };
  }

  close(): void {
    this.#off();
    this.#outstanding.clear();
    this.#held = [];
  }

  #remainder(o: { u: Utterance; s: Segment }): { u: Utterance; s: Segment } {
    const cut = Math.floor(o.s.playedMs * bytesPerMs(o.s.format));
    const alignTo = o.s.format.startsWith('pcm') ? cut & ~1 : cut;
    const s: Segment = {
      id: `${o.s.id}r${Math.round(o.s.playedMs)}`, offsetMs: o.s.offsetMs + o.s.playedMs, durationMs: o.s.durationMs - o.s.playedMs,
      format: o.s.format, audio: o.s.audio.subarray(alignTo), playedMs: 0, done: false,
    };
    o.u.segments.push(s);
    return { u: o.u, s };
  }

  #play(u: Utterance, s: Segment): void {
    this.#outstanding.set(s.id, { u, s });
    u.firstPlayAt ??= this.#now();
    this.#media.play(toPlayItem(s.id, s.audio, s.format));
  }

  #checkIdle(): void {
    if (!this.speaking) this.#onIdle?.();
  }
}
