/**
 * The media clock: ONE timer for all sessions of a process, ticking every `frameMs` (20 ms) on
 * absolute deadlines `t0 + n * frameMs` (never `setInterval`, whose error accumulates).
 *
 * Wake-up: a timer is armed `spinMs` before the deadline (Node timers have ~1 ms granularity and
 * fire late, never early). The rest is slept with `Atomics.wait` on a private word, a futex wait
 * with a sub-millisecond timeout (no CPU, no allocation), up to 50 µs before the deadline, and
 * only those last microseconds are spun, so the tick starts on the deadline (only while there are
 * listeners: an idle engine neither waits nor spins). A pure spin over the whole remainder cost
 * 7 % of a core per media thread and made ~17 MB/s of garbage (boxed `performance.now()` results),
 * whose collections were the media thread's longest stalls.
 *
 * Late wake-up policy (event loop blocked, machine overloaded): if we wake up one or more whole
 * frames after a deadline, the missed ticks are SKIPPED, not replayed: listeners get one tick whose
 * `index` has jumped by `skipped + 1`. Sessions send one packet per tick, so there is never a
 * burst; RTP timestamps follow the tick index, so the far end sees a timestamp gap (concealed like
 * loss) instead of a growing delay, and queued audio is not dropped (it plays on after the gap).
 * A wake-up that is late by less than one frame is counted (`lateWakeups`) but sent normally.
 */

export interface TimeSource {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** True when busy-waiting makes sense (a real clock); a fake clock returns false. */
  readonly canSpin: boolean;
}

export const realTimeSource: TimeSource = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  canSpin: true,
};

export interface ClockTick {
  /** Frame index since the clock started; consecutive unless ticks were skipped. */
  readonly index: number;
  /** The absolute deadline of this tick (TimeSource ms). */
  readonly deadline: number;
  /** When the tick actually started. */
  readonly now: number;
  /** Ticks skipped right before this one (late wake-up). */
  readonly skipped: number;
}

export interface ClockStats {
  readonly ticks: number;
  readonly lateWakeups: number;
  readonly skippedTicks: number;
  readonly maxLateMs: number;
  readonly listenerErrors: number;
}

export interface MediaClockOptions {
  readonly frameMs?: number;
  readonly time?: TimeSource;
  /** Wake-up budget before each deadline (slept, then the last 50 µs spun). Default 1.5 ms; 0 disables it. */
  readonly spinMs?: number;
  /** A wake-up later than this counts as late. Default 2 ms. */
  readonly lateThresholdMs?: number;
}

export type TickListener = (tick: ClockTick) => void;

/** Word nobody notifies: Atomics.wait on it is a precise sleep of the calling thread. */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
/** Spun, not slept, right before a deadline: a futex wake-up itself can be tens of µs late. */
const SPIN_TAIL_MS = 0.05;

export class MediaClock {
  readonly frameMs: number;
  readonly #time: TimeSource;
  readonly #spinMs: number;
  readonly #lateMs: number;
  #send = new Set<TickListener>();
  #listeners = new Set<TickListener>();
  #timer: unknown = null;
  #running = false;
  #t0 = 0;
  #index = 0;
  #ticks = 0;
  #late = 0;
  #skipped = 0;
  #maxLate = 0;
  #errors = 0;

  constructor(opts: MediaClockOptions = {}) {
    this.frameMs = opts.frameMs ?? 20;
    this.#time = opts.time ?? realTimeSource;
    this.#spinMs = this.#time.canSpin ? (opts.spinMs ?? 1.5) : 0;
    this.#lateMs = opts.lateThresholdMs ?? 2;
  }

  get time(): TimeSource { return this.#time; }
  get running(): boolean { return this.#running; }
  /** The index the next tick will carry (sessions use it to align their first packet). */
  get nextIndex(): number { return this.#index; }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#t0 = this.#time.now();
    this.#index = 0;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#time.clearTimer(this.#timer);
    this.#timer = null;
  }

  /**
   * Adds a tick listener; returns a function that removes it. `send` listeners run first, all of
   * them, right on the deadline (they should only build and send their packet); `work` listeners
   * (receive, decode, events, VAD) run after every session has sent, so their cost never delays
   * another session's packet.
   */
  add(listener: TickListener, phase: 'send' | 'work' = 'work'): () => void {
    const set = phase === 'send' ? this.#send : this.#listeners;
    set.add(listener);
    return () => { set.delete(listener); };
  }

  get listenerCount(): number { return this.#listeners.size + this.#send.size; }

  stats(): ClockStats {
    return { ticks: this.#ticks, lateWakeups: this.#late, skippedTicks: this.#skipped, maxLateMs: this.#maxLate, listenerErrors: this.#errors };
  }

  #deadline(index: number): number { return this.#t0 + index * this.frameMs; }

  #arm(): void {
    if (!this.#running) return;
    const wait = this.#deadline(this.#index) - this.#time.now() - this.#spinMs;
    this.#timer = this.#time.setTimer(() => this.#wake(), Math.max(0, wait));
  }

  #wake(): void {
    this.#timer = null;
    if (!this.#running) return;
    let deadline = this.#deadline(this.#index);
    let now = this.#time.now();
    if (this.#spinMs > 0 && now < deadline) {
      // Only when someone listens: an idle engine must not hold its thread.
      if (this.listenerCount > 0) {
        const sleep = deadline - now - SPIN_TAIL_MS;
        if (sleep > 0) {
          Atomics.wait(SLEEPER, 0, 0, sleep);
          now = this.#time.now();
        }
        while (now < deadline) now = this.#time.now();
      }
    } else if (now < deadline) {
      // Fake clocks never spin: re-arm for the remainder.
      this.#arm();
      return;
    }
    const lateBy = now - deadline;
    let skipped = 0;
    if (lateBy >= this.frameMs) {
      skipped = Math.floor(lateBy / this.frameMs);
      this.#index += skipped;
      this.#skipped += skipped;
      deadline = this.#deadline(this.#index);
    }
    if (lateBy > this.#lateMs) this.#late++;
    if (lateBy > this.#maxLate) this.#maxLate = lateBy;
    const tick: ClockTick = { index: this.#index, deadline, now, skipped };
    this.#ticks++;
    for (const l of this.#send) {
      try { l(tick); } catch { this.#errors++; }
    }
    for (const l of this.#listeners) {
      try { l(tick); } catch { this.#errors++; }
    }
    this.#index++;
    this.#arm();
  }
}
