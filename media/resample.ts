/**
 * Sample-rate conversion between 8, 16, 24 and 48 kHz with libsamplerate (WASM port,
 * @alexanderolsen/libsamplerate-js). Converters are created once in `Resampler.load()` (the WASM
 * module loads asynchronously), after which `resample()` is synchronous.
 */
import lsr from '@alexanderolsen/libsamplerate-js';
import type { SRC } from '@alexanderolsen/libsamplerate-js/dist/src.js';
import { MediaError } from './errors.js';

export type PcmRate = 8000 | 16000 | 24000 | 48000;
export const PCM_RATES: readonly PcmRate[] = [8000, 16000, 24000, 48000];

export function isPcmRate(r: number): r is PcmRate {
  return r === 8000 || r === 16000 || r === 24000 || r === 48000;
}

/** libsamplerate converter types: 0 best, 1 medium, 2 fastest (sinc). */
export type ResamplerQuality = 0 | 1 | 2;

export class Resampler {
  #converters = new Map<string, SRC>();
  #closed = false;

  private constructor() {}

  /** Loads converters for every pair among `from` x `to` rates. */
  static async load(opts: { quality?: ResamplerQuality; from?: readonly PcmRate[]; to?: readonly PcmRate[] } = {}): Promise<Resampler> {
    const r = new Resampler();
    const quality = opts.quality ?? 2;
    const from = opts.from ?? PCM_RATES;
    const to = opts.to ?? [8000, 16000];
    for (const a of from) {
      for (const b of to) {
        if (a === b) continue;
        r.#converters.set(`${a}>${b}`, await lsr.create(1, a, b, { converterType: quality }));
      }
    }
    return r;
  }

  /** Resamples one whole chunk (libsamplerate "simple" API: no state carried between calls). */
  resample(pcm: Int16Array, from: number, to: number): Int16Array {
    if (from === to) return pcm.slice();
    if (this.#closed) throw new MediaError('CLOSED', 'resampler closed');
    const src = this.#converters.get(`${from}>${to}`);
    if (!src) throw new MediaError('BAD_AUDIO', `no converter ${from} Hz -> ${to} Hz`);
    if (pcm.length === 0) return new Int16Array(0);
    const f = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) f[i] = pcm[i]! / 32768;
    const res = src.simple(f); // a view into WASM memory: copy out at once
    const out = new Int16Array(res.length);
    for (let i = 0; i < res.length; i++) {
      const v = Math.round(res[i]! * 32768);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#converters.values()) c.destroy();
    this.#converters.clear();
  }
}
