import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { G722Decoder, G722Encoder } from '../../../media/index.js';

function ffmpeg(args: string[]): void {
  try { execFileSync('ffmpeg', ['-y', '-loglevel', 'error', ...args]); }
  catch (err) { throw new Error(`ffmpeg (Debian, with the g722 codec) is required: ${(err as Error).message}`); }
}
function snrDb(ref: Int16Array, x: Int16Array): number {
  let s = 0, n = 0;
  for (let i = 0; i < Math.min(ref.length, x.length); i++) { s += ref[i]! ** 2; n += (ref[i]! - x[i]!) ** 2; }
  return 10 * Math.log10(s / Math.max(n, 1));
}

/** A test signal with speech-like content: two tones, a sweep and noise bursts, 3 s at 16 kHz. */
function signal(): Int16Array {
  const n = 16000 * 3;
  const out = new Int16Array(n);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    let v = 6000 * Math.sin(2 * Math.PI * 440 * t) + 3000 * Math.sin(2 * Math.PI * (200 + 3300 * t / 3) * t);
    if (Math.floor(t * 4) % 3 === 2) v += 4000 * rnd();
    if (t > 2.5) v *= 3; // loud tail: exercise saturation paths
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

describe('G.722 (SB-ADPCM 64 kbit/s) proven against ffmpeg', () => {
  let dir: string;
  let pcm: Int16Array;
  let ffEncoded: Uint8Array;
  let ffDecodedOwn: Int16Array;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'g722-'));
    pcm = signal();
    writeFileSync(join(dir, 'in.raw'), Buffer.from(pcm.buffer));
    ffmpeg(['-f', 's16le', '-ar', '16000', '-ac', '1', '-i', join(dir, 'in.raw'), '-c:a', 'g722', '-f', 'g722', join(dir, 'ff.g722')]);
    ffEncoded = new Uint8Array(readFileSync(join(dir, 'ff.g722')));
    writeFileSync(join(dir, 'ours.g722'), new G722Encoder().encode(pcm));
    ffmpeg(['-f', 'g722', '-i', join(dir, 'ours.g722'), '-f', 's16le', '-ar', '16000', join(dir, 'ffdec-ours.raw')]);
    ffDecodedOwn = new Int16Array(new Uint8Array(readFileSync(join(dir, 'ffdec-ours.raw'))).buffer);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('our encoder produces the same octets as ffmpeg\'s encoder', () => {
    const ours = new G722Encoder().encode(pcm);
    assert.equal(ours.length, ffEncoded.length);
    let diff = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== ffEncoded[i]) diff++;
    assert.equal(diff, 0, `${diff} of ${ours.length} octets differ`);
  });

  test('our decoder decodes ffmpeg\'s stream bit-exactly like ffmpeg\'s decoder', () => {
    ffmpeg(['-f', 'g722', '-i', join(dir, 'ff.g722'), '-f', 's16le', '-ar', '16000', join(dir, 'ffdec.raw')]);
    const theirs = new Int16Array(new Uint8Array(readFileSync(join(dir, 'ffdec.raw'))).buffer);
    const ours = new G722Decoder().decode(ffEncoded);
    assert.equal(ours.length, theirs.length);
    assert.deepEqual(ours, theirs);
  });

  test('ffmpeg decodes our stream, and the result matches the input (SNR, QMF delay compensated)', () => {
    const ours = new G722Decoder().decode(new G722Encoder().encode(pcm));
    assert.deepEqual(ours, ffDecodedOwn.subarray(0, ours.length));
    // The QMF pair delays by 22 samples; below 2.5 s the signal is not saturated.
    const ref = pcm.subarray(0, 16000 * 2.5 - 22);
    const out = ffDecodedOwn.subarray(22, 22 + ref.length);
    const snr = snrDb(ref, out);
    assert.ok(snr > 20, `SNR ${snr.toFixed(1)} dB`);
  });

  test('encoder and decoder keep state across calls (20 ms frames == one block)', () => {
    const whole = new G722Encoder().encode(pcm);
    const enc = new G722Encoder();
    const parts: number[] = [];
    for (let i = 0; i < pcm.length; i += 320) parts.push(...enc.encode(pcm.subarray(i, i + 320)));
    assert.deepEqual(new Uint8Array(parts), whole);
    const dec = new G722Decoder();
    const frames: number[] = [];
    for (let i = 0; i < whole.length; i += 160) frames.push(...dec.decode(whole.subarray(i, i + 160)));
    assert.deepEqual(new Int16Array(frames), new G722Decoder().decode(whole));
  });
});
