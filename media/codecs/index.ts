/**
 * One interface over the audio codecs. `pcmRate` is the rate the media plane works at for the
 * codec (8 kHz G.711, 16 kHz G.722/Opus); `clockRate` the RTP clock. One 20 ms frame is
 * `frameSamples` PCM samples and `frameTicks` RTP timestamp units.
 */
import { MediaError } from '../errors.js';
import type { AudioCodecName } from './capabilities.js';
import { normalizeCodecName, pcmRateOf } from './capabilities.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode, ULAW_SILENCE, ALAW_SILENCE } from './g711.js';
import { G722Decoder, G722Encoder } from './g722.js';
import { OpusCodec } from './opus.js';

export interface AudioCodec {
  readonly name: AudioCodecName;
  readonly pcmRate: 8000 | 16000;
  readonly clockRate: number;
  readonly frameSamples: number;
  readonly frameTicks: number;
  /** True for PCMU/PCMA: the payload is one octet per sample, carried without transcoding. */
  readonly g711: boolean;
  encode(pcm: Int16Array): Uint8Array;
  /** Null when the payload cannot be decoded. */
  decode(payload: Uint8Array): Int16Array | null;
  /** Samples (at pcmRate) a payload carries, without decoding. */
  samplesIn(payload: Uint8Array): number;
  close(): void;
}

export function g711Silence(name: 'PCMU' | 'PCMA', samples: number): Uint8Array {
  return new Uint8Array(samples).fill(name === 'PCMU' ? ULAW_SILENCE : ALAW_SILENCE);
}

export function createCodec(name: string, clockRate?: number): AudioCodec {
  const n = normalizeCodecName(name);
  if (!n) throw new MediaError('UNSUPPORTED_CODEC', `unsupported codec ${name}`);
  const pcmRate = pcmRateOf(n);
  const frameSamples = pcmRate / 50;
  switch (n) {
    case 'PCMU':
    case 'PCMA': {
      const mu = n === 'PCMU';
      return {
        name: n, pcmRate, clockRate: 8000, frameSamples, frameTicks: 160, g711: true,
        encode: (pcm) => (mu ? ulawEncode(pcm) : alawEncode(pcm)),
        decode: (p) => (mu ? ulawDecode(p) : alawDecode(p)),
        samplesIn: (p) => p.length,
        close: () => {},
      };
    }
    case 'G722': {
      const enc = new G722Encoder();
      const dec = new G722Decoder();
      return {
        name: n, pcmRate, clockRate: 8000, frameSamples, frameTicks: 160, g711: false,
        encode: (pcm) => enc.encode(pcm),
        decode: (p) => dec.decode(p),
        samplesIn: (p) => p.length * 2,
        close: () => {},
      };
    }
    case 'opus': {
      const codec = new OpusCodec();
      const cr = clockRate ?? 48000;
      return {
        name: n, pcmRate, clockRate: cr, frameSamples, frameTicks: cr / 50, g711: false,
        encode: (pcm) => codec.encode(pcm),
        decode: (p) => codec.decode(p),
        samplesIn: (p) => opusPacketSamples(p, pcmRate),
        close: () => codec.close(),
      };
    }
  }
}

/** Duration of an Opus packet (RFC 6716 §3.1 TOC byte), in samples at `rate`. */
export function opusPacketSamples(p: Uint8Array, rate: number): number {
  if (p.length < 1) return 0;
  const toc = p[0]!;
  const config = toc >> 3;
  let frameUs: number;
  if (config < 12) frameUs = [10000, 20000, 40000, 60000][config & 3]!;
  else if (config < 16) frameUs = [10000, 20000][config & 1]!;
  else frameUs = [2500, 5000, 10000, 20000][config & 3]!;
  const c = toc & 3;
  let frames = 1;
  if (c === 1 || c === 2) frames = 2;
  else if (c === 3) frames = p.length > 1 ? p[1]! & 0x3f : 0;
  return Math.round((frames * frameUs * rate) / 1_000_000);
}
