/** RFC 4733 telephone-events: payload codec, receiver with end-bit de-duplication, sender. */
import { MediaError } from './errors.js';

export const DTMF_DIGITS = '0123456789*#ABCD';
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

export function isDtmfDigit(d: string): d is DtmfDigit {
  return d.length === 1 && DTMF_DIGITS.includes(d.toUpperCase());
}

export function digitToEvent(d: string): number {
  const i = DTMF_DIGITS.indexOf(d.toUpperCase());
  if (d.length !== 1 || i < 0) throw new MediaError('BAD_DIGIT', `not a DTMF digit: ${JSON.stringify(d)}`);
  return i;
}

export function eventToDigit(e: number): DtmfDigit | null {
  return e >= 0 && e < 16 ? (DTMF_DIGITS[e] as DtmfDigit) : null;
}

export interface TelephoneEvent {
  readonly event: number;
  readonly end: boolean;
  /** 0..63, -dBm0. */
  readonly volume: number;
  /** In RTP timestamp units. */
  readonly duration: number;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (payload.length < 4) return null;
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}

export function buildTelephoneEvent(ev: TelephoneEvent): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = ev.event & 0xff;
  out[1] = (ev.end ? 0x80 : 0) | (ev.volume & 0x3f);
  const d = Math.min(0xffff, ev.duration);
  out[2] = d >> 8;
  out[3] = d & 0xff;
  return out;
}

export interface ReceivedDigit {
  readonly digit: DtmfDigit;
  readonly durationMs: number;
}

/**
 * Turns a stream of telephone-event packets into digits. One digit per event (keyed by the RTP
 * timestamp): reported on the first end packet; the retransmitted end packets are ignored. If all
 * end packets are lost, the digit is reported when the next event starts or by `flush()`.
 */
export class DtmfReceiver {
  #clockRate: number;
  #currentTs: number | null = null;
  #currentEvent = -1;
  #currentDuration = 0;
  #currentEnded = false;
  #lastPacketAt = 0;
  #finished: number[] = [];

  constructor(clockRate: number) { this.#clockRate = clockRate; }

  set clockRate(r: number) { this.#clockRate = r; }

  push(timestamp: number, ev: TelephoneEvent, nowMs: number): ReceivedDigit[] {
    const out: ReceivedDigit[] = [];
    this.#lastPacketAt = nowMs;
    if (this.#finished.includes(timestamp)) return out; // retransmitted end packets
    if (this.#currentTs !== timestamp) {
      const pending = this.#takePending();
      if (pending) out.push(pending);
      this.#currentTs = timestamp;
      this.#currentEvent = ev.event;
      this.#currentDuration = 0;
      this.#currentEnded = false;
    }
    this.#currentDuration = Math.max(this.#currentDuration, ev.duration);
    if (ev.end && !this.#currentEnded) {
      this.#currentEnded = true;
      const d = this.#digit();
      this.#finish(timestamp);
      if (d) out.push(d);
    }
    return out;
  }

  /** Reports a digit whose end packets never came, once `idleMs` passed without packets. */
  flush(nowMs: number, idleMs = 500): ReceivedDigit | null {
    if (this.#currentTs === null || this.#currentEnded || nowMs - this.#lastPacketAt < idleMs) return null;
    return this.#takePending();
  }

  reset(): void {
    this.#currentTs = null;
    this.#currentEnded = false;
    this.#finished = [];
  }

  #takePending(): ReceivedDigit | null {
    if (this.#currentTs === null || this.#currentEnded) return null;
    const d = this.#digit();
    this.#currentEnded = true;
    this.#finish(this.#currentTs);
    return d;
  }

  #finish(ts: number): void {
    this.#finished.push(ts);
    if (this.#finished.length > 16) this.#finished.shift();
  }

  #digit(): ReceivedDigit | null {
    const digit = eventToDigit(this.#currentEvent);
    if (!digit) return null;
    return { digit, durationMs: Math.round((this.#currentDuration * 1000) / this.#clockRate) };
  }
}

export interface DtmfPacketOut {
  readonly payload: Uint8Array;
  readonly marker: boolean;
  /** RTP timestamp of the event start (constant across the event's packets). */
  readonly timestamp: number;
}

/**
 * Produces one telephone-event packet per media tick while a digit is being sent: the first with
 * the marker bit, growing durations, then the end packet three times, then a short pause.
 */
export class DtmfSender {
  #queue: { event: number; durationMs: number }[] = [];
  #cur: { event: number; samples: number; sent: number; ts: number; ends: number; first: boolean } | null = null;
  #gapTicks = 0;
  #volume: number;

  constructor(volume = 10) { this.#volume = volume; }

  enqueue(digit: string, durationMs: number): void {
    const event = digitToEvent(digit);
    const d = Math.max(40, Math.min(5000, Math.round(durationMs)));
    this.#queue.push({ event, durationMs: d });
  }

  get active(): boolean { return this.#cur !== null || this.#queue.length > 0 || this.#gapTicks > 0; }
  get pending(): number { return this.#queue.length + (this.#cur ? 1 : 0); }

  clear(): void { this.#queue = []; this.#cur = null; this.#gapTicks = 0; }

  /**
   * Next packet for this tick, or null when the tick should carry audio (idle, or the pause
   * between digits). `rtpTimestamp` is the timestamp this tick would have had; `frameSamples`
   * is one tick in RTP clock units.
   */
  next(rtpTimestamp: number, frameSamples: number, clockRate: number): DtmfPacketOut | null {
    if (this.#cur === null) {
      if (this.#gapTicks > 0) { this.#gapTicks--; return null; }
      const q = this.#queue.shift();
      if (!q) return null;
      this.#cur = { event: q.event, samples: Math.round((q.durationMs * clockRate) / 1000), sent: 0, ts: rtpTimestamp >>> 0, ends: 0, first: true };
    }
    const c = this.#cur;
    const marker = c.first;
    c.first = false;
    if (c.sent < c.samples) {
      c.sent = Math.min(c.samples, c.sent + frameSamples);
      if (c.sent < c.samples) {
        return { marker, timestamp: c.ts, payload: buildTelephoneEvent({ event: c.event, end: false, volume: this.#volume, duration: c.sent }) };
      }
    }
    c.ends++;
    const pkt = { marker, timestamp: c.ts, payload: buildTelephoneEvent({ event: c.event, end: true, volume: this.#volume, duration: c.sent }) };
    if (c.ends >= 3) { this.#cur = null; this.#gapTicks = 2; }
    return pkt;
  }
}
