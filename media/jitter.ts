/**
 * Adaptive jitter buffer, ordered by extended RTP sequence number.
 *
 * - push(): duplicates (still queued or recently played) are dropped and counted; packets older
 *   than the playout point are "late" (dropped, and the target delay grows by one frame);
 *   out-of-order arrivals are counted as reordered and slotted in place.
 * - pop() is called once per 20 ms media tick (more often when packets are shorter than a tick).
 *   It returns the next packet, `conceal` for a lost one (the caller synthesises a frame), or
 *   `idle` while (re)buffering or when the stream has stopped.
 * - Target delay: starts at `initialDelayMs`, follows 3x the RFC 3550 interarrival jitter + one
 *   frame, grows by one frame on each underrun or late packet, shrinks slowly (one frame after
 *   ~10 s of calm) within [minDelayMs, maxDelayMs]. Added delay is only taken at talkspurt
 *   starts (marker bit) or after an underrun; sustained excess depth is trimmed by dropping one
 *   frame per 200 ms.
 * - Timestamp jumps with contiguous sequence numbers (silence suppression, DTMF) play on;
 *   a sequence jump larger than 3000 resets the buffer (sender restart).
 */

export interface JitterPacket {
  /** Extended (32-bit+, wrap-free) sequence number. */
  readonly seq: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payload: Uint8Array;
  /** Arrival time in ms (MediaClock time source). */
  readonly arrival: number;
}

export interface JitterOptions {
  readonly clockRate: number;
  readonly frameMs?: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly initialDelayMs?: number;
  /** Frames concealed in a row with an empty buffer before going idle. Default 3. */
  readonly maxConcealFrames?: number;
}

export type JitterPush = 'queued' | 'duplicate' | 'late' | 'reset';
export type JitterPop =
  | { readonly type: 'packet'; readonly packet: JitterPacket }
  | { readonly type: 'conceal' }
  | { readonly type: 'idle' };

export interface JitterStats {
  readonly depth: number;
  readonly targetDelayMs: number;
  /** Smoothed time packets spent in the buffer. */
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly received: number;
  readonly played: number;
  readonly duplicates: number;
  readonly late: number;
  readonly reordered: number;
  readonly lost: number;
  readonly concealed: number;
  readonly dropped: number;
  readonly underruns: number;
  readonly resets: number;
}

const RECENT = 128;

/**
 * The buffered packets by extended sequence number, ascending, in a sorted array: the buffer holds
 * a few dozen at most and packets mostly arrive in order (append) and leave from the front. A Map
 * here rehashed its table every few packets, garbage that outlived the young generation.
 */
