/**
 * The outgoing audio queue of one session. Items are converted ONCE, when queued, to the call's
 * playout format: G.711 octets for PCMU/PCMA calls (matching G.711 input is kept as is), 16 kHz
 * PCM for G.722/Opus. Each media tick takes exactly one frame; items are stitched back to back
 * within a frame, and the rest of a frame is silence. Played milliseconds are counted per item
 * from what was actually taken for sending.
 */
import type { AudioCodecName } from './codecs/capabilities.js';
import { pcmRateOf } from './codecs/capabilities.js';
import { alawDecode, alawEncode, alawToUlaw, ulawDecode, ulawEncode, ulawToAlaw, ULAW_SILENCE, ALAW_SILENCE } from './codecs/g711.js';
import { MediaError } from './errors.js';
import type { Resampler } from './resample.js';
import { isPcmRate } from './resample.js';
import type { ClearResult, PlayedItem, PlayItem } from './types.js';

interface Queued {
  readonly id: string;
  /** Position in the owner's play order (worker sessions); 0 when unused. */
  readonly ordinal: number;
  readonly original: PlayItem;
  /** ms of the original already played before the last format change. */
  baseMs: number;
  data: Uint8Array | Int16Array;
  offset: number;
}

const NONE_FINISHED: readonly PlayedItem[] = Object.freeze([]);

export interface PlayoutFrame {
  /** G.711 octets for PCMU/PCMA calls, else null. */
  readonly g711: Uint8Array | null;
  /** PCM of the frame at the call's rate (for G.722/Opus encoding and for recording). */
  readonly pcm: Int16Array | null;
  readonly finished: readonly PlayedItem[];
  /** True when any queued audio went into this frame. */
  readonly audible: boolean;
}

/** Throws MediaError('BAD_AUDIO') for an item the playout cannot take. */
export function checkPlayItem(item: PlayItem): void {
  if (!item || typeof item.id !== 'string') throw new MediaError('BAD_AUDIO', 'play item needs an id');
  if (item.format === 'pcm16') {
    if (!isPcmRate(item.sampleRate)) throw new MediaError('BAD_AUDIO', `unsupported PCM rate ${String(item.sampleRate)}`);
    if (!(item.samples instanceof Int16Array)) throw new MediaError('BAD_AUDIO', 'pcm16 samples must be an Int16Array');
  } else if (item.format !== 'pcmu' && item.format !== 'pcma') {
    throw new MediaError('BAD_AUDIO', `unsupported play format ${String((item as { format: unknown }).format)}`);
  } else if (!(item.data instanceof Uint8Array)) {
    throw new MediaError('BAD_AUDIO', `${item.format} data must be a Uint8Array`);
  }
}

function originalMs(item: PlayItem): number {
  return item.format === 'pcm16' ? (item.samples.length * 1000) / item.sampleRate : item.data.length / 8;
}

export class Playout {
  #resampler: Resampler;
  #codec: AudioCodecName = 'PCMU';
  #rate: 8000 | 16000 = 8000;
  #queue: Queued[] = [];
  #finishedUpTo = 0;

