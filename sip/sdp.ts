/**
 * SDP offer/answer (RFC 3264) for one audio stream, using sdp-transform. Codec capabilities come
 * in as plain data from whoever owns the media (sip/ never imports media/).
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';

export interface CodecCapability {
  /** Encoding name as in rtpmap: PCMU, PCMA, G722, opus... */
  name: string;
  /** RTP clock rate as in rtpmap (G722 is 8000). */
  clockRate: number;
  channels?: number;
  payloadType: number;
  fmtp?: string;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface LocalMedia {
  /** Address RTP should be sent to (advertised address). */
  address: string;
  port: number;
  /** In order of preference. */
  codecs: readonly CodecCapability[];
  /** Offer/accept RFC 4733 telephone-event (default true; payload type 101 in offers). */
  telephoneEvent?: boolean;
  ptime?: number;
}

export interface NegotiatedMedia {
  remoteAddress: string;
  remotePort: number;
  /** The codec to use, with the payload type the offerer chose. */
  codec: CodecCapability;
  telephoneEvent?: { payloadType: number; clockRate: number };
  /** Our direction in the current session. */
  localDirection: Direction;
  remoteDirection: Direction;
  /** The remote put the call on hold (sendonly/inactive or c=0.0.0.0). */
  remoteHold: boolean;
  ptime?: number;
}

export type SdpErrorCode = 'SDP_INVALID' | 'SDP_NO_COMMON_CODEC';

export class SdpError extends Error {
  constructor(readonly code: SdpErrorCode, message: string) {
    super(message);
    this.name = 'SdpError';
  }
}

const STATIC_PT: Record<number, { name: string; clockRate: number; channels?: number }> = {
  0: { name: 'PCMU', clockRate: 8000 }, 3: { name: 'GSM', clockRate: 8000 }, 4: { name: 'G723', clockRate: 8000 },
  8: { name: 'PCMA', clockRate: 8000 }, 9: { name: 'G722', clockRate: 8000 }, 18: { name: 'G729', clockRate: 8000 },
};

