/** RTP (RFC 3550 §5) parse and build: CSRC list, header extension (§5.3.1), padding. */

export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field (0xBEDE for RFC 8285 one-byte headers). */
  readonly profile: number;
  /** Extension body, a multiple of 4 bytes. */
  readonly data: Uint8Array;
}

export interface RtpPacket {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrc: readonly number[];
  readonly extension: RtpHeaderExtension | null;
  readonly payload: Uint8Array;
  /** Number of padding octets that were present (0 when none). */
  readonly paddingLength: number;
}

export type RtpParseError = 'too-short' | 'bad-version' | 'truncated-csrc' | 'truncated-extension' | 'bad-padding';
export type RtpParseResult = { readonly ok: true; readonly packet: RtpPacket } | { readonly ok: false; readonly error: RtpParseError };

/** True when the datagram looks like RTCP (RFC 5761 §4: PT 192..223 with the marker bit folded in). */
export function isRtcpPacket(buf: Uint8Array): boolean {
  if (buf.length < 2 || (buf[0]! >> 6) !== 2) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}

const NO_CSRC: readonly number[] = Object.freeze([]);

export function parseRtp(buf: Uint8Array): RtpParseResult {
  if (buf.length < 12) return { ok: false, error: 'too-short' };
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return { ok: false, error: 'bad-version' };
  const padding = (b0 & 0x20) !== 0;
  const hasExt = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const b1 = buf[1]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 12;
  if (buf.length < off + cc * 4) return { ok: false, error: 'truncated-csrc' };
  let csrc: readonly number[] = NO_CSRC;
  if (cc > 0) {
    const list: number[] = [];
    for (let i = 0; i < cc; i++, off += 4) list.push(dv.getUint32(off));
    csrc = list;
  }
  let extension: RtpHeaderExtension | null = null;
  if (hasExt) {
    if (buf.length < off + 4) return { ok: false, error: 'truncated-extension' };
    const profile = dv.getUint16(off);
    const words = dv.getUint16(off + 2);
    off += 4;
    if (buf.length < off + words * 4) return { ok: false, error: 'truncated-extension' };
    extension = { profile, data: buf.subarray(off, off + words * 4) };
    off += words * 4;
  }
  let end = buf.length;
  let paddingLength = 0;
  if (padding) {
    paddingLength = buf[buf.length - 1]!;
    if (paddingLength === 0 || off + paddingLength > buf.length) return { ok: false, error: 'bad-padding' };
    end -= paddingLength;
  }
  return {
    ok: true,
    packet: {
      marker: (b1 & 0x80) !== 0,
      payloadType: b1 & 0x7f,
      sequenceNumber: dv.getUint16(2),
      timestamp: dv.getUint32(4),
      ssrc: dv.getUint32(8),
      csrc,
      extension,
      payload: buf.subarray(off, end),
      paddingLength,
    },
  };
}

export interface RtpBuildInput {
  readonly marker?: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrc?: readonly number[];
  readonly extension?: RtpHeaderExtension | null;
  readonly payload: Uint8Array;
  /** Pad the packet to a multiple of this many bytes (e.g. 4); 0/undefined = no padding. */
  readonly padTo?: number;
}

