/**
 * Energy-based speech detector for the test caller's listener.
 *
 * Works on whole frames (the media plane hands out 20 ms frames). A frame is *active* when its RMS
 * level (dBFS) is above `max(minDbfs, noiseFloor + snrDb)`. The noise floor follows quiet frames
 * (down at once, up slowly) and is frozen while speech is going on, so a long sentence does not
 * raise its own threshold.
 *
 * A segment starts when `minSpeechMs` of active frames were seen without a gap of `hangoverMs`;
 * its `startMs` is back-dated to the first active frame. It ends when `hangoverMs` of inactive
 * frames follow; its `endMs` is the time of the LAST ACTIVE frame (not the end of the hangover),
 * i.e. "the last packet that carried speech". Times are whatever the caller passes in `atMs` (the
 * test caller passes the estimated packet arrival time on the call clock).
 *
 * Built for clean digital audio (TTS over G.711 with digital silence or a low, steady noise
 * floor). It is not a VAD for real microphones: a loud steady noise above `minDbfs` counts as speech
 * until the floor has caught up with it.
 */

export interface DetectorOptions {
  /** Frame duration in ms (all frames must have this duration). Default 20. */
  readonly frameMs?: number;
  /** Absolute threshold: a frame quieter than this is never active. Default -45 dBFS. */
  readonly minDbfs?: number;
  /** Margin over the noise floor for a frame to be active. Default 12 dB. */
  readonly snrDb?: number;
  /** Inactive time that ends a segment (and that a start candidate may not contain). Default 200 ms. */
  readonly hangoverMs?: number;
  /** Active time needed to confirm a segment (rejects clicks). Default 60 ms. */
  readonly minSpeechMs?: number;
}

export type DetectorEvent =
  | { readonly type: 'speech-start'; readonly startMs: number }
  | { readonly type: 'speech-end'; readonly startMs: number; readonly endMs: number };

export interface SpeechSegment {
  /** Time of the first active frame. */
  readonly startMs: number;
  /** Time of the last active frame; null while the segment is still open. */
  readonly endMs: number | null;
}

const SILENT_DBFS = -120;

/** RMS level of a frame in dBFS (full scale = 32768); -120 for digital silence. */
export function frameDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return SILENT_DBFS;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) { const v = pcm[i]!; sum += v * v; }
  const rms = Math.sqrt(sum / pcm.length);
  if (rms < 1e-3) return SILENT_DBFS;
  return Math.max(SILENT_DBFS, 20 * Math.log10(rms / 32768));
}

export class SpeechDetector {
  readonly frameMs: number;
  readonly minDbfs: number;
  readonly snrDb: number;
  readonly hangoverMs: number;
  readonly minSpeechMs: number;
  #floor = -90;
  #candidateStart: number | null = null;
  #candidateActiveMs = 0;
  #inSpeech = false;
  #segmentStart = 0;
  #lastActive: number | null = null;
  #gapMs = 0;
  #segments: SpeechSegment[] = [];

  constructor(opts: DetectorOptions = {}) {
    this.frameMs = opts.frameMs ?? 20;
    this.minDbfs = opts.minDbfs ?? -45;
    this.snrDb = opts.snrDb ?? 12;
    this.hangoverMs = opts.hangoverMs ?? 200;
    this.minSpeechMs = opts.minSpeechMs ?? 60;
  }

  /** Current activity threshold in dBFS. */
  get thresholdDbfs(): number { return Math.max(this.minDbfs, this.#floor + this.snrDb); }
  get noiseFloorDbfs(): number { return this.#floor; }
  /** True while a confirmed segment is open (speech seen, hangover not yet elapsed). */
  get speaking(): boolean { return this.#inSpeech; }
  /** Time of the last active frame seen (any, confirmed or not), or null. */
  get lastActiveMs(): number | null { return this.#lastActive; }
  /** Every confirmed segment so far; the last one has `endMs: null` while open. */
  get segments(): readonly SpeechSegment[] { return this.#segments; }

  /** Is this frame loud enough to count as speech (does not change state)? */
  isActive(pcm: Int16Array): boolean { return frameDbfs(pcm) > this.thresholdDbfs; }

  /** Feeds one frame that started at `atMs`; returns the events it caused, in order. */
  push(pcm: Int16Array, atMs: number): DetectorEvent[] {
    const db = frameDbfs(pcm);
    const active = db > this.thresholdDbfs;
    const out: DetectorEvent[] = [];
    if (active) {
      this.#lastActive = atMs;
      this.#gapMs = 0;
      if (!this.#inSpeech) {
        if (this.#candidateStart === null) { this.#candidateStart = atMs; this.#candidateActiveMs = 0; }
        this.#candidateActiveMs += this.frameMs;
        if (this.#candidateActiveMs >= this.minSpeechMs) {
          this.#inSpeech = true;
          this.#segmentStart = this.#candidateStart;
          this.#candidateStart = null;
          this.#segments.push({ startMs: this.#segmentStart, endMs: null });
          out.push({ type: 'speech-start', startMs: this.#segmentStart });
        }
      }
      return out;
    }
    // Inactive frame: the floor may follow it (never during speech or a start candidate).
    if (!this.#inSpeech && this.#candidateStart === null) {
      this.#floor = db < this.#floor ? db : this.#floor + 0.05 * (db - this.#floor);
      if (this.#floor < -90) this.#floor = -90;
    }
    this.#gapMs += this.frameMs;
    if (this.#gapMs >= this.hangoverMs) {
      if (this.#inSpeech) out.push(this.#close());
      this.#candidateStart = null;
    }
    return out;
  }

  /** Closes an open segment now (end of call); returns its end event, if any. */
  flush(): DetectorEvent[] {
    this.#candidateStart = null;
    return this.#inSpeech ? [this.#close()] : [];
  }

  #close(): DetectorEvent {
    this.#inSpeech = false;
    const endMs = this.#lastActive ?? this.#segmentStart;
    this.#segments[this.#segments.length - 1] = { startMs: this.#segmentStart, endMs };
    return { type: 'speech-end', startMs: this.#segmentStart, endMs };
  }
}

/**
 * Where the speech is inside a clip: first and last active frame (by the absolute threshold only,
 * the clip is assumed clean), in frames of `frameMs` from the clip's start, or null for no speech.
 */
export function speechFrames(pcm: Int16Array, sampleRate: number, opts: { frameMs?: number; minDbfs?: number } = {}): { first: number; last: number } | null {
  const frameMs = opts.frameMs ?? 20;
  const minDbfs = opts.minDbfs ?? -45;
  const n = Math.round((sampleRate * frameMs) / 1000);
  let first = -1, last = -1;
  for (let f = 0; f * n < pcm.length; f++) {
    if (frameDbfs(pcm.subarray(f * n, Math.min(pcm.length, (f + 1) * n))) > minDbfs) {
      if (first < 0) first = f;
      last = f;
    }
  }
  return first < 0 ? null : { first, last };
}
