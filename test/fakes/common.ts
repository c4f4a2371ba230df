// Shared plumbing for the fake provider servers: a loopback HTTP server with websocket upgrade,
// handshake refusals written as real HTTP answers, speech audio (fixtures or espeak-ng) and an
// energy-based speech segmenter.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { readFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { parseWav, resample, rms } from '../../engine/providers/audio.js';

export interface FakeServer {
  /** `http://127.0.0.1:<port>`; websocket clients use the same origin with ws://. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface UpgradeRefusal { status: number; body: unknown }

export interface ServeOptions {
  http?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Returns a refusal to answer the handshake with an HTTP error, or a handler for the socket. */
  upgrade?: (req: IncomingMessage) => UpgradeRefusal | ((ws: WebSocket, req: IncomingMessage) => void) | Promise<UpgradeRefusal | ((ws: WebSocket, req: IncomingMessage) => void)>;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export function refuseUpgrade(socket: Duplex, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

/** Starts an HTTP(+ws) server on 127.0.0.1 with an ephemeral port. */
export async function serve(opts: ServeOptions): Promise<FakeServer & { server: Server; wss: WebSocketServer; sockets: Set<WebSocket> }> {
  const server = createServer((req, res) => {
    if (opts.http) opts.http(req, res);
    else { res.writeHead(404, { 'content-type': 'application/json' }); res.end('{"error":"not found"}'); }
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  const raw = new Set<Duplex>();
  server.on('connection', (s) => { raw.add(s); s.on('close', () => raw.delete(s)); });
  server.on('upgrade', (req, socket, head) => {
    void (async () => {
      if (!opts.upgrade) return refuseUpgrade(socket, 404, { error: 'no websocket here' });
      const r = await opts.upgrade(req);
      if (socket.destroyed) return;
      if (typeof r !== 'function') return refuseUpgrade(socket, r.status, r.body);
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        r(ws, req);
      });
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    wss,
    sockets,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        for (const s of raw) s.destroy();
        wss.close();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// ---- speech ----
const FIXTURE_DIR = new URL('../fixtures/audio/', import.meta.url);

export interface Clip { file: string; text: string; pcm: Int16Array; sampleRate: number }

let clips: Clip[] | undefined;
export function fixtureClips(): Clip[] {
  if (!clips) {
    const index = JSON.parse(readFileSync(new URL('clips.json', FIXTURE_DIR), 'utf8')) as { file: string; text: string }[];
    clips = index.map((c) => ({ ...c, ...parseWav(readFileSync(new URL(c.file, FIXTURE_DIR))) }));
  }
  return clips;
}

/** A fixture clip as 16-bit PCM at `rate`. */
export function fixturePcm(file: string, rate: number): Int16Array {
  const c = fixtureClips().find((x) => x.file === file || x.file === `${file}.wav`);
  if (!c) throw new Error(`no fixture clip ${file}`);
  return resample(c.pcm, c.sampleRate, rate);
}

let espeak: boolean | undefined;
export function hasEspeak(): boolean {
  if (espeak === undefined) {
    espeak = existsSync('/usr/bin/espeak-ng') || spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' }).status === 0;
  }
  return espeak;
}

export type VoiceSource = 'auto' | 'fixtures' | 'espeak';

function espeakPcm(text: string): Promise<{ pcm: Int16Array; sampleRate: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn('espeak-ng', ['-v', 'en-us', '-s', '170', '--stdout', '--stdin'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`espeak-ng exited ${code}`));
      try { resolve(parseWav(new Uint8Array(Buffer.concat(chunks)))); } catch (e) { reject(e); }
    });
    p.stdin.end(text);
  });
}

/**
 * Real speech for `text` as 16-bit PCM at `rate`: espeak-ng when present (source 'auto' or
 * 'espeak'), else fixture clips: the clip saying exactly this text, or clips cut to ~65 ms per
 * character so that duration and alignment stay plausible.
 */
export function speechFor(text: string, rate: number, source: VoiceSource = 'auto'): Promise<Int16Array> {
  const t = text.trim();
  if (t.length === 0) return Promise.resolve(new Int16Array(0));
  // Memoised (a few dozen entries): the fakes say the same lines on every call of a load test, and
  // the windowed-sinc resampler would otherwise dominate the load generator's CPU. Read-only result.
  const key = `${source}|${rate}|${t}`;
  let p = SPEECH_CACHE.get(key);
  if (!p) {
    p = synthesise(t, rate, source);
    p.catch(() => SPEECH_CACHE.delete(key));
    if (SPEECH_CACHE.size >= 64) SPEECH_CACHE.delete(SPEECH_CACHE.keys().next().value as string);
    SPEECH_CACHE.set(key, p);
  }
  return p;
}

const SPEECH_CACHE = new Map<string, Promise<Int16Array>>();

async function synthesise(t: string, rate: number, source: VoiceSource): Promise<Int16Array> {
  if (source === 'espeak' || (source === 'auto' && hasEspeak())) {
    const s = await espeakPcm(t);
    return resample(s.pcm, s.sampleRate, rate);
  }
  const all = fixtureClips();
  const exact = all.find((c) => c.text.toLowerCase() === t.toLowerCase());
  if (exact) return resample(exact.pcm, exact.sampleRate, rate);
  const agent = all.filter((c) => c.file.startsWith('agent-'));
  const want = Math.round(Math.max(0.3, t.length * 0.065) * 16000);
  const out = new Int16Array(want);
  let off = 0;
  let i = t.length % agent.length;
  while (off < want) {
    const c = agent[i++ % agent.length]!;
    const n = Math.min(c.pcm.length, want - off);
    out.set(c.pcm.subarray(0, n), off);
    off += n;
  }
  return resample(out, 16000, rate);
}

/** Spreads `text`'s characters evenly over `durationMs` (fakes only: real services measure). */
export function uniformAlignment(text: string, startMs: number, durationMs: number): { chars: string[]; starts: number[]; durations: number[] } {
  const chars = [...text];
  const per = chars.length > 0 ? durationMs / chars.length : 0;
  return { chars, starts: chars.map((_, i) => Math.round(startMs + i * per)), durations: chars.map(() => Math.max(1, Math.round(per))) };
}

// ---- energy segmentation ----
export type SegmentEvent =
  | { type: 'speech-start'; atSec: number }
  | { type: 'speech'; startSec: number; nowSec: number }
  | { type: 'speech-end'; startSec: number; endSec: number };

/** Splits a PCM stream into utterances: 20 ms frames above `threshold` RMS are speech; a gap of `hangoverMs` ends one. */
export class EnergySegmenter {
  readonly #rate: number;
  readonly #frame: number;
  readonly #threshold: number;
  readonly #hangover: number;
  #pending: number[] = [];
  #pos = 0; // samples consumed
  #inSpeech = false;
  #start = 0;
  #lastVoice = 0;

  constructor(sampleRate: number, opts: { threshold?: number; hangoverMs?: number } = {}) {
    this.#rate = sampleRate;
    this.#frame = Math.round(sampleRate * 0.02);
    this.#threshold = opts.threshold ?? 400;
    this.#hangover = (opts.hangoverMs ?? 300) / 1000;
  }

  get inSpeech(): boolean { return this.#inSpeech; }
  get nowSec(): number { return this.#pos / this.#rate; }
  get speechStartSec(): number { return this.#start; }
  get lastVoiceSec(): number { return this.#lastVoice; }

  push(pcm: Int16Array): SegmentEvent[] {
    const ev: SegmentEvent[] = [];
    for (const s of pcm) this.#pending.push(s);
    while (this.#pending.length >= this.#frame) {
      const frame = Int16Array.from(this.#pending.splice(0, this.#frame));
      const t0 = this.#pos / this.#rate;
      this.#pos += frame.length;
      const t1 = this.#pos / this.#rate;
      const voiced = rms(frame) >= this.#threshold;
      if (voiced) {
        this.#lastVoice = t1;
        if (!this.#inSpeech) { this.#inSpeech = true; this.#start = t0; ev.push({ type: 'speech-start', atSec: t0 }); }
        else ev.push({ type: 'speech', startSec: this.#start, nowSec: t1 });
      } else if (this.#inSpeech && t1 - this.#lastVoice >= this.#hangover) {
        this.#inSpeech = false;
        ev.push({ type: 'speech-end', startSec: this.#start, endSec: this.#lastVoice });
      }
    }
    return ev;
  }

  /** Ends the current utterance now (Finalize / CloseStream). */
  cut(): SegmentEvent | undefined {
    if (!this.#inSpeech) return undefined;
    this.#inSpeech = false;
    return { type: 'speech-end', startSec: this.#start, endSec: this.#lastVoice };
  }
}
