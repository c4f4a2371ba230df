/**
 * Acoustic onset of a speech run. Silero marks speech where it is sure, which for a word that
 * opens on a fricative or a breathy consonant ("Sorry", "Hello", "Stop") is 40-90 ms after the
 * first audible sound (up to ~150 ms, depending on where the 32 ms windows fall). Barge-in counts
 * its interruption duration from the onset, so that lag would be added to every barge-in. This
 * keeps the level of the last 2 s of caller frames and,
 * when the VAD reports speech, walks back from its start over the contiguous frames that stand
 * clearly above the line's noise floor (at most `maxBackMs`).
 */

const FRAME_MS = 20;
const HISTORY = 100; // frames: 2 s
/** A frame counts as sound when its RMS is this far above the noise floor (12 dB) ... */
const ABOVE_FLOOR = 4;
/** ... and above this absolute level (RMS, about -60 dBFS). */
const MIN_RMS = 33;
/** The floor is the quietest frame of the history, leaving out the frames just before the onset. */
const FLOOR_GAP_FRAMES = 10;

export class OnsetRefiner {
  readonly #rms = new Float32Array(HISTORY);
  /** When the packet that made each frame reached the socket (the session clock's ms). */
  readonly #arrival = new Float64Array(HISTORY);
  /** Frame number (atMs / 20) of the newest frame; -1 before the first. */
  #newest = -1;

  /** One 20 ms caller frame at `atMs` (caller-audio ms) whose packet arrived at `arrival`; `pcm` null = silence (DTX). */
  push(atMs: number, pcm: Int16Array | null, arrival: number): void {
    const k = Math.round(atMs / FRAME_MS);
    let sum = 0;
    if (pcm) for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
    // Frames skipped in between (none in practice: one per tick) read as silence.
    for (let j = Math.max(this.#newest + 1, k - HISTORY + 1); j < k; j++) { this.#rms[j % HISTORY] = 0; this.#arrival[j % HISTORY] = arrival; }
    this.#rms[k % HISTORY] = pcm && pcm.length ? Math.sqrt(sum / pcm.length) : 0;
    this.#arrival[k % HISTORY] = arrival;
    this.#newest = Math.max(this.#newest, k);
  }

  clear(): void { this.#newest = -1; }

  /**
   * The onset of the speech run the VAD reported at `vadAtMs` (never later than it), and when its
   * packet reached the socket (null when that frame is no longer, or not yet, in the history).
   */
  refine(vadAtMs: number, maxBackMs = 200): { atMs: number; arrival: number | null } {
    const start = Math.floor(vadAtMs / FRAME_MS);
    const oldest = Math.max(0, this.#newest - HISTORY + 1);
    if (this.#newest < 0 || start > this.#newest || start < oldest) return { atMs: vadAtMs, arrival: null };
    let k = start;
    if (start - FLOOR_GAP_FRAMES - 1 >= oldest) {
      let floor = Infinity;
      for (let j = oldest; j < start - FLOOR_GAP_FRAMES; j++) floor = Math.min(floor, this.#rms[j % HISTORY]!);
      const threshold = Math.max(MIN_RMS, floor * ABOVE_FLOOR);
      const limit = Math.max(oldest, start - Math.floor(maxBackMs / FRAME_MS));
      while (k - 1 >= limit && this.#rms[(k - 1) % HISTORY]! > threshold) k--;
    }
    if (k === start) return { atMs: vadAtMs, arrival: this.#arrival[start % HISTORY]! + (vadAtMs - start * FRAME_MS) };
    return { atMs: k * FRAME_MS, arrival: this.#arrival[k % HISTORY]! };
  }
}
