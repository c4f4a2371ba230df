/** Test aids for SIP integration tests: a stack on loopback, an RTP echo socket, sipp runner. */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipStack } from '../../../sip/index.js';
import type { SipStackOptions, LocalMedia, IncomingCall, Dialog, DialogEvent } from '../../../sip/index.js';

export const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

export function requireBinary(name: string): void {
  const r = spawnSync('which', [name]);
  if (r.status !== 0) throw new Error(`${name} is not installed: install it with apt-get (see test/integration/sip/README)`);
}

export async function startStack(opts: SipStackOptions = {}): Promise<SipStack> {
  const trace = process.env['SIP_TEST_TRACE'] ? { trace: true } : {};
  const stack = new SipStack({ host: '127.0.0.1', port: 0, ...trace, ...opts });
  await stack.start();
  return stack;
}

/** A plain UDP socket standing in for the media plane: counts packets, optionally echoes them. */
export class RtpSocket {
  readonly sock = dgram.createSocket('udp4');
  received = 0;
  constructor(private readonly echo = false) {}
  async bind(): Promise<number> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.on('message', (m, rinfo) => {
      this.received++;
      if (this.echo) this.sock.send(m, rinfo.port, rinfo.address);
    });
    return this.sock.address().port;
  }
  get port(): number {
    return this.sock.address().port;
  }
  /** Send `n` PCMU packets of silence, 20 ms apart. */
  async sendRtp(address: string, port: number, n: number, pt = 0): Promise<void> {
    for (let i = 0; i < n; i++) {
      const b = Buffer.alloc(12 + 160, 0xff);
      b[0] = 0x80; b[1] = pt; b.writeUInt16BE(i, 2); b.writeUInt32BE(i * 160, 4); b.writeUInt32BE(0x1234, 8);
      this.sock.send(b, port, address);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  close(): void {
    try { this.sock.close(); } catch { /* closed */ }
  }
}

export function media(port: number): LocalMedia {
  return {
    address: '127.0.0.1', port,
    codecs: [{ name: 'PCMU', clockRate: 8000, payloadType: 0 }, { name: 'PCMA', clockRate: 8000, payloadType: 8 }],
  };
}

export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 40000);
}

async function portBusy(port: number, proto: 'udp' | 'tcp', ip = '127.0.0.1'): Promise<boolean> {
  if (proto === 'udp') {
    const s = dgram.createSocket('udp4');
    return new Promise((resolve) => {
      s.once('error', () => { resolve(true); });
      s.bind(port, ip, () => { s.close(); resolve(false); });
    });
  }
  return new Promise((resolve) => {
    const c = net.connect(port, ip);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  errors: string;
}

export interface SippRun {
  port: number;
  mediaPort: number;
  done: Promise<SippResult>;
  kill(): void;
}

/**
 * Start sipp with a scenario. `remote` is host:port for a UAC; omit for a UAS. Resolves once the
 * process is listening on its SIP port.
 */
export async function sipp(scenario: string, opts: {
  remote?: string; args?: string[]; transport?: 'u1' | 't1'; timeoutS?: number; calls?: number; ip?: string;
} = {}): Promise<SippRun> {
  requireBinary('sipp');
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = randomPort();
    const mediaPort = randomPort() & ~1;
    const cp = randomPort();
    const args = [
      ...(opts.remote ? [opts.remote] : []),
      '-sf', join(SCENARIOS, scenario),
      '-i', opts.ip ?? '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-cp', String(cp),
      '-t', opts.transport ?? 'u1', '-m', String(opts.calls ?? 1), '-nostdin',
      '-timeout', `${opts.timeoutS ?? 30}s`, '-timeout_error', '-trace_err', '-error_file', join(dir, 'errors.log'),
      ...(opts.args ?? []),
    ];
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const done = new Promise<SippResult>((resolve) => {
      child.on('exit', (code) => {
        let errors = '';
        try { errors = readdirSync(dir).filter((f) => f.includes('error')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n'); } catch { /* none */ }
        rmSync(dir, { recursive: true, force: true });
        resolve({ code, stdout, stderr, errors });
      });
    });
    // Wait until it listens (or dies, e.g. port taken: retry with another).
    let exited = false;
    void done.then(() => { exited = true; });
    const proto = opts.transport === 't1' ? 'tcp' : 'udp';
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline && !(await portBusy(port, proto, opts.ip))) await new Promise((r) => setTimeout(r, 30));
    if (exited) {
      const r = await done;
      if (/bind|already in use|Address/i.test(r.stderr + r.stdout) && attempt < 9) continue;
      return { port, mediaPort, done: Promise.resolve(r), kill: () => undefined };
    }
    return { port, mediaPort, done, kill: () => { if (!exited) child.kill('SIGKILL'); } };
  }
  throw new Error('could not start sipp');
}

/** Answer every incoming call with the given media; collects calls and dialogs. */
export function autoAnswer(rtp: RtpSocket): { calls: IncomingCall[]; dialogs: Dialog[]; errors: unknown[]; onCall: (c: IncomingCall) => void; next(): Promise<Dialog> } {
  const calls: IncomingCall[] = [];
  const dialogs: Dialog[] = [];
  const errors: unknown[] = [];
  let consumed = 0;
  return {
    calls, dialogs, errors,
    onCall: (c) => {
      calls.push(c);
      c.answer({ media: media(rtp.port) }).then((d) => { recordEvents(d); dialogs.push(d); }, (e: unknown) => errors.push(e));
    },
    next: () => {
      const i = consumed++;
      return waitFor(() => dialogs[i], 15000, `dialog #${i}`);
    },
  };
}

const recorded = new WeakMap<Dialog, DialogEvent[]>();
/** All events of a dialog since the first call (call right after answer() resolves). */
export function recordEvents(d: Dialog): DialogEvent[] {
  let ev = recorded.get(d);
  if (!ev) {
    const list: DialogEvent[] = [];
    d.onAny((e) => list.push(e));
    recorded.set(d, list);
    ev = list;
  }
  return ev;
}

export function assertSippOk(r: SippResult): void {
  if (r.code !== 0) throw new Error(`sipp exited with ${r.code}\n${r.stderr}\n${r.errors}`.slice(0, 6000));
}

export function waitFor<T>(fn: () => T | undefined, timeoutMs = 10000, what = 'condition'): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = fn();
      if (v !== undefined && v !== false) { resolve(v); return; }
      if (Date.now() - start > timeoutMs) { reject(new Error(`timed out waiting for ${what}`)); return; }
      setTimeout(tick, 20);
    };
    tick();
  });
}