  constructor(resampler: Resampler) { this.#resampler = resampler; }

  get codec(): AudioCodecName { return this.#codec; }
  get length(): number { return this.#queue.length; }

  /** Milliseconds still to play. */
  get queuedMs(): number {
    let s = 0;
    for (const q of this.#queue) s += q.data.length - q.offset;
    return (s * 1000) / this.#rate;
  }

  /** Switches the call format (codec change on re-INVITE); queued items are re-converted from where they are. */
  setCodec(codec: AudioCodecName): void {
    if (codec === this.#codec) return;
    const rate = pcmRateOf(codec);
    const items = this.#queue;
    const oldRate = this.#rate;
    this.#codec = codec;
    this.#rate = rate;
    this.#queue = [];
    for (const q of items) {
      const played = q.baseMs + (q.offset * 1000) / oldRate;
      const entry: Queued = { id: q.id, ordinal: q.ordinal, original: q.original, baseMs: played, data: this.#convert(q.original, played), offset: 0 };
      this.#queue.push(entry);
    }
  }

  add(item: PlayItem, ordinal = 0): void {
    checkPlayItem(item);
    this.#queue.push({ id: item.id, ordinal, original: item, baseMs: 0, data: this.#convert(item, 0), offset: 0 });
  }

  /** Drops every item whose ordinal is <= `ordinal` (a clear() issued by the owner thread). */
  dropUpTo(ordinal: number): void {
    if (this.#queue.length && this.#queue[0]!.ordinal <= ordinal) this.#queue = this.#queue.filter((q) => q.ordinal > ordinal);
  }

  // Playout position for the owner thread: what was finished, what plays now and how far.
  /** The highest ordinal played to its end. */
  get finishedUpTo(): number { return this.#finishedUpTo; }
  /** The ordinal of the item playing now (0 = none). */
  get head(): number { const q = this.#queue[0]; return q ? q.ordinal : 0; }
  /** Ms of the head item sent so far. */
  get headPlayedMs(): number { const q = this.#queue[0]; return q ? this.#playedMs(q) : 0; }

  #playedMs(q: Queued): number { return Math.round(q.baseMs + (q.offset * 1000) / this.#rate); }

  /** Takes one frame of `n` samples. */
  take(n: number): PlayoutFrame {
    const out = this.#blank(n);
    let finished: PlayedItem[] | null = null;
    let filled = 0;
    let audible = false;
    while (filled < n && this.#queue.length) {
      const q = this.#queue[0]!;
      const k = Math.min(n - filled, q.data.length - q.offset);
      if (k > 0) {
        (out as Uint8Array).set((q.data as Uint8Array).subarray(q.offset, q.offset + k), filled);
        q.offset += k;
        filled += k;
        audible = true;
      }
      if (q.offset >= q.data.length) {
        this.#queue.shift();
        if (q.ordinal > this.#finishedUpTo) this.#finishedUpTo = q.ordinal;
        (finished ??= []).push({ id: q.id, playedMs: this.#playedMs(q) });
      }
    }
    return this.#frame(out, finished ?? NONE_FINISHED, audible);
  }

  /** A frame of silence in the call's format; the queue is not touched (a muted tick). */
  silence(n: number): PlayoutFrame {
    return this.#frame(this.#blank(n), NONE_FINISHED, false);
  }

  /** `n` samples of silence: G.711 octets for PCMU/PCMA calls, else PCM. */
  #blank(n: number): Uint8Array | Int16Array {
    if (this.#codec === 'PCMU') return new Uint8Array(n).fill(ULAW_SILENCE);
    if (this.#codec === 'PCMA') return new Uint8Array(n).fill(ALAW_SILENCE);
    return new Int16Array(n);
  }

  #frame(out: Uint8Array | Int16Array, finished: readonly PlayedItem[], audible: boolean): PlayoutFrame {
    return out instanceof Uint8Array ? { g711: out, pcm: null, finished, audible } : { g711: null, pcm: out, finished, audible };
  }

  clear(): ClearResult {
    const items = this.#queue.map((q) => ({ id: q.id, playedMs: this.#playedMs(q) }));
    this.#queue = [];
    return { items, playedMs: items.reduce((a, b) => a + b.playedMs, 0) };
  }

  /** Decodes a G.711 playout frame to PCM (for recording). */
  static g711ToPcm(codec: AudioCodecName, bytes: Uint8Array): Int16Array {
    return codec === 'PCMU' ? ulawDecode(bytes) : alawDecode(bytes);
  }

  #convert(item: PlayItem, fromMs: number): Uint8Array | Int16Array {
    const codec = this.#codec;
    if (item.format === 'pcm16') {
      const start = Math.round((fromMs * item.sampleRate) / 1000);
      const pcm = this.#resampler.resample(item.samples.subarray(start), item.sampleRate, this.#rate);
      if (codec === 'PCMU') return ulawEncode(pcm);
      if (codec === 'PCMA') return alawEncode(pcm);
      return pcm;
    }
    const bytes = item.data.subarray(Math.round(fromMs * 8));
    if (codec === 'PCMU') return item.format === 'pcmu' ? bytes.slice() : alawToUlaw(bytes);
    if (codec === 'PCMA') return item.format === 'pcma' ? bytes.slice() : ulawToAlaw(bytes);
    const pcm8 = item.format === 'pcmu' ? ulawDecode(bytes) : alawDecode(bytes);
    return this.#resampler.resample(pcm8, 8000, 16000);
  }
}

export { originalMs };
