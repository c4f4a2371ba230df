/**
 * Packet loss concealment by pitch-synchronous waveform substitution, after ITU-T G.711
 * Appendix I (simplified): on a loss, the pitch period of the recent history is found by
 * normalised autocorrelation (2.5..15 ms), the last period is repeated with continuous phase,
 * full level for the first 10 ms, then fading by 20 % per 10 ms to silence after 60 ms. The
 * first good frame after a loss is cross-faded (4 ms) with the continued synthetic signal.
 * Works at any rate (8 kHz G.711, 16 kHz G.722/Opus).
 */
export class Concealer {
  readonly rate: number;
  readonly #hist: Int16Array;
  #histFill = 0;
  #period = 0;
  #phase = 0;
  #lostSamples = 0;
  #minLag: number;
  #maxLag: number;

  constructor(rate: number) {
    this.rate = rate;
    this.#hist = new Int16Array(Math.round(rate * 0.048)); // 48 ms
    this.#minLag = Math.round(rate * 0.0025);
    this.#maxLag = Math.round(rate * 0.015);
  }

  /** True while concealing (the next good frame will be cross-faded). */
  get concealing(): boolean { return this.#lostSamples > 0; }

  /** Feeds a good (decoded) frame; returns it, cross-faded if it ends a loss. */
  good(frame: Int16Array): Int16Array {
    let out = frame;
    if (this.#lostSamples > 0 && this.#period > 0) {
      const fade = Math.min(frame.length, Math.round(this.rate * 0.004));
      out = frame.slice();
      const gain = this.#gain(this.#lostSamples);
      for (let i = 0; i < fade; i++) {
        const w = (i + 1) / (fade + 1);
        const synth = this.#synth(i) * gain;
        out[i] = Math.round(out[i]! * w + synth * (1 - w));
      }
    }
    this.#lostSamples = 0;
    this.#period = 0;
    this.#push(out);
    return out;
  }

  /** Synthesises `n` samples for a lost frame. */
  conceal(n: number): Int16Array {
    const out = new Int16Array(n);
    if (this.#histFill < this.#maxLag * 2) { this.#lostSamples += n; return out; }
    // Faded out (60 ms and more): silence, without synthesis. A line that stops sending (DTX, a
    // stalled peer) costs nothing per frame from here on.
    if (this.#lostSamples > 0 && this.#gain(this.#lostSamples) === 0) { this.#lostSamples += n; return out; }
    if (this.#lostSamples === 0) {
      this.#period = this.#findPitch();
      this.#phase = 0;
    }
    for (let i = 0; i < n; i++) {
      const g = this.#gain(this.#lostSamples + i);
      out[i] = g > 0 ? Math.round(this.#synth(i) * g) : 0;
    }
    this.#phase = (this.#phase + n) % this.#period;
    this.#lostSamples += n;
    // The synthetic signal becomes history, so a long loss keeps its phase.
    return out;
  }

  reset(): void { this.#histFill = 0; this.#lostSamples = 0; this.#period = 0; this.#hist.fill(0); }

  #synth(i: number): number {
    const h = this.#hist, p = this.#period;
    return h[h.length - p + ((this.#phase + i) % p)]!;
  }

  #gain(lost: number): number {
    const ms = (lost * 1000) / this.rate;
    if (ms < 10) return 1;
    return Math.max(0, 1 - 0.2 * Math.floor((ms - 10) / 10 + 1));
  }

  #push(frame: Int16Array): void {
    const h = this.#hist;
    if (frame.length >= h.length) h.set(frame.subarray(frame.length - h.length));
    else { h.copyWithin(0, frame.length); h.set(frame, h.length - frame.length); }
    this.#histFill = Math.min(h.length, this.#histFill + frame.length);
  }

  #findPitch(): number {
    const h = this.#hist;
    const win = Math.round(this.rate * 0.02);
    const end = h.length;
    let best = this.#minLag, bestScore = -Infinity;
    for (let lag = this.#minLag; lag <= this.#maxLag; lag++) {
      let xy = 0, yy = 0;
      for (let i = end - win; i < end; i++) { const y = h[i - lag]!; xy += h[i]! * y; yy += y * y; }
      const score = yy > 0 ? xy / Math.sqrt(yy) : 0;
      if (score > bestScore) { bestScore = score; best = lag; }
    }
    return best;
  }
}
