/** A sipp UAS running one of this folder's scenarios, and call-interval arithmetic. */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

export interface SippUas {
  readonly port: number;
  /** Stops sipp; resolves with its error log (empty when none). */
  stop(): Promise<string>;
}

const udpFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  s.once('error', () => resolve(false));
  s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/** Starts `sipp -sf scenarios/<name>` as a UAS on a random free port of 127.0.0.1. */
export async function startSippUas(name: string): Promise<SippUas> {
  if (spawnSync('which', ['sipp']).status !== 0) throw new Error('sipp is not installed: apt-get install sip-tester');
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const mediaPort = (20000 + Math.floor(Math.random() * 40000)) & ~1;
    if (!(await udpFree(port))) continue;
    const dir = mkdtempSync(join(tmpdir(), 'sipp-campaign-'));
    const child = spawn('sipp', [
      '-sf', join(SCENARIOS, name), '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-cp', String(20000 + Math.floor(Math.random() * 40000)),
      '-t', 'u1', '-m', '100000', '-nostdin', '-trace_err', '-error_file', join(dir, 'errors.log'),
    ], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    let exited = false;
    const done = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline && (await udpFree(port))) await new Promise((r) => setTimeout(r, 30));
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      if (attempt < 9) continue;
      throw new Error(`sipp did not start: ${stderr}`);
    }
    return {
      port,
      async stop() {
        if (!exited) child.kill('SIGTERM');
        await done;
        let errors = '';
        try { errors = readdirSync(dir).filter((f) => f.includes('error')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n'); } catch { /* none */ }
        rmSync(dir, { recursive: true, force: true });
        return errors;
      },
    };
  }
  throw new Error('could not start sipp');
}

/** The most intervals [start, end) open at once. */
export function maxOverlap(intervals: readonly [number, number][]): number {
  const ev: [number, number][] = [];
  for (const [s, e] of intervals) ev.push([s, 1], [e, -1]);
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) max = Math.max(max, (cur += d));
  return max;
}

/** `HH:MM:SS` of an instant in UTC. */
export const utcTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
