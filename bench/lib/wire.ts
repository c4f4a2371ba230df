/**
 * Talk spurts on the wire: from captured RTP packets with decoded peaks, the stretches where a
 * stream carried audible audio (gaps shorter than `bridgeMs` are bridged: pauses between words).
 */
import type { RtpPacket } from './capture.js';

export interface Spurt {
  /** First / last audible packet, kernel time (ms since the epoch). */
  readonly start: number;
  readonly end: number;
}

export function spurts(packets: readonly RtpPacket[], opts: { audible: number; bridgeMs: number }): Spurt[] {
  const out: { start: number; end: number }[] = [];
  const sorted = [...packets].sort((a, b) => a.t - b.t);
  for (const p of sorted) {
    if ((p.peak ?? 0) <= opts.audible) continue;
    const last = out[out.length - 1];
    if (last && p.t - last.end <= opts.bridgeMs) last.end = p.t;
    else out.push({ start: p.t, end: p.t });
  }
  return out;
}
