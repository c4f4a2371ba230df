/**
 * Audio sources for the test caller: text rendered with espeak-ng + sox (cached on disk), the
 * committed speech fixtures, WAV files, noise bursts. Everything returns 16-bit mono PCM.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWav, parseWav } from '../../../media/index.js';
import { CallerError } from './errors.js';

export interface Pcm {
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

export interface RenderOptions {
  /** espeak-ng voice. Default 'en-us'. */
  readonly voice?: string;
  /** Words per minute. Default 165. */
  readonly speed?: number;
  /** Output rate. Default 8000. */
  readonly sampleRate?: 8000 | 16000;
  /** Cache directory. Default `$TMPDIR/voice-engine-speech-cache`. */
  readonly cacheDir?: string;
  /**
   * Use a committed clip from test/fixtures/audio when its text matches exactly (so the demo
   * works without espeak-ng). Default true.
   */
  readonly useFixtures?: boolean;
  /** Trim leading/trailing silence (default true): pauses are the script's business. */
  readonly trim?: boolean;
}

const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/audio/', import.meta.url));
const TRIM_LEVEL = 64; // |sample| below this (about -54 dBFS) counts as silence at the edges

export function defaultCacheDir(): string {
  return join(tmpdir(), 'voice-engine-speech-cache');
}

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) { resolve(); return; }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new CallerError('TOOL_MISSING', `${cmd} is not installed (apt-get install -y espeak-ng sox); it is needed to render speech`));
        return;
      }
      reject(new CallerError('RENDER_FAILED', `${cmd} failed: ${String(stderr).trim() || err.message}`));
    });
  });
}

/** Mono PCM from a 16-bit WAV buffer (first channel). */
export function pcmFromWav(buf: Buffer): Pcm {
  const w = parseWav(buf);
  const ch = w.channels[0];
  if (!ch) throw new CallerError('BAD_AUDIO', 'WAV without channels');
  return { samples: ch, sampleRate: w.sampleRate };
}

export function loadWav(path: string): Pcm {
  return pcmFromWav(readFileSync(path));
}

interface FixtureClip { readonly file: string; readonly text: string }
let fixtureIndex: readonly FixtureClip[] | null = null;

/** The committed clips (test/fixtures/audio/clips.json): file name and the text each says. */
export function fixtureClips(): readonly FixtureClip[] {
  if (fixtureIndex) return fixtureIndex;
  const p = join(FIXTURE_DIR, 'clips.json');
  fixtureIndex = existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as FixtureClip[]) : [];
  return fixtureIndex;
}

/** A committed clip by file name with or without `.wav` (e.g. 'caller-book-table'). */
export function loadFixtureClip(name: string): Pcm {
  const file = name.endsWith('.wav') ? name : `${name}.wav`;
  const p = join(FIXTURE_DIR, file);
  if (!existsSync(p)) throw new CallerError('BAD_AUDIO', `no fixture clip ${file} in ${FIXTURE_DIR}`);
  return loadWav(p);
}

/** Removes leading and trailing near-silence. */
export function trimSilence(samples: Int16Array, level = TRIM_LEVEL): Int16Array {
  let s = 0, e = samples.length;
  while (s < e && Math.abs(samples[s]!) < level) s++;
  while (e > s && Math.abs(samples[e - 1]!) < level) e--;
  return samples.slice(s, e);
}

const inflight = new Map<string, Promise<Pcm>>();

/**
 * Speech for `text`: a committed fixture clip when the text matches one exactly (unless
 * `useFixtures: false`), else espeak-ng → sox (`-r rate -c 1 -b 16`), cached on disk under a key
 * of voice, speed, rate and text. The result may be at 16 kHz (fixtures); the caller resamples.
 */
export function renderText(text: string, opts: RenderOptions = {}): Promise<Pcm> {
  const voice = opts.voice ?? 'en-us';
  const speed = opts.speed ?? 165;
  const rate = opts.sampleRate ?? 8000;
  const trim = opts.trim ?? true;
  if (opts.useFixtures ?? true) {
    const clip = fixtureClips().find((c) => c.text === text);
    if (clip && voice === 'en-us' && speed === 165) {
      const pcm = loadFixtureClip(clip.file);
      return Promise.resolve(trim ? { ...pcm, samples: trimSilence(pcm.samples) } : pcm);
    }
  }
  const key = createHash('sha256').update(JSON.stringify([voice, speed, rate, text])).digest('hex').slice(0, 32);
  const dir = opts.cacheDir ?? defaultCacheDir();
  const final = join(dir, `${key}.wav`);
  const memo = `${final}|${trim}`;
  const pending = inflight.get(memo);
  if (pending) return pending;
  const p = (async (): Promise<Pcm> => {
    if (!existsSync(final)) {
      await mkdir(dir, { recursive: true });
      const tag = randomBytes(6).toString('hex');
      const raw = join(dir, `${key}.${tag}.raw.wav`);
      const tmp = join(dir, `${key}.${tag}.tmp.wav`);
      try {
        await run('espeak-ng', ['-v', voice, '-s', String(speed), '-w', raw, '--', text]);
        await run('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', '-e', 'signed-integer', tmp]);
        await rename(tmp, final); // atomic: parallel test files may render the same text
      } finally {
        await rm(raw, { force: true });
        await rm(tmp, { force: true });
      }
    }
    const pcm = pcmFromWav(await readFile(final));
    return trim ? { ...pcm, samples: trimSilence(pcm.samples) } : pcm;
  })();
  inflight.set(memo, p);
  p.catch(() => inflight.delete(memo));
  return p;
}

/** Writes mono PCM as a WAV (for debugging clips). */
export async function writeWav(path: string, pcm: Pcm): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, encodeWav(pcm.sampleRate, [pcm.samples]));
}

/** Deterministic PRNG (mulberry32) so noise bursts are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NoiseOptions {
  /** Peak RMS level in dBFS. Default -12 (a cough or a door close to the phone). */
  readonly levelDbfs?: number;
  readonly seed?: number;
}

/**
 * A broadband noise burst: white noise under a fast attack (10 ms) and exponential decay envelope
 * (a cough, a door). Its whole length is above the detector's threshold for bursts >= 60 ms.
 */
export function noiseBurst(ms: number, sampleRate: number, opts: NoiseOptions = {}): Int16Array {
  const n = Math.max(0, Math.round((sampleRate * ms) / 1000));
  const out = new Int16Array(n);
  const rnd = prng(opts.seed ?? 0x5eed);
  // Uniform noise in [-1, 1) has RMS 1/sqrt(3).
  const amp = 32767 * Math.pow(10, (opts.levelDbfs ?? -12) / 20) * Math.sqrt(3);
  const attack = Math.max(1, Math.round(sampleRate * 0.01));
  for (let i = 0; i < n; i++) {
    const env = i < attack ? i / attack : Math.exp((-2.0 * (i - attack)) / Math.max(1, n - attack)); // ends ~-17 dB
    const v = (rnd() * 2 - 1) * amp * env;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

export function silence(ms: number, sampleRate: number): Int16Array {
  return new Int16Array(Math.max(0, Math.round((sampleRate * ms) / 1000)));
}
