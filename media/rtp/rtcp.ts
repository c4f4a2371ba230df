/** RTCP (RFC 3550 §6): SR, RR, SDES CNAME, BYE; compound build and parse. */

export interface ReportBlock {
  readonly ssrc: number;
  /** 8-bit fixed point fraction (0..255). */
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source (0 if none). */
  readonly lastSr: number;
  /** Delay since that SR in 1/65536 s. */
  readonly delaySinceLastSr: number;
}

export interface SenderInfo {
  readonly ntpSec: number;
  readonly ntpFrac: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export type RtcpPacket =
  | { readonly type: 'sr'; readonly ssrc: number; readonly sender: SenderInfo; readonly reports: readonly ReportBlock[] }
  | { readonly type: 'rr'; readonly ssrc: number; readonly reports: readonly ReportBlock[] }
  | { readonly type: 'sdes'; readonly chunks: readonly { ssrc: number; cname: string | null }[] }
  | { readonly type: 'bye'; readonly ssrcs: readonly number[] }
  | { readonly type: 'other'; readonly packetType: number };

const NTP_EPOCH_OFFSET = 2208988800;

export function ntpNow(nowMs = Date.now()): { sec: number; frac: number } {
  const sec = Math.floor(nowMs / 1000) + NTP_EPOCH_OFFSET;
  const frac = Math.floor(((nowMs % 1000) / 1000) * 0x100000000);
  return { sec: sec >>> 0, frac: frac >>> 0 };
}

/** Middle 32 bits of an NTP timestamp. */
export function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

function writeReport(buf: Buffer, off: number, r: ReportBlock): void {
  buf.writeUInt32BE(r.ssrc >>> 0, off);
  buf[off + 4] = r.fractionLost & 0xff;
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost));
  buf.writeIntBE(lost, off + 5, 3);
  buf.writeUInt32BE(r.highestSeq >>> 0, off + 8);
  buf.writeUInt32BE(Math.min(0xffffffff, Math.round(r.jitter)) >>> 0, off + 12);
  buf.writeUInt32BE(r.lastSr >>> 0, off + 16);
  buf.writeUInt32BE(r.delaySinceLastSr >>> 0, off + 20);
}

export function buildSenderReport(ssrc: number, sender: SenderInfo, reports: readonly ReportBlock[] = []): Buffer {
  const len = 28 + reports.length * 24;
  const buf = Buffer.alloc(len);
  buf[0] = 0x80 | reports.length;
  buf[1] = 200;
  buf.writeUInt16BE(len / 4 - 1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  buf.writeUInt32BE(sender.ntpSec >>> 0, 8);
  buf.writeUInt32BE(sender.ntpFrac >>> 0, 12);
  buf.writeUInt32BE(sender.rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(sender.packetCount >>> 0, 20);
  buf.writeUInt32BE(sender.octetCount >>> 0, 24);
  reports.forEach((r, i) => writeReport(buf, 28 + i * 24, r));
  return buf;
}

export function buildReceiverReport(ssrc: number, reports: readonly ReportBlock[]): Buffer {
  const len = 8 + reports.length * 24;
  const buf = Buffer.alloc(len);
  buf[0] = 0x80 | reports.length;
  buf[1] = 201;
  buf.writeUInt16BE(len / 4 - 1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  reports.forEach((r, i) => writeReport(buf, 8 + i * 24, r));
  return buf;
}

export function buildSdes(ssrc: number, cname: string): Buffer {
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  const chunkLen = 4 + 2 + name.length + 1; // ssrc + item header + text + END
  const padded = Math.ceil(chunkLen / 4) * 4;
  const buf = Buffer.alloc(4 + padded);
  buf[0] = 0x81;
  buf[1] = 202;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  buf[8] = 1;
  buf[9] = name.length;
  name.copy(buf, 10);
  return buf;
}

export function buildBye(ssrc: number): Buffer {
  const buf = Buffer.alloc(8);
  buf[0] = 0x81;
  buf[1] = 203;
  buf.writeUInt16BE(1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  return buf;
}

function readReports(buf: Buffer, off: number, count: number, end: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count && off + 24 <= end; i++, off += 24) {
    out.push({
      ssrc: buf.readUInt32BE(off),
      fractionLost: buf[off + 4]!,
      cumulativeLost: buf.readIntBE(off + 5, 3),
      highestSeq: buf.readUInt32BE(off + 8),
      jitter: buf.readUInt32BE(off + 12),
      lastSr: buf.readUInt32BE(off + 16),
      delaySinceLastSr: buf.readUInt32BE(off + 20),
    });
  }
  return out;
}

/** Parses a compound RTCP packet. Returns null for anything malformed. */
export function parseRtcp(input: Uint8Array): RtcpPacket[] | null {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    if (buf[off]! >> 6 !== 2) return null;
    const count = buf[off]! & 0x1f;
    const pt = buf[off + 1]!;
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    const end = off + len;
    if (end > buf.length) return null;
    if (pt === 200 && len >= 28) {
      out.push({
        type: 'sr', ssrc: buf.readUInt32BE(off + 4),
        sender: {
          ntpSec: buf.readUInt32BE(off + 8), ntpFrac: buf.readUInt32BE(off + 12), rtpTimestamp: buf.readUInt32BE(off + 16),
          packetCount: buf.readUInt32BE(off + 20), octetCount: buf.readUInt32BE(off + 24),
        },
        reports: readReports(buf, off + 28, count, end),
      });
    } else if (pt === 201 && len >= 8) {
      out.push({ type: 'rr', ssrc: buf.readUInt32BE(off + 4), reports: readReports(buf, off + 8, count, end) });
    } else if (pt === 202) {
      const chunks: { ssrc: number; cname: string | null }[] = [];
      let p = off + 4;
      for (let c = 0; c < count && p + 4 <= end; c++) {
        const ssrc = buf.readUInt32BE(p);
        p += 4;
        let cname: string | null = null;
        while (p < end && buf[p] !== 0) {
          const t = buf[p]!, l = buf[p + 1] ?? 0;
          if (t === 1) cname = buf.toString('utf8', p + 2, Math.min(end, p + 2 + l));
          p += 2 + l;
        }
        p = Math.ceil((p + 1 - off) / 4) * 4 + off;
        chunks.push({ ssrc, cname });
      }
      out.push({ type: 'sdes', chunks });
    } else if (pt === 203) {
      const ssrcs: number[] = [];
      for (let i = 0; i < count && off + 8 + i * 4 <= end; i++) ssrcs.push(buf.readUInt32BE(off + 4 + i * 4));
      out.push({ type: 'bye', ssrcs });
    } else {
      out.push({ type: 'other', packetType: pt });
    }
    off = end;
  }
  return out.length ? out : null;
}