class SeqStore {
  readonly #a: JitterPacket[] = [];
  get size(): number { return this.#a.length; }
  /** Index of `seq`, or -(insertion point) - 1. */
  #find(seq: number): number {
    const a = this.#a;
    let lo = 0, hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = a[mid]!.seq;
      if (s < seq) lo = mid + 1;
      else if (s > seq) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }
  has(seq: number): boolean { return this.#find(seq) >= 0; }
  get(seq: number): JitterPacket | undefined { const i = this.#find(seq); return i >= 0 ? this.#a[i] : undefined; }
  add(p: JitterPacket): void {
    const a = this.#a;
    if (a.length === 0 || a[a.length - 1]!.seq < p.seq) { a.push(p); return; }
    const i = this.#find(p.seq);
    if (i >= 0) a[i] = p;
    else a.splice(-i - 1, 0, p);
  }
  delete(seq: number): boolean {
    const i = this.#find(seq);
    if (i < 0) return false;
    if (i === 0) this.#a.shift();
    else this.#a.splice(i, 1);
    return true;
  }
  /** The lowest sequence number held (Infinity when empty). */
  oldest(): number { return this.#a.length ? this.#a[0]!.seq : Infinity; }
  clear(): void { this.#a.length = 0; }
}

export class JitterBuffer {
  readonly clockRate: number;
  readonly frameMs: number;
  readonly #minFrames: number;
  readonly #maxFrames: number;
  readonly #maxConceal: number;
  readonly #packets = new SeqStore();
  /**
   * Sequence numbers recently played or dropped, direct-mapped (slot = seq mod 128), so a late
   * duplicate is recognised. No Set: its add/delete churn per packet was garbage that outlived the
   * young generation on a media thread.
   */
  readonly #recent = new Float64Array(RECENT).fill(-1);
  #playing = false;
  #next = 0;
  #highest = -Infinity;
  #target: number;
  #calmPops = 0;
  #over = 0;
  #concealRun = 0;
  #lastTransit: number | null = null;
  #jitter = 0; // ms
  #delay = 0;
  #s = { received: 0, played: 0, duplicates: 0, late: 0, reordered: 0, lost: 0, concealed: 0, dropped: 0, underruns: 0, resets: 0 };

  constructor(opts: JitterOptions) {
    this.clockRate = opts.clockRate;
    this.frameMs = opts.frameMs ?? 20;
    this.#minFrames = Math.max(1, Math.round((opts.minDelayMs ?? 40) / this.frameMs));
    this.#maxFrames = Math.max(this.#minFrames, Math.round((opts.maxDelayMs ?? 300) / this.frameMs));
    this.#target = Math.min(this.#maxFrames, Math.max(this.#minFrames, Math.round((opts.initialDelayMs ?? 60) / this.frameMs)));
    this.#maxConceal = opts.maxConcealFrames ?? 3;
  }

  get playing(): boolean { return this.#playing; }
  get size(): number { return this.#packets.size; }
  get targetDelayMs(): number { return this.#target * this.frameMs; }
  /** Smoothed time packets spend in the buffer, ms. */
  get delayMs(): number { return this.#delay; }
  /** Frames buffered beyond the target (+1 frame of slack): a burst to deliver faster. */
  get excessFrames(): number { return this.#playing ? Math.max(0, this.#packets.size - this.#target - 1) : 0; }
  /** True when the next packet in sequence is here (pop() would return it). */
  get hasNext(): boolean { return this.#playing && this.#packets.has(this.#next); }

  /** Drops everything (SSRC change, codec change, hold). Counters survive. */
  reset(): void {
    this.#packets.clear();
    this.#recent.fill(-1);
    this.#playing = false;
    this.#highest = -Infinity;
    this.#lastTransit = null;
    this.#concealRun = 0;
  }

  push(p: JitterPacket): JitterPush {
    let result: JitterPush = 'queued';
    if (this.#highest !== -Infinity && Math.abs(p.seq - this.#highest) > 3000) {
      this.reset();
      this.#s.resets++;
      result = 'reset';
    }
    if (this.#packets.has(p.seq) || this.#recent[p.seq % RECENT] === p.seq) { this.#s.duplicates++; return 'duplicate'; }
    if (this.#playing && p.seq < this.#next) {
      this.#s.late++;
      this.#grow();
      return 'late';
    }
    this.#s.received++;
    // RFC 3550 A.8 interarrival jitter, in ms.
    const transit = p.arrival - (p.timestamp * 1000) / this.clockRate;
    if (this.#lastTransit !== null && p.seq > this.#highest) {
      const d = Math.abs(transit - this.#lastTransit);
      if (d < 1000) this.#jitter += (d - this.#jitter) / 16;
    }
    if (p.seq > this.#highest) { this.#lastTransit = transit; this.#highest = p.seq; }
    else this.#s.reordered++;
    this.#packets.add(p);
    const desired = Math.ceil((3 * this.#jitter) / this.frameMs) + 1;
    if (desired > this.#target) this.#target = Math.min(this.#maxFrames, desired);
    // Hard cap: never hold more than twice the maximum delay.
    while (this.#packets.size > this.#maxFrames * 2) {
      const oldest = this.#packets.oldest();
      this.#packets.delete(oldest);
      this.#s.dropped++;
      if (this.#playing && oldest >= this.#next) this.#next = oldest + 1;
    }
    return result;
  }

  pop(now: number): JitterPop {
    if (!this.#playing) {
      if (this.#packets.size === 0) return { type: 'idle' };
      const oldest = this.#packets.oldest();
      const first = this.#packets.get(oldest)!;
      if (this.#packets.size < this.#target && now - first.arrival < this.#target * this.frameMs) return { type: 'idle' };
      this.#playing = true;
      this.#next = oldest;
    }
    const p = this.#packets.get(this.#next);
    if (p) {
      // Talkspurt start below target depth: the one safe moment to add delay.
      if (p.marker && this.#concealRun > 0 && this.#packets.size < this.#target && now - p.arrival < this.#target * this.frameMs) {
        return { type: 'idle' };
      }
      this.#packets.delete(this.#next);
      this.#remember(this.#next);
      this.#next++;
      this.#concealRun = 0;
      this.#s.played++;
      this.#delay += (now - p.arrival - this.#delay) / 16;
      this.#adapt();
      return { type: 'packet', packet: p };
    }
    if (this.#packets.size === 0) {
      // Nothing buffered: either a loss at the tail or the stream paused. Conceal a little, keep
      // waiting for the same sequence number (a slow sender is not a loss).
      this.#concealRun++;
      if (this.#concealRun > this.#maxConceal) {
        this.#playing = false;
        this.#s.underruns++;
        this.#grow();
        return { type: 'idle' };
      }
      this.#s.concealed++;
      return { type: 'conceal' };
    }
    // A gap with later packets present: the packet is lost (or later than our delay).
    this.#s.lost++;
    this.#s.concealed++;
    this.#next++;
    this.#concealRun++;
    return { type: 'conceal' };
  }

  stats(): JitterStats {
    return {
      depth: this.#packets.size,
      targetDelayMs: this.#target * this.frameMs,
      delayMs: Math.round(this.#delay * 10) / 10,
      jitterMs: Math.round(this.#jitter * 100) / 100,
      ...this.#s,
    };
  }

  #grow(): void {
    this.#target = Math.min(this.#maxFrames, this.#target + 1);
    this.#calmPops = 0;
  }

  #adapt(): void {
    // Trim excess depth (sender clock faster than ours, or a burst after a stall), gently: one
    // frame per 200 ms of sustained excess, so a one-off burst costs little audio.
    if (this.#packets.size > this.#target + 2) {
      if (++this.#over >= 10) {
        this.#over = 0;
        const seq = this.#next;
        if (this.#packets.delete(seq)) { this.#remember(seq); this.#s.dropped++; }
        this.#next++;
      }
    } else this.#over = 0;
    if (++this.#calmPops >= 500) {
      this.#calmPops = 0;
      const desired = Math.max(this.#minFrames, Math.ceil((3 * this.#jitter) / this.frameMs) + 1);
      if (this.#target > desired) this.#target--;
    }
  }

  #remember(seq: number): void {
    this.#recent[seq % RECENT] = seq;
  }
}