export function buildRtp(p: RtpBuildInput): Buffer {
  const csrc = p.csrc ?? NO_CSRC;
  if (csrc.length > 15) throw new RangeError('at most 15 CSRCs');
  const ext = p.extension ?? null;
  if (ext && ext.data.length % 4 !== 0) throw new RangeError('extension length must be a multiple of 4');
  const headerLen = 12 + csrc.length * 4 + (ext ? 4 + ext.data.length : 0);
  let padLen = 0;
  if (p.padTo && p.padTo > 1) {
    const rem = (headerLen + p.payload.length) % p.padTo;
    padLen = rem === 0 ? 0 : p.padTo - rem;
  }
  const buf = Buffer.allocUnsafe(headerLen + p.payload.length + padLen);
  buf[0] = 0x80 | (padLen ? 0x20 : 0) | (ext ? 0x10 : 0) | csrc.length;
  buf[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  buf.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(p.timestamp >>> 0, 4);
  buf.writeUInt32BE(p.ssrc >>> 0, 8);
  let off = 12;
  for (const c of csrc) { buf.writeUInt32BE(c >>> 0, off); off += 4; }
  if (ext) {
    buf.writeUInt16BE(ext.profile & 0xffff, off);
    buf.writeUInt16BE(ext.data.length / 4, off + 2);
    buf.set(ext.data, off + 4);
    off += 4 + ext.data.length;
  }
  buf.set(p.payload, off);
  off += p.payload.length;
  if (padLen) {
    buf.fill(0, off, off + padLen - 1);
    buf[off + padLen - 1] = padLen;
  }
  return buf;
}

/**
 * Receiver-side sequence/loss/jitter bookkeeping per RFC 3550 Appendix A.1, A.3 and A.8.
 * `update()` returns the extended sequence number, or -1 while the source is on probation
 * is not used here: a new source is accepted at once (media sessions carry one negotiated peer).
 */
export class RtpReceiveStats {
  static readonly MAX_DROPOUT = 3000;
  static readonly MAX_MISORDER = 100;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #badSeq = -1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit: number | null = null;
  #jitter = 0;
  #started = false;
  clockRate: number;
  constructor(clockRate: number) { this.clockRate = clockRate; }

  reset(): void {
    this.#started = false; this.#cycles = 0; this.#received = 0; this.#badSeq = -1;
    this.#expectedPrior = 0; this.#receivedPrior = 0; this.#transit = null; this.#jitter = 0;
  }

  /**
   * Feeds one packet; returns its extended sequence number and whether the stream restarted
   * (a jump beyond MAX_DROPOUT confirmed by two consecutive packets).
   */
  update(seq: number, timestamp: number, arrivalMs: number): { extSeq: number; restarted: boolean } {
    let restarted = false;
    if (!this.#started) {
      this.#started = true; this.#baseSeq = seq; this.#maxSeq = seq; this.#cycles = 0; this.#badSeq = -1;
    } else {
      const udelta = (seq - this.#maxSeq) & 0xffff;
      if (udelta < RtpReceiveStats.MAX_DROPOUT) {
        if (seq < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = seq;
      } else if (udelta <= 0x10000 - RtpReceiveStats.MAX_MISORDER) {
        if (seq === this.#badSeq) {
          // Two sequential packets after a big jump: the sender restarted.
          this.reset();
          this.#started = true; this.#baseSeq = seq; this.#maxSeq = seq;
          restarted = true;
        } else {
          this.#badSeq = (seq + 1) & 0xffff;
          return { extSeq: -1, restarted: false };
        }
      }
      // else: duplicate or reordered packet, extended below relative to maxSeq.
    }
    this.#received++;
    // Interarrival jitter (A.8), in timestamp units.
    const arrivalTs = (arrivalMs * this.clockRate) / 1000;
    const transit = arrivalTs - timestamp;
    if (this.#transit !== null) {
      let d = transit - this.#transit;
      if (d < 0) d = -d;
      if (d < this.clockRate * 10) this.#jitter += (d - this.#jitter) / 16;
    }
    this.#transit = transit;
    // Extend relative to the highest sequence number.
    const maxExt = this.#cycles + this.#maxSeq;
    let diff = seq - this.#maxSeq;
    if (diff > 0x8000) diff -= 0x10000; else if (diff < -0x8000) diff += 0x10000;
    return { extSeq: maxExt + diff, restarted };
  }

  get started(): boolean { return this.#started; }
  get extendedMax(): number { return this.#cycles + this.#maxSeq; }
  get received(): number { return this.#received; }
  get expected(): number { return this.#started ? this.extendedMax - this.#baseSeq + 1 : 0; }
  get cumulativeLost(): number { return Math.max(0, this.expected - this.#received); }
  /** Interarrival jitter in timestamp units. */
  get jitter(): number { return this.#jitter; }
  get jitterMs(): number { return (this.#jitter * 1000) / this.clockRate; }

  /** Fraction lost since the previous call (A.3), as the 8-bit fixed-point value for RTCP. */
  takeFractionLost(): number {
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    if (expectedInterval === 0 || lostInterval <= 0) return 0;
    return Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
  }
}
