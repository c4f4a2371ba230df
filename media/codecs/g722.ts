/**
 * ITU-T G.722 (SB-ADPCM), 64 kbit/s mode (mode 1: 6 bits low band + 2 bits high band per octet),
 * written from the ITU-T G.722 (11/88) block descriptions: transmit/receive QMF (24 taps),
 * QUANTL/QUANTH, INVQAL/INVQBL/INVQAH, LOGSCL/LOGSCH, SCALEL/SCALEH, and the shared adaptive
 * predictor (RECONS, PARREC, UPPOL1, UPPOL2, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC).
 * Input/output is 16-bit PCM at 16 kHz; one octet per two input samples.
 * Octet layout: bits 7-6 = high-band code IH, bits 5-0 = low-band code IL.
 */

const QMF_COEFFS = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
/** QUANTL decision levels (Q6), ITU table 14/G.722 scaled by 8 (so that det * q6 >> 12). */
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0];
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const ILB = [2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008];
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704,
  -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
  -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
  10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
  1688, 1360, 1040, 728, 432, 136, -432, -136,
];
const QM2 = [-7408, -1616, 7408, 1616];
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const WH = [0, -214, 798];
const RH2 = [2, 1, 2, 1];

function sat16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** State of one sub-band's adaptive predictor and scale factor. */
class Band {
  s = 0; sp = 0; sz = 0;
  r = [0, 0, 0];
  a = [0, 0, 0];
  ap = [0, 0, 0];
  p = [0, 0, 0];
  d = [0, 0, 0, 0, 0, 0, 0];
  b = [0, 0, 0, 0, 0, 0, 0];
  bp = [0, 0, 0, 0, 0, 0, 0];
  nb = 0;
  det: number;
  constructor(det: number) { this.det = det; }
}

/** Block 4: reconstruction, pole/zero predictor adaptation and prediction. */
function block4(s: Band, dx: number): void {
  s.d[0] = dx;
  s.r[0] = sat16(s.s + dx);
  s.p[0] = sat16(s.sz + dx);
  // UPPOL2
  const sg0 = s.p[0] >> 15, sg1 = s.p[1]! >> 15, sg2 = s.p[2]! >> 15;
  let wd1 = sat16(s.a[1]! << 2);
  let wd2 = sg0 === sg1 ? -wd1 : wd1;
  if (wd2 > 32767) wd2 = 32767;
  let wd3 = sg0 === sg2 ? 128 : -128;
  wd3 += wd2 >> 7;
  wd3 += (s.a[2]! * 32512) >> 15;
  if (wd3 > 12288) wd3 = 12288; else if (wd3 < -12288) wd3 = -12288;
  s.ap[2] = wd3;
  // UPPOL1
  wd1 = sg0 === sg1 ? 192 : -192;
  wd2 = (s.a[1]! * 32640) >> 15;
  let ap1 = sat16(wd1 + wd2);
  wd3 = sat16(15360 - s.ap[2]);
  if (ap1 > wd3) ap1 = wd3; else if (ap1 < -wd3) ap1 = -wd3;
  s.ap[1] = ap1;
  // UPZERO
  wd1 = dx === 0 ? 0 : 128;
  const sgd = dx >> 15;
  for (let i = 1; i < 7; i++) {
    const sgi = s.d[i]! >> 15;
    wd2 = sgi === sgd ? wd1 : -wd1;
    wd3 = (s.b[i]! * 32640) >> 15;
    s.bp[i] = sat16(wd2 + wd3);
  }
  // DELAYA
  for (let i = 6; i > 0; i--) { s.d[i] = s.d[i - 1]!; s.b[i] = s.bp[i]!; }
  for (let i = 2; i > 0; i--) { s.r[i] = s.r[i - 1]!; s.p[i] = s.p[i - 1]!; s.a[i] = s.ap[i]!; }
  // FILTEP
  wd1 = sat16(s.r[1]! + s.r[1]!);
  wd1 = (s.a[1]! * wd1) >> 15;
  wd2 = sat16(s.r[2]! + s.r[2]!);
  wd2 = (s.a[2]! * wd2) >> 15;
  s.sp = sat16(wd1 + wd2);
  // FILTEZ
  let sz = 0;
  for (let i = 6; i > 0; i--) {
    const w = sat16(s.d[i]! + s.d[i]!);
    sz += (s.b[i]! * w) >> 15;
  }
  s.sz = sat16(sz);
  // PREDIC
  s.s = sat16(s.sp + s.sz);
}

