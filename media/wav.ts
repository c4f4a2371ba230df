/**
 * WAV (RIFF, 16-bit PCM) writing. `WavWriter` streams frames to a file and patches the header
 * sizes on close; `encodeWav`/`parseWav` handle whole buffers (tests, fixtures).
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { MediaError } from './errors.js';

export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export function encodeWav(sampleRate: number, channels: readonly Int16Array[]): Buffer {
  const n = Math.max(0, ...channels.map((c) => c.length));
  const data = Buffer.alloc(n * channels.length * 2);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels.length; c++) data.writeInt16LE(channels[c]![i] ?? 0, (i * channels.length + c) * 2);
  return Buffer.concat([wavHeader(sampleRate, channels.length, data.length), data]);
}

export interface ParsedWav { readonly sampleRate: number; readonly channels: Int16Array[] }

/** Parses a 16-bit PCM WAV (skips unknown chunks). */
export function parseWav(buf: Buffer): ParsedWav {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new MediaError('BAD_AUDIO', 'not a WAV file');
  let off = 12;
  let rate = 0, nch = 0, bits = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      nch = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new MediaError('BAD_AUDIO', `unsupported WAV sample size ${bits}`);
      if (size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * nch));
      const chans = Array.from({ length: nch }, () => new Int16Array(frames));
      for (let i = 0; i < frames; i++) for (let c = 0; c < nch; c++) chans[c]![i] = buf.readInt16LE(body + (i * nch + c) * 2);
      return { sampleRate: rate, channels: chans };
    }
    off = body + size + (size & 1);
  }
  throw new MediaError('BAD_AUDIO', 'WAV without data chunk');
}

/** Streams interleaved 16-bit frames to a file; writes are queued, never awaited by the caller. */
export class WavWriter {
  readonly path: string;
  readonly sampleRate: number;
  readonly channels: number;
  #fh: FileHandle | null = null;
  #bytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown = null;
  #closed = false;

  constructor(path: string, sampleRate: number, channels: number) {
    this.path = path;
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  async start(): Promise<void> {
    try {
      this.#fh = await open(this.path, 'w');
      await this.#fh.write(wavHeader(this.sampleRate, this.channels, 0), 0, 44, 0);
    } catch (err) {
      throw new MediaError('RECORDING', `cannot open recording ${this.path}`, { cause: err });
    }
  }

  get bytesWritten(): number { return this.#bytes; }

  /** Appends interleaved samples. */
  write(interleaved: Int16Array): void {
    if (this.#closed || !this.#fh) return;
    const buf = Buffer.from(interleaved.buffer, interleaved.byteOffset, interleaved.byteLength);
    const pos = 44 + this.#bytes;
    this.#bytes += buf.length;
    const fh = this.#fh;
    this.#chain = this.#chain.then(async () => {
      if (this.#error) return;
      try { await fh.write(buf, 0, buf.length, pos); } catch (err) { this.#error = err; }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    this.#closed = true;
    const fh = this.#fh;
    this.#chain = this.#chain.then(async () => {
      if (!fh) return;
      try {
        await fh.write(wavHeader(this.sampleRate, this.channels, this.#bytes), 0, 44, 0);
      } finally {
        await fh.close();
      }
    });
    await this.#chain;
    if (this.#error) throw new MediaError('RECORDING', `recording ${this.path} failed`, { cause: this.#error });
  }
}
