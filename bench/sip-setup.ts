/**
 * sip-setup: call set-up rate of the built-in SIP stack. A sipp UAC places calls (INVITE, 200,
 * ACK, 100 ms hold, BYE) at increasing rates against (a) the engine's SipStack answering every
 * call with an SDP answer, and (b) a sipp UAS (its built-in `uas` scenario) as the reference
 * ceiling on the same machine. A step counts when >= 99.5% of its calls complete and the run
 * ends within 5 s of the offered span (no pile-up); the figure is the highest counted rate
 * (target x completed fraction). The ladder stops at the first step that does not count.
 *
 *   npx tsx bench/sip-setup.ts        → bench/results/sip-setup.json {engine_cps, reference_cps, ratio}
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipStack } from '../sip/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const SCENARIO = join(here, '..', 'test', 'integration', 'sip', 'scenarios', 'bench-uac.xml');
const RATES = [50, 100, 200, 400, 800, 1200, 1600, 2000, 2500];
const STEP_SECONDS = 3;

interface Step { target_cps: number; calls: number; successful: number; failed: number; achieved_cps: number; counted: boolean; seconds: number }

function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 40000);
}

async function udpFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(true); });
  });
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', (code) => resolve({ code, out }));
    p.on('error', (e) => resolve({ code: -1, out: String(e) }));
  });
}

/** Start a sipp UAS (reference); resolves with its port once it is listening. */
async function startReferenceUas(): Promise<{ port: number; stop(): void }> {
  for (let i = 0; i < 20; i++) {
    const port = randomPort();
    if (!(await udpFree(port))) continue;
    const dir = mkdtempSync(join(tmpdir(), 'sipp-uas-'));
    const p = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-cp', String(randomPort()), '-mp', String(randomPort() & ~1), '-nostdin', '-bg'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise<void>((r) => p.on('exit', () => r()));
    const pid = /PID=\[(\d+)\]/.exec(out)?.[1];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await udpFree(port))) await new Promise((r) => setTimeout(r, 50));
    if (!pid || (await udpFree(port))) continue;
    return { port, stop: () => { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } rmSync(dir, { recursive: true, force: true }); } };
  }
  throw new Error('could not start the reference sipp UAS');
}

async function step(remote: string, rate: number): Promise<Step> {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-bench-'));
  const calls = rate * STEP_SECONDS;
  const stf = join(dir, 'stats.csv');
  const args = [
    remote, '-sf', SCENARIO, '-s', '+14155550100', '-i', '127.0.0.1', '-p', String(randomPort()), '-cp', String(randomPort()),
    '-mp', String(randomPort() & ~1), '-nostdin', '-r', String(rate), '-m', String(calls), '-l', String(Math.max(50, rate * 2)),
    '-timeout', `${STEP_SECONDS * 4 + 10}s`, '-max_socket', '4096', '-trace_stat', '-stf', stf, '-fd', '1',
  ];
  const t0 = Date.now();
  await run('sipp', args, dir);
  const wall = (Date.now() - t0) / 1000;
  let successful = 0;
  let failed = calls;
  let elapsed = wall;
  if (existsSync(stf)) {
    const lines = readFileSync(stf, 'utf8').trim().split('\n');
    const head = (lines[0] ?? '').split(';');
    const last = (lines[lines.length - 1] ?? '').split(';');
    const col = (name: string) => Number(last[head.indexOf(name)] ?? NaN);
    successful = col('SuccessfulCall(C)');
    failed = col('FailedCall(C)');
    const el = last[head.indexOf('ElapsedTime(C)')];
    if (el) {
      const [h, m, s] = el.split(':').map(Number) as [number, number, number];
      elapsed = h * 3600 + m * 60 + s;
    }
  }
  // sipp offers the calls at the target rate over calls/rate seconds. The side under test kept
  // up when (nearly) every call completed and the run did not pile up: failed calls hold the run
  // until their timers fire, so a long run means overload even with few failures.
  const offered = calls / rate;
  const counted = successful >= calls * 0.995 && Math.min(elapsed, wall) <= offered + 5;
  const achieved = (rate * successful) / calls;
  rmSync(dir, { recursive: true, force: true });
  return { target_cps: rate, calls, successful, failed, achieved_cps: Math.round(achieved * 10) / 10, counted, seconds: Math.round(Math.min(elapsed, wall) * 10) / 10 };
}

async function ladder(remote: string): Promise<{ best: number; steps: Step[] }> {
  const steps: Step[] = [];
  let best = 0;
  let misses = 0;
  for (const rate of RATES) {
    const s = await step(remote, rate);
    steps.push(s);
    process.stdout.write(`  ${remote.padEnd(16)} target ${String(rate).padStart(5)} cps  ok ${String(s.successful).padStart(5)}/${s.calls} in ${s.seconds}s  achieved ${s.achieved_cps}${s.counted ? '' : '  (not counted)'}\n`);
    if (s.counted) { best = Math.max(best, s.achieved_cps); misses = 0; } else if (++misses >= 1) break;
  }
  return { best, steps };
}

async function main(): Promise<void> {
  const started = Date.now();
  const discard = dgram.createSocket('udp4');
  await new Promise<void>((r) => discard.bind(0, '127.0.0.1', () => r()));
  const mediaPort = discard.address().port;
  discard.on('message', () => undefined);
  const stack = new SipStack({
    host: '127.0.0.1', port: 0,
    onCall: (call) => {
      call.answer({ media: { address: '127.0.0.1', port: mediaPort, codecs: [{ name: 'PCMU', clockRate: 8000, payloadType: 0 }, { name: 'PCMA', clockRate: 8000, payloadType: 8 }] } })
        .catch(() => undefined);
    },
  });
  await stack.start();
  process.stdout.write(`sip-setup: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const engine = await ladder(`127.0.0.1:${stack.port('udp')}`);
  await stack.close();
  discard.close();
  const uas = await startReferenceUas();
  let reference: { best: number; steps: Step[] };
  try {
    reference = await ladder(`127.0.0.1:${uas.port}`);
  } finally {
    uas.stop();
  }
  const ratio = reference.best > 0 ? Math.round((engine.best / reference.best) * 1000) / 1000 : 0;
  const result = {
    name: 'sip-setup',
    engine_cps: engine.best,
    reference_cps: reference.best,
    ratio,
    scenario: 'INVITE/SDP, 200/SDP, ACK, 100 ms hold, BYE over UDP on loopback; step = 3 s at the target rate; counted when >= 99.5% complete without pile-up',
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', load: loadavg(), node: process.version },
    duration_s: Math.round((Date.now() - started) / 100) / 10,
    engine_steps: engine.steps,
    reference_steps: reference.steps,
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'sip-setup.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\n| side      | calls/s |\n|-----------|---------|\n| engine    | ${String(engine.best).padStart(7)} |\n| sipp UAS  | ${String(reference.best).padStart(7)} |\n| ratio     | ${String(ratio).padStart(7)} |\n`);
  process.stdout.write(JSON.stringify({ engine_cps: result.engine_cps, reference_cps: result.reference_cps, ratio }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`sip-setup failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
