/**
 * G.711 mu-law and A-law, table-driven. Tables are built once from the classic Sun reference
 * algorithm (g711.c), so results match every reference implementation bit for bit.
 */
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function seg(val: number, table: number[]): number {
  for (let i = 0; i < table.length; i++) if (val <= table[i]!) return i;
  return table.length;
}

function linear2ulawRef(pcm: number): number {
  let v = pcm >> 2;
  let mask: number;
  if (v < 0) { v = -v; mask = 0x7f; } else mask = 0xff;
  if (v > 8159) v = 8159;
  v += 0x84 >> 2;
  const s = seg(v, SEG_UEND);
  if (s >= 8) return 0x7f ^ mask;
  return (((s << 4) | ((v >> (s + 1)) & 0xf)) ^ mask) & 0xff;
}

function ulaw2linearRef(u: number): number {
  u = ~u & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function linear2alawRef(pcm: number): number {
  let v = pcm >> 3;
  let mask: number;
  if (v >= 0) mask = 0xd5; else { mask = 0x55; v = -v - 1; }
  const s = seg(v, SEG_AEND);
  if (s >= 8) return (0x7f ^ mask) & 0xff;
  let a = s << 4;
  a |= s < 2 ? (v >> 1) & 0x0f : (v >> s) & 0x0f;
  return (a ^ mask) & 0xff;
}

function alaw2linearRef(a: number): number {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const s = (a & 0x70) >> 4;
  if (s === 0) t += 8;
  else if (s === 1) t += 0x108;
  else { t += 0x108; t <<= s - 1; }
  return a & 0x80 ? t : -t;
}

/** Index: (sample >> 2) + 8192. */
const ULAW_ENC = new Uint8Array(16384);
/** Index: (sample >> 3) + 4096. */
const ALAW_ENC = new Uint8Array(8192);
export const ULAW_DECODE_TABLE = new Int16Array(256);
export const ALAW_DECODE_TABLE = new Int16Array(256);
for (let i = 0; i < 16384; i++) ULAW_ENC[i] = linear2ulawRef((i - 8192) << 2);
for (let i = 0; i < 8192; i++) ALAW_ENC[i] = linear2alawRef((i - 4096) << 3);
for (let i = 0; i < 256; i++) { ULAW_DECODE_TABLE[i] = ulaw2linearRef(i); ALAW_DECODE_TABLE[i] = alaw2linearRef(i); }

export const ULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;

export function ulawEncodeSample(s: number): number { return ULAW_ENC[(s >> 2) + 8192]!; }
export function alawEncodeSample(s: number): number { return ALAW_ENC[(s >> 3) + 4096]!; }

export function ulawEncode(pcm: Int16Array, out = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = ULAW_ENC[(pcm[i]! >> 2) + 8192]!;
  return out;
}
export function alawEncode(pcm: Int16Array, out = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = ALAW_ENC[(pcm[i]! >> 3) + 4096]!;
  return out;
}
export function ulawDecode(bytes: Uint8Array, out = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = ULAW_DECODE_TABLE[bytes[i]!]!;
  return out;
}
export function alawDecode(bytes: Uint8Array, out = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_DECODE_TABLE[bytes[i]!]!;
  return out;
}
/** Direct law conversion without going through the caller (still table lookups). */
export function ulawToAlaw(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = alawEncodeSample(ULAW_DECODE_TABLE[bytes[i]!]!);
  return out;
}
export function alawToUlaw(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ulawEncodeSample(ALAW_DECODE_TABLE[bytes[i]!]!);
  return out;
}