function scaleLow(band: Band, il4: number): void {
  // LOGSCL
  let nb = ((band.nb * 127) >> 7) + WL[il4]!;
  if (nb < 0) nb = 0; else if (nb > 18432) nb = 18432;
  band.nb = nb;
  // SCALEL
  const wd1 = (nb >> 6) & 31;
  const wd2 = 8 - (nb >> 11);
  const wd3 = wd2 < 0 ? ILB[wd1]! << -wd2 : ILB[wd1]! >> wd2;
  band.det = wd3 << 2;
}

function scaleHigh(band: Band, ih2: number): void {
  // LOGSCH
  let nb = ((band.nb * 127) >> 7) + WH[ih2]!;
  if (nb < 0) nb = 0; else if (nb > 22528) nb = 22528;
  band.nb = nb;
  // SCALEH
  const wd1 = (nb >> 6) & 31;
  const wd2 = 10 - (nb >> 11);
  const wd3 = wd2 < 0 ? ILB[wd1]! << -wd2 : ILB[wd1]! >> wd2;
  band.det = wd3 << 2;
}

export class G722Encoder {
  #low = new Band(32);
  #high = new Band(8);
  #x = new Int32Array(24);

  /** Encodes an even number of 16 kHz samples into length/2 octets. An odd tail sample is dropped. */
  encode(pcm: Int16Array): Uint8Array {
    const n = pcm.length >> 1;
    const out = new Uint8Array(n);
    const x = this.#x, low = this.#low, high = this.#high;
    for (let k = 0, j = 0; k < n; k++) {
      // Transmit QMF
      x.copyWithin(0, 2);
      x[22] = pcm[j++]!;
      x[23] = pcm[j++]!;
      let sumeven = 0, sumodd = 0;
      for (let i = 0; i < 12; i++) {
        sumodd += x[2 * i]! * QMF_COEFFS[i]!;
        sumeven += x[2 * i + 1]! * QMF_COEFFS[11 - i]!;
      }
      const xlow = (sumeven + sumodd) >> 14;
      const xhigh = (sumeven - sumodd) >> 14;

      // Low band: SUBTRA, QUANTL
      const el = sat16(xlow - low.s);
      let wd = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) {
        const wd1 = (Q6[i]! * low.det) >> 12;
        if (wd < wd1) break;
      }
      const ilow = el < 0 ? ILN[i]! : ILP[i]!;
      // INVQAL
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]!) >> 15;
      scaleLow(low, RL42[ril]!);
      block4(low, dlow);

      // High band: SUBTRA, QUANTH
      const eh = sat16(xhigh - high.s);
      wd = eh >= 0 ? eh : -(eh + 1);
      const mih = wd >= (564 * high.det) >> 12 ? 2 : 1;
      const ihigh = eh < 0 ? IHN[mih]! : IHP[mih]!;
      // INVQAH
      const dhigh = (high.det * QM2[ihigh]!) >> 15;
      scaleHigh(high, RH2[ihigh]!);
      block4(high, dhigh);

      out[k] = ((ihigh << 6) | ilow) & 0xff;
    }
    return out;
  }
}

export class G722Decoder {
  #low = new Band(32);
  #high = new Band(8);
  #x = new Int32Array(24);

  /** Decodes octets into 2 samples each of 16 kHz 16-bit PCM. */
  decode(bytes: Uint8Array): Int16Array {
    const out = new Int16Array(bytes.length * 2);
    const x = this.#x, low = this.#low, high = this.#high;
    let o = 0;
    for (let k = 0; k < bytes.length; k++) {
      const code = bytes[k]!;
      const ilow = code & 0x3f;
      const ihigh = (code >> 6) & 0x03;
      // INVQBL + RECONS + LIMIT (low band output)
      let rlow = low.s + ((low.det * QM6[ilow]!) >> 15);
      if (rlow > 16383) rlow = 16383; else if (rlow < -16384) rlow = -16384;
      // INVQAL (predictor input uses the 4-bit truncated code)
      const ril = ilow >> 2;
      const dlowt = (low.det * QM4[ril]!) >> 15;
      scaleLow(low, RL42[ril]!);
      block4(low, dlowt);
      // High band: INVQAH + RECONS + LIMIT
      const dhigh = (high.det * QM2[ihigh]!) >> 15;
      let rhigh = dhigh + high.s;
      if (rhigh > 16383) rhigh = 16383; else if (rhigh < -16384) rhigh = -16384;
      scaleHigh(high, RH2[ihigh]!);
      block4(high, dhigh);
      // Receive QMF
      x.copyWithin(0, 2);
      x[22] = rlow + rhigh;
      x[23] = rlow - rhigh;
      let xout1 = 0, xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += x[2 * i]! * QMF_COEFFS[i]!;
        xout1 += x[2 * i + 1]! * QMF_COEFFS[11 - i]!;
      }
      out[o++] = sat16(xout1 >> 11);
      out[o++] = sat16(xout2 >> 11);
    }
    return out;
  }
}
