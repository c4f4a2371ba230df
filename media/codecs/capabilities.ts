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