export function parseSdp(sdp: string): SessionDescription {
  let s: SessionDescription;
  try {
    s = sdpTransform.parse(sdp);
  } catch (e) {
    throw new SdpError('SDP_INVALID', `unparseable SDP: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(s.media) || s.media.length === 0) throw new SdpError('SDP_INVALID', 'SDP without media');
  return s;
}

interface OfferedFormat { pt: number; name: string; clockRate: number; channels: number; fmtp?: string }

function formatsOf(m: MediaDescription): OfferedFormat[] {
  const pts = String(m.payloads ?? '').split(/\s+/).filter(Boolean).map(Number);
  return pts.map((pt) => {
    const rtp = m.rtp.find((r) => r.payload === pt);
    const st = STATIC_PT[pt];
    const fmtp = m.fmtp.find((f) => f.payload === pt)?.config;
    const name = rtp?.codec ?? st?.name ?? String(pt);
    const clockRate = rtp?.rate ?? st?.clockRate ?? 8000;
    const channels = rtp?.encoding ? Number(rtp.encoding) : st?.channels ?? 1;
    return { pt, name, clockRate, channels, ...(fmtp !== undefined ? { fmtp } : {}) };
  });
}

function dirOf(m: MediaDescription, s: SessionDescription): Direction {
  return (m.direction ?? s.direction ?? 'sendrecv') as Direction;
}

function connOf(m: MediaDescription, s: SessionDescription): string {
  return m.connection?.ip ?? s.connection?.ip ?? '0.0.0.0';
}

/** The answer's direction (RFC 3264 §6.1), combined with what we want (`want`, e.g. sendonly to hold). */
export function answerDirection(offered: Direction, want: Direction = 'sendrecv'): Direction {
  const remoteSends = offered === 'sendrecv' || offered === 'sendonly';
  const remoteRecvs = offered === 'sendrecv' || offered === 'recvonly';
  const weSend = (want === 'sendrecv' || want === 'sendonly') && remoteRecvs;
  const weRecv = (want === 'sendrecv' || want === 'recvonly') && remoteSends;
  return weSend && weRecv ? 'sendrecv' : weSend ? 'sendonly' : weRecv ? 'recvonly' : 'inactive';
}

export function isHoldDirection(d: Direction): boolean {
  return d === 'sendonly' || d === 'inactive';
}

function sameCodec(a: { name: string; clockRate: number; channels?: number }, b: { name: string; clockRate: number; channels?: number }): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate && (a.channels ?? 1) === (b.channels ?? 1);
}

export interface SdpSession {
  sessionId: string;
  version: number;
}

function baseSession(local: LocalMedia, session: SdpSession): SessionDescription {
  const ip4 = !local.address.includes(':');
  return {
    version: 0,
    origin: { username: '-', sessionId: session.sessionId, sessionVersion: session.version, netType: 'IN', ipVer: ip4 ? 4 : 6, address: local.address },
    name: '-',
    timing: { start: 0, stop: 0 },
    connection: { version: ip4 ? 4 : 6, ip: local.address },
    media: [],
  };
}

function rtpEntries(codecs: readonly (CodecCapability)[]): { rtp: MediaDescription['rtp']; fmtp: MediaDescription['fmtp'] } {
  return {
    rtp: codecs.map((c) => ({ payload: c.payloadType, codec: c.name, rate: c.clockRate, ...((c.channels ?? 1) > 1 ? { encoding: c.channels } : {}) })),
    fmtp: codecs.filter((c) => c.fmtp).map((c) => ({ payload: c.payloadType, config: c.fmtp as string })),
  };
}

/** Our offer: every local codec plus telephone-event. */
export function createOffer(local: LocalMedia, session: SdpSession, direction: Direction = 'sendrecv'): string {
  const s = baseSession(local, session);
  const codecs: CodecCapability[] = [...local.codecs];
  if (local.telephoneEvent !== false && !codecs.some((c) => c.name.toLowerCase() === 'telephone-event')) {
    const used = new Set(codecs.map((c) => c.payloadType));
    let pt = 101;
    while (used.has(pt)) pt++;
    codecs.push({ name: 'telephone-event', clockRate: 8000, payloadType: pt, fmtp: '0-16' });
  }
  const { rtp, fmtp } = rtpEntries(codecs);
  s.media.push({
    type: 'audio', port: local.port, protocol: 'RTP/AVP', payloads: codecs.map((c) => c.payloadType).join(' '),
    rtp, fmtp, direction, ...(local.ptime ? { ptime: local.ptime } : {}),
  });
  return sdpTransform.write(s);
}

/**
 * Answer `offer` (RFC 3264 §6): the first offered audio codec we support, with the offerer's
 * payload type numbers, plus telephone-event when both sides have it. Other streams are
 * rejected with port 0. Throws SdpError('SDP_NO_COMMON_CODEC') → answer 488.
 */
export function createAnswer(offer: string, local: LocalMedia, session: SdpSession, want: Direction = 'sendrecv'): { sdp: string; media: NegotiatedMedia } {
  const o = parseSdp(offer);
  const s = baseSession(local, session);
  let negotiated: NegotiatedMedia | undefined;
  for (const m of o.media) {
    if (m.type === 'audio' && m.port !== 0 && !negotiated && /RTP\/S?AVPF?/i.test(m.protocol)) {
      const offered = formatsOf(m);
      let chosen: { offered: OfferedFormat; mine: CodecCapability } | undefined;
      for (const f of offered) {
        if (f.name.toLowerCase() === 'telephone-event') continue;
        const mine = local.codecs.find((c) => sameCodec(c, f));
        if (mine) { chosen = { offered: f, mine }; break; }
      }
      if (chosen) {
        const te = local.telephoneEvent !== false ? offered.find((f) => f.name.toLowerCase() === 'telephone-event' && f.clockRate === chosen!.offered.clockRate)
          ?? offered.find((f) => f.name.toLowerCase() === 'telephone-event') : undefined;
        const codec: CodecCapability = { name: chosen.mine.name, clockRate: chosen.mine.clockRate, payloadType: chosen.offered.pt };
        if ((chosen.mine.channels ?? 1) > 1) codec.channels = chosen.mine.channels as number;
        const fmtpStr = chosen.offered.fmtp ?? chosen.mine.fmtp;
        if (fmtpStr !== undefined) codec.fmtp = fmtpStr;
        const list: CodecCapability[] = [codec];
        if (te) list.push({ name: 'telephone-event', clockRate: te.clockRate, payloadType: te.pt, fmtp: te.fmtp ?? '0-16' });
        const remoteDirection = dirOf(m, o);
        const remoteAddress = connOf(m, o);
        const c0 = remoteAddress === '0.0.0.0';
        const localDirection = answerDirection(c0 && remoteDirection === 'sendrecv' ? 'recvonly' : remoteDirection, want);
        const { rtp, fmtp } = rtpEntries(list);
        s.media.push({
          type: 'audio', port: local.port, protocol: m.protocol, payloads: list.map((c) => c.payloadType).join(' '),
          rtp, fmtp, direction: localDirection, ...(m.ptime ? { ptime: m.ptime } : local.ptime ? { ptime: local.ptime } : {}),
        });
        negotiated = {
          remoteAddress, remotePort: m.port, codec, localDirection, remoteDirection,
          remoteHold: isHoldDirection(remoteDirection) || c0,
          ...(te ? { telephoneEvent: { payloadType: te.pt, clockRate: te.clockRate } } : {}),
          ...(m.ptime ? { ptime: m.ptime } : {}),
        };
        continue;
      }
    }
    s.media.push({ type: m.type, port: 0, protocol: m.protocol, payloads: m.payloads ?? '0', rtp: [], fmtp: [] });
  }
  if (!negotiated) throw new SdpError('SDP_NO_COMMON_CODEC', 'no common audio codec');
  return { sdp: sdpTransform.write(s), media: negotiated };
}

/** Read the answer to our offer: the codec is the answer's first format that we offered. */
export function processAnswer(answer: string, local: LocalMedia): NegotiatedMedia {
  const a = parseSdp(answer);
  const m = a.media.find((x) => x.type === 'audio' && x.port !== 0);
  if (!m) throw new SdpError('SDP_NO_COMMON_CODEC', 'answer rejected the audio stream');
  const formats = formatsOf(m);
  let codec: CodecCapability | undefined;
  for (const f of formats) {
    if (f.name.toLowerCase() === 'telephone-event') continue;
    const mine = local.codecs.find((c) => sameCodec(c, f));
    if (mine) {
      codec = { name: mine.name, clockRate: mine.clockRate, payloadType: f.pt, ...((mine.channels ?? 1) > 1 ? { channels: mine.channels as number } : {}) };
      const fm = f.fmtp ?? mine.fmtp;
      if (fm !== undefined) codec.fmtp = fm;
      break;
    }
  }
  if (!codec) throw new SdpError('SDP_NO_COMMON_CODEC', 'answer has no codec we offered');
  const te = formats.find((f) => f.name.toLowerCase() === 'telephone-event');
  const remoteDirection = dirOf(m, a);
  const remoteAddress = connOf(m, a);
  const localDirection: Direction = remoteDirection === 'sendonly' ? 'recvonly' : remoteDirection === 'recvonly' ? 'sendonly' : remoteDirection;
  return {
    remoteAddress, remotePort: m.port, codec, localDirection, remoteDirection,
    remoteHold: isHoldDirection(remoteDirection) || remoteAddress === '0.0.0.0',
    ...(te ? { telephoneEvent: { payloadType: te.pt, clockRate: te.clockRate } } : {}),
    ...(m.ptime ? { ptime: m.ptime } : {}),
  };
}
