/**
 * Codec capability data, plain and import-free, so the SIP layer's SDP negotiation can copy or
 * read it without importing the media plane. Order = our preference.
 */
export interface CodecCapability {
  /** Encoding name as written in SDP `a=rtpmap` (case as registered). */
  readonly name: string;
  /** RTP clock rate (G.722 is 8000 in SDP by RFC 3551, although it samples at 16 kHz). */
  readonly clockRate: number;
  readonly channels: number;
  /** Static payload type, or our default dynamic one. */
  readonly payloadType: number;
  readonly fmtp?: string;
}

export const CODEC_CAPABILITIES: readonly CodecCapability[] = Object.freeze([
  Object.freeze({ name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
  Object.freeze({ name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 }),
  Object.freeze({ name: 'G722', clockRate: 8000, channels: 1, payloadType: 9 }),
  Object.freeze({ name: 'opus', clockRate: 48000, channels: 2, payloadType: 111, fmtp: 'minptime=20;useinbandfec=0' }),
  Object.freeze({ name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101, fmtp: '0-16' }),
  Object.freeze({ name: 'telephone-event', clockRate: 48000, channels: 1, payloadType: 110, fmtp: '0-16' }),
  Object.freeze({ name: 'CN', clockRate: 8000, channels: 1, payloadType: 13 }),
]);

/** Audio codecs a MediaSession can carry (names compared case-insensitively). */
export const AUDIO_CODEC_NAMES = Object.freeze(['PCMU', 'PCMA', 'G722', 'opus'] as const);
export type AudioCodecName = (typeof AUDIO_CODEC_NAMES)[number];

export function normalizeCodecName(name: string): AudioCodecName | null {
  const n = name.toLowerCase();
  for (const c of AUDIO_CODEC_NAMES) if (c.toLowerCase() === n) return c;
  return null;
}

/** PCM rate the media plane works at for a codec: 8 kHz for G.711, 16 kHz for G.722 and Opus. */
export function pcmRateOf(codec: AudioCodecName): 8000 | 16000 {
  return codec === 'PCMU' || codec === 'PCMA' ? 8000 : 16000;
}

/** One payload format of a remote SDP media section (from a=rtpmap / static payload types). */
export interface OfferedFormat {
  readonly payloadType: number;
  readonly name: string;
  readonly clockRate: number;
  readonly channels?: number;
}

export interface CodecChoice {
  /** The audio codec to use, with the REMOTE's payload type. */
  readonly codec: { readonly name: AudioCodecName; readonly payloadType: number; readonly clockRate: number; readonly channels: number };
  /** telephone-event at the chosen codec's RTP clock rate, if offered. */
  readonly telephoneEventPt?: number;
  /** The remote offered CN (PT 13 or by name) at 8000 Hz. */
  readonly comfortNoise: boolean;
}

/**
 * Picks the codec for an answer: the first of OUR preferences (`prefer`, default PCMU, PCMA, G722,
 * opus) that the remote offers, matched by name (case-insensitive), clock rate and channels
 * (opus must be opus/48000/2). Pass `prefer: 'remote'` to honour the offer's order instead.
 * Returns null when nothing matches (answer 488).
 */
export function chooseCodec(offer: readonly OfferedFormat[], prefer: readonly AudioCodecName[] | 'remote' = AUDIO_CODEC_NAMES): CodecChoice | null {
  const audio = offer.filter((f) => {
    const n = normalizeCodecName(f.name);
    if (!n) return false;
    const cap = CODEC_CAPABILITIES.find((c) => c.name === n)!;
    return f.clockRate === cap.clockRate && (f.channels ?? 1) === cap.channels;
  });
  let pick: OfferedFormat | undefined;
  if (prefer === 'remote') pick = audio[0];
  else for (const want of prefer) { pick = audio.find((f) => normalizeCodecName(f.name) === want); if (pick) break; }
  if (!pick) return null;
  const name = normalizeCodecName(pick.name)!;
  const te = offer.find((f) => f.name.toLowerCase() === 'telephone-event' && f.clockRate === pick!.clockRate);
  const cn = offer.some((f) => (f.name.toUpperCase() === 'CN' && f.clockRate === 8000) || f.payloadType === 13);
  return {
    codec: { name, payloadType: pick.payloadType, clockRate: pick.clockRate, channels: pick.channels ?? 1 },
    ...(te ? { telephoneEventPt: te.payloadType } : {}),
    comfortNoise: cn,
  };
}
