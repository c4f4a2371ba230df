/**
 * Opus through prism-media (which picks @discordjs/opus, node-opus or opusscript; opusscript is
 * installed). We use the backend object prism-media constructs synchronously, one packet per call:
 * the media loop encodes/decodes exactly one 20 ms frame per tick, so the stream wrapper's
 * buffering would only add latency. The media plane runs Opus at 16 kHz mono (wideband, the rate
 * of our STT/VAD path); RTP still uses the 48 kHz clock of `opus/48000/2` (RFC 7587) and the
 * decoder accepts stereo or fullband packets, downmixing/decimating internally.
 */
import prism from 'prism-media';

interface OpusBackend {
  encode(pcm: Buffer, frameSize: number): Buffer;
  decode(packet: Buffer | null, frameSize?: number): Buffer;
  delete?(): void;
}

const RATE = 16000;
const FRAME = 320; // 20 ms at 16 kHz

export class OpusCodec {
  #enc: InstanceType<typeof prism.opus.Encoder> | null;
  #dec: InstanceType<typeof prism.opus.Decoder> | null;

  constructor(bitrate = 24000) {
    this.#enc = new prism.opus.Encoder({ rate: RATE, channels: 1, frameSize: FRAME });
    this.#dec = new prism.opus.Decoder({ rate: RATE, channels: 1, frameSize: FRAME });
    this.#enc.setBitrate(bitrate);
  }

  static get backend(): string { return prism.opus.Encoder.type; }

  /** Encodes exactly 320 samples (20 ms at 16 kHz). */
  encode(pcm: Int16Array): Uint8Array {
    const be = this.#backend(this.#enc);
    const buf = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    return new Uint8Array(be.encode(buf, FRAME));
  }

  /** Decodes one packet into 16 kHz mono PCM. Corrupt packets decode to null. */
  decode(packet: Uint8Array): Int16Array | null {
    const be = this.#backend(this.#dec);
    try {
      const out = be.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength), FRAME);
      const copy = new Int16Array(out.length >> 1);
      for (let i = 0; i < copy.length; i++) copy[i] = out.readInt16LE(i * 2);
      return copy;
    } catch {
      return null;
    }
  }

  close(): void {
    this.#enc?.destroy();
    this.#dec?.destroy();
    this.#enc = null;
    this.#dec = null;
  }

  #backend(s: { encoder: unknown } | null): OpusBackend {
    if (!s) throw new Error('opus codec closed');
    return s.encoder as OpusBackend;
  }
}
