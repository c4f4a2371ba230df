/**
 * Pacing benchmark: N media sessions (10, 100, 400) send PCMU through the shared media clock to
 * loopback receivers running in a worker thread (its own event loop, so receive timestamps are
 * not held up by the sender). Per stream, inter-arrival deviation |interval - 20 ms|; p50/p99/max
 * over all streams; plus the main thread's event-loop delay and the clock's late wake-ups.
 *
 *   npx tsx bench/pacing.ts [--seconds 8] [--counts 10,100,400] [--no-worker-run]
 * Runs every count with the sessions in this thread at default priority (`sessions`), then as the
 * engine runs them in production: in a media worker thread at MEDIA_PRIORITY=realtime
 * (`sessions_worker`, SCHED_FIFO when the OS allows it, else what it got, recorded). On a shared,
 * loaded machine the difference is mostly the cost of CPU contention, not of the engine.
 * Writes bench/results/pacing.json.
 */
import { Worker } from 'node:worker_threads';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { MediaEngine, ulawEncode } from '../media/index.js';
import type { MediaSession } from '../media/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const seconds = Number(arg('seconds', '8'));
const counts = arg('counts', '10,100,400').split(',').map(Number);

const workerSrc = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const sock = dgram.createSocket('udp4');
const arrivals = new Map();
let recording = false;
sock.on('message', (m, r) => {
  if (!recording) return;
  const t = Number(process.hrtime.bigint()) / 1e6;
  let a = arrivals.get(r.port); if (!a) { a = []; arrivals.set(r.port, a); } a.push(t);
});
sock.bind(0, '127.0.0.1', () => parentPort.postMessage({ type: 'ready', port: sock.address().port }));
parentPort.on('message', (msg) => {
  if (msg.type === 'record') { arrivals.clear(); recording = true; }
  if (msg.type === 'stop') {
    recording = false;
    const devs = []; let packets = 0;
    for (const a of arrivals.values()) { packets += a.length; for (let i = 1; i < a.length; i++) devs.push(Math.abs(a[i] - a[i - 1] - 20)); }
    parentPort.postMessage({ type: 'result', devs: Float64Array.from(devs), packets, streams: arrivals.size });
  }
  if (msg.type === 'close') sock.close(() => process.exit(0));
});
`;

/** Kernel timestamps of the packets on the loopback interface (what a peer's NIC would see). */
async function startCapture(port: number): Promise<{ stop: () => Promise<Map<number, number[]>> } | null> {
  const file = join(tmpdir(), `pacing-${process.pid}-${port}.pcapng`);
  const p = spawn('dumpcap', ['-i', 'lo', '-f', `udp dst port ${port}`, '-B', '64', '-q', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ok = await new Promise<boolean>((res) => {
    let err = '';
    p.on('error', () => res(false));
    p.stderr!.on('data', (d) => { err += String(d); if (err.includes('Capturing on')) res(true); });
    p.on('exit', () => res(false));
    setTimeout(() => res(err.includes('Capturing on')), 5000);
  });
  if (!ok) { p.kill(); return null; }
  return {
    stop: async () => {
      await new Promise((r) => { p.once('exit', r); p.kill('SIGINT'); });
      const out = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'udp.srcport'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const m = new Map<number, number[]>();
      for (const line of out.stdout.split('\n')) {
        const [t, sp] = line.split('\t');
        if (!t || !sp) continue;
        const port = Number(sp);
        let a = m.get(port);
        if (!a) { a = []; m.set(port, a); }
        a.push(Number(t) * 1000);
      }
      spawnSync('rm', ['-f', file]);
      return m;
    },
  };
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function runCount(engine: MediaEngine, count: number) {
  const worker = new Worker(workerSrc, { eval: true });
  const next = <T>(type: string) => new Promise<T>((res) => { const h = (m: { type: string }) => { if (m.type === type) { worker.off('message', h); res(m as T); } }; worker.on('message', h); });
  const { port } = await next<{ port: number }>('ready');
  const tone = ulawEncode(Int16Array.from({ length: 8000 * (seconds + 3) }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000))));
  const sessions: MediaSession[] = [];
  for (let i = 0; i < count; i++) {
    const s = await engine.createSession({ vad: false });
    s.setRemote({ address: '127.0.0.1', port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    s.play({ id: 'tone', format: 'pcmu', data: tone });
    sessions.push(s);
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  // Sender-side view: how late each tick started, and how long sending all sessions' packets took.
  // (Not visible from here when the sessions run in a worker: those fields are then null.)
  const starts: number[] = [], work: number[] = [];
  const off = engine.workers > 0 ? () => undefined : engine.clock.add((t) => { starts.push(t.now - t.deadline); work.push(performance.now() - t.now); });
  const capture = await startCapture(port);
  const clock0 = engine.stats().clock;
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  worker.postMessage({ type: 'record' });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  worker.postMessage({ type: 'stop' });
  const res = await next<{ devs: Float64Array; packets: number; streams: number }>('result');
  const wire = capture ? await capture.stop() : null;
  let wireDevs: Float64Array | null = null;
  let wirePackets = 0;
  if (wire) {
    const d: number[] = [];
    for (const a of wire.values()) { wirePackets += a.length; for (let i = 1; i < a.length; i++) d.push(Math.abs(a[i]! - a[i - 1]! - 20)); }
    wireDevs = Float64Array.from(d).sort();
  }
  eld.disable();
  off();
  const clock1 = engine.stats().clock;
  const st = Float64Array.from(starts).sort(), wk = Float64Array.from(work).sort();
  await Promise.all(sessions.map((s) => s.close()));
  worker.postMessage({ type: 'close' });
  const devs = res.devs.sort();
  const primary = wireDevs ?? devs;
  return {
    row: {
      count, streams: res.streams, packets: wireDevs ? wirePackets : res.packets,
      measured_at: wireDevs ? 'wire: kernel timestamps on lo (dumpcap)' : 'receiver worker thread',
      p50_deviation_ms: r3(pct(primary, 50)), p99_deviation_ms: r3(pct(primary, 99)), max_deviation_ms: r3(primary.length ? primary[primary.length - 1]! : 0),
      receiver_p50_deviation_ms: r3(pct(devs, 50)), receiver_p99_deviation_ms: r3(pct(devs, 99)), receiver_max_deviation_ms: r3(devs.length ? devs[devs.length - 1]! : 0),
      tick_start_late_p50_ms: st.length ? r3(pct(st, 50)) : null, tick_start_late_p99_ms: st.length ? r3(pct(st, 99)) : null,
      tick_work_p50_ms: wk.length ? r3(pct(wk, 50)) : null, tick_work_p99_ms: wk.length ? r3(pct(wk, 99)) : null,
      late_wakeups: clock1.lateWakeups - clock0.lateWakeups, skipped_ticks: clock1.skippedTicks - clock0.skippedTicks,
    },
    eld: { count, p50_ms: r3(eld.percentile(50) / 1e6), p99_ms: r3(eld.percentile(99) / 1e6), max_ms: r3(eld.max / 1e6), mean_ms: r3(eld.mean / 1e6) },
  };
}

const loadavg0 = loadavg().map((x) => Math.round(x * 100) / 100);
const engine = new MediaEngine();
const base = 30000 + 2 * Math.floor(Math.random() * 10000);
await engine.start({ bindAddress: '127.0.0.1', portMin: base, portMax: base + 2000 });
type Step = Awaited<ReturnType<typeof runCount>>;
const rows: Step['row'][] = [];
const elds: Step['eld'][] = [];
for (const c of counts) {
  const r = await runCount(engine, c);
  rows.push(r.row);
  elds.push(r.eld);
}
await engine.close();
const prio: typeof rows = [];
const prioElds: typeof elds = [];
let workerPriority: string | null = null;
if (!process.argv.includes('--no-worker-run')) {
  const we = new MediaEngine();
  await we.start({ bindAddress: '127.0.0.1', portMin: base, portMax: base + 2000, workers: 1, workerVad: 'none', workerPriority: 'realtime' });
  workerPriority = we.workerPriorities[0]?.applied ?? null;
  for (const c of counts) {
    await new Promise((r) => setTimeout(r, 1500)); // a health report per step (late wake-ups)
    const r = await runCount(we, c);
    prio.push(r.row);
    prioElds.push(r.eld);
  }
  await we.close();
}
const result = {
  name: 'pacing',
  seconds_per_step: seconds,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg_at_start: loadavg0 },
  method: 'PCMU sessions on one shared media clock (absolute 20 ms deadlines, timer 1.5 ms early + futex sleep + 50 µs spin) -> loopback receivers in a worker thread; deviation = |inter-arrival - 20 ms| per stream, from kernel capture timestamps on lo when dumpcap can capture, else from the receiver thread (receiver_* fields always from the thread)',
  sessions: rows,
  event_loop_delay: elds,
  ...(workerPriority !== null ? { worker_priority: workerPriority, sessions_worker: prio, event_loop_delay_owner_thread_worker_run: prioElds } : {}),
  goal: 'p99 <= 1 ms at 100 sessions',
  goal_met: (rows.find((r) => r.count === 100)?.p99_deviation_ms ?? Infinity) <= 1,
  goal_met_in_worker: workerPriority !== null ? (prio.find((r) => r.count === 100)?.p99_deviation_ms ?? Infinity) <= 1 : null,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'pacing.json'), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result));
console.log(`\nload average at start: ${loadavg0.join(' ')} (other processes share these cores)`);
console.log(`deviation measured at: ${rows[0]?.measured_at}`);
const table = (title: string, rs: typeof rows, es: typeof elds) => {
  console.log(title);
  console.log('sessions  p50 ms  p99 ms  max ms  late  skipped | tick work p99 ms | loop p99 ms | worker-receiver p99 ms');
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!, e = es[i]!;
    console.log(`${String(r.count).padStart(8)}  ${r.p50_deviation_ms.toFixed(3).padStart(6)}  ${r.p99_deviation_ms.toFixed(3).padStart(6)}  ${r.max_deviation_ms.toFixed(3).padStart(6)}  ${String(r.late_wakeups).padStart(4)}  ${String(r.skipped_ticks).padStart(7)} | ${(r.tick_work_p99_ms?.toFixed(3) ?? '-').padStart(16)} | ${e.p99_ms.toFixed(3).padStart(11)} | ${r.receiver_p99_deviation_ms.toFixed(3)}`);
  }
};
table('sessions in this thread, default priority:', rows, elds);
if (workerPriority !== null) table(`sessions in a media worker (priority ${workerPriority}; loop = this thread's):`, prio, prioElds);
