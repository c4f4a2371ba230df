// Small audio helpers the providers need at their edges: G.711 (ITU-T G.711 mu-law / A-law),
// 16-bit PCM <-> bytes, WAV parsing, and a windowed-sinc resampler for converting local TTS
// output and realtime PCM to the call's format. The media plane has its own codecs; these exist
// so that engine/providers stays self-contained.

/** Output formats, named as ElevenLabs names them (`<codec>_<rate>`). */
export type AudioFormat = 'ulaw_8000' | 'alaw_8000' | 'pcm_8000' | 'pcm_16000' | 'pcm_22050' | 'pcm_24000' | 'pcm_44100';

export const AUDIO_FORMATS: readonly AudioFormat[] = ['ulaw_8000', 'alaw_8000', 'pcm_8000', 'pcm_16000', 'pcm_22050', 'pcm_24000', 'pcm_44100'];

export function isAudioFormat(s: string): s is AudioFormat {
  return (AUDIO_FORMATS as readonly string[]).includes(s);
}

export function formatInfo(f: AudioFormat): { codec: 'ulaw' | 'alaw' | 'pcm'; sampleRate: number; bytesPerSample: 1 | 2 } {
  const [codec, rate] = f.split('_') as ['ulaw' | 'alaw' | 'pcm', string];
  return { codec, sampleRate: Number(rate), bytesPerSample: codec === 'pcm' ? 2 : 1 };
}

/** Duration in ms of `bytes` bytes of audio in format `f`. */
export function bytesToMs(bytes: number, f: AudioFormat): number {
  const { sampleRate, bytesPerSample } = formatInfo(f);
  return (bytes / bytesPerSample / sampleRate) * 1000;
}

// ---- G.711 ----
const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

export function linearToMulaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; exponent--, mask >>= 1);
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function mulawToLinear(u: number): number {
  const v = ~u & 0xff;
  const sign = v & 0x80;
  const exponent = (v >> 4) & 0x07;
  const mantissa = v & 0x0f;
  const s = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return sign ? -s : s;
}

export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s >= 0 ? 0x80 : 0;
  if (!sign) s = -s - 1;
  if (s > 32767) s = 32767;
  let out: number;
  if (s < 256) out = s >> 4;
  else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; exponent--, mask >>= 1);
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}

export function alawToLinear(a: number): number {
  const v = a ^ 0x55;
  const sign = v & 0x80;
  const exponent = (v >> 4) & 0x07;
  const mantissa = v & 0x0f;
  let s = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return sign ? s : -s;
}

export function encodeMulaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToMulaw(pcm[i]!);
  return out;
}
export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = mulawToLinear(bytes[i]!);
  return out;
}
export function encodeAlaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToAlaw(pcm[i]!);
  return out;
}
export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = alawToLinear(bytes[i]!);
  return out;
}

// ---- PCM bytes ----
export function pcm16ToBytes(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) dv.setInt16(i * 2, pcm[i]!, true);
  return out;
}
export function bytesToPcm16(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  const out = new Int16Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
  return out;
}

// ---- Resampling (windowed sinc, Hann window, cut-off at the lower Nyquist) ----
export function resample(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate || pcm.length === 0) return pcm.slice();
  const ratio = toRate / fromRate;
  const outLen = Math.floor(pcm.length * ratio);
  const out = new Int16Array(outLen);
  const cutoff = Math.min(1, ratio) * 0.95; // fraction of the input Nyquist
  const half = 16; // taps each side, in input samples (scaled when downsampling)
  const width = Math.ceil(half / Math.min(1, ratio));
  for (let i = 0; i < outLen; i++) {
    const center = i / ratio;
    const lo = Math.max(0, Math.ceil(center - width));
    const hi = Math.min(pcm.length - 1, Math.floor(center + width));
    let acc = 0;
    let norm = 0;
    for (let j = lo; j <= hi; j++) {
      const x = j - center;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
      const w = 0.5 + 0.5 * Math.cos((Math.PI * x) / (width + 1));
      const k = sinc * w;
      acc += pcm[j]! * k;
      norm += k;
    }
    const v = norm !== 0 ? acc / norm : 0;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/** Converts 16-bit PCM at `rate` into bytes of `format`. */
export function encodeAs(pcm: Int16Array, rate: number, format: AudioFormat): Uint8Array {
  const info = formatInfo(format);
  const r = resample(pcm, rate, info.sampleRate);
  if (info.codec === 'ulaw') return encodeMulaw(r);
  if (info.codec === 'alaw') return encodeAlaw(r);
  return pcm16ToBytes(r);
}

/** Decodes bytes of `format` into 16-bit PCM at the format's own rate. */
export function decodeFrom(bytes: Uint8Array, format: AudioFormat): { pcm: Int16Array; sampleRate: number } {
  const info = formatInfo(format);
  const pcm = info.codec === 'ulaw' ? decodeMulaw(bytes) : info.codec === 'alaw' ? decodeAlaw(bytes) : bytesToPcm16(bytes);
  return { pcm, sampleRate: info.sampleRate };
}

// ---- WAV ----
export class WavFormatError extends Error {
  readonly code = 'bad_wav';
}

/** Parses a RIFF/WAVE file with 16-bit PCM; multi-channel input is mixed down to mono. */
export function parseWav(buf: Uint8Array): { sampleRate: number; pcm: Int16Array } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number): string => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavFormatError('not a RIFF/WAVE file');
  let off = 12;
  let sampleRate = 0;
  let channels = 1;
  let bits = 16;
  while (off + 8 <= buf.length) {
    const id = tag(off);
    let size = dv.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      const fmt = dv.getUint16(body, true);
      channels = dv.getUint16(body + 2, true);
      sampleRate = dv.getUint32(body + 4, true);
      bits = dv.getUint16(body + 14, true);
      if ((fmt !== 1 && fmt !== 0xfffe) || bits !== 16) throw new WavFormatError(`unsupported WAV format ${fmt}/${bits} bit`);
    } else if (id === 'data') {
      // espeak-ng --stdout writes 0x7fffffff as the size when streaming; clamp to what we have.
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * channels));
      const pcm = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let acc = 0;
        for (let c = 0; c < channels; c++) acc += dv.getInt16(body + (i * channels + c) * 2, true);
        pcm[i] = Math.round(acc / channels);
      }
      if (!sampleRate) throw new WavFormatError('data chunk before fmt chunk');
      return { sampleRate, pcm };
    }
    off = body + size + (size & 1);
  }
  throw new WavFormatError('no data chunk');
}

export function buildWav(pcm: Int16Array, sampleRate: number): Uint8Array {
  const data = pcm16ToBytes(pcm);
  const out = new Uint8Array(44 + data.length);
  const dv = new DataView(out.buffer);
  const put = (o: number, s: string): void => { for (let i = 0; i < 4; i++) out[o + i] = s.charCodeAt(i); };
  put(0, 'RIFF'); dv.setUint32(4, 36 + data.length, true); put(8, 'WAVE');
  put(12, 'fmt '); dv.setUint32(16, 16, true); dv.setUint16(20, 1, true); dv.setUint16(22, 1, true);
  dv.setUint32(24, sampleRate, true); dv.setUint32(28, sampleRate * 2, true); dv.setUint16(32, 2, true); dv.setUint16(34, 16, true);
  put(36, 'data'); dv.setUint32(40, data.length, true);
  out.set(data, 44);
  return out;
}

/** Root-mean-square level of 16-bit PCM (0..32768). */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let acc = 0;
  for (let i = 0; i < pcm.length; i++) acc += pcm[i]! * pcm[i]!;
  return Math.sqrt(acc / pcm.length);
}
