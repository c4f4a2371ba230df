/**
 * Capacity: the largest number of concurrent full-pipeline calls (SIP, RTP both ways, Silero VAD,
 * streaming STT -> LLM -> TTS, greeting, a caller who talks every few seconds and an agent who
 * answers) this machine carries with the agent's RTP paced within p99 deviation <= 2 ms and no
 * packet loss. Steps 50, 100, 200, 400... until a step fails or the time budget runs out.
 *
 * The engine runs in this process; the fake providers and the test callers in a child process
 * (bench/lib/loadgen.ts): BOTH share this machine's cores, so the figure is a lower bound for
 * the engine alone (the per-process CPU is reported). Pacing: kernel timestamps on lo (dumpcap)
 * of every agent -> caller RTP packet during a measurement window; deviation = |inter-arrival -
 * 20 ms| of consecutive packets per stream. Loss: the callers' RFC 3550 loss counters over the
 * window, and sequence gaps on the wire. Memory: engine RSS during the window minus the idle
 * engine's RSS (before the first step), per call. CPU: engine process CPU (all threads) in % of
 * one core, per call, and per thread.
 *
 *   npx tsx bench/capacity.ts [--steps 50,100,200,400] [--window 8] [--budget-s 170] [--workers auto|N] [--priority realtime|high|normal]
 * `--workers` sets MEDIA_WORKERS (0 = RTP sessions in the main thread), `--priority` MEDIA_PRIORITY
 * (default realtime, the engine's default). Other than the defaults, the
 * result goes to capacity-<workers>w-<priority>.json, for before/after comparisons.
 * Writes bench/results/capacity.json.
 */
import { startHarness } from '../test/e2e/harness.js';
import { LoadGen } from './lib/loadgen-client.js';
import type { SteadyStats } from './lib/loadgen.js';
import type { ClockStats } from '../media/index.js';
import { startCapture, rtpPacing } from './lib/capture.js';
import { cpuPercent, mainThreadSched, sampleProcess, sampleThreads, systemBusyPercent, systemCpu, threadCpu } from './lib/proc.js';
import type { ProcSample } from './lib/proc.js';
import { rtpRanges } from './lib/ports.js';
import { machine, pct, printMachine, round1, round3, table, writeResult } from './lib/stats.js';

const arg = (name: string, def: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const STEPS = arg('steps', '50,100,200,400,800').split(',').map(Number);
const WINDOW_S = Number(arg('window', '8'));
const BUDGET_MS = Number(arg('budget-s', '170')) * 1000;
const WORKERS = arg('workers', 'auto');
const PRIORITY = arg('priority', 'realtime');
const P99_LIMIT_MS = 2;
const t0 = Date.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const providers = {
  deepgram: { latencyMs: 40, interimEveryMs: 200, fallbackText: 'What time do you open tomorrow?' },
  openai: { ttftMs: 120, tokensPerSec: 120, fallback: { text: 'We open at nine in the morning. See you then!' } },
  elevenlabs: { firstChunkMs: 80, realtimeFactor: 4, voiceSource: 'fixtures' as const },
};
const m0 = machine();
printMachine('capacity', m0);
const maxCalls = Math.max(...STEPS);
const ranges = rtpRanges(Math.max(1000, maxCalls * 4 + 200));
// Two load processes: the fake providers in one, the test callers in the other, so the callers'
// own 20 ms clock is not held up by the fakes' JSON and websocket work.
const lgFakes = await LoadGen.start();
const lg = await LoadGen.start();
const { env } = await lgFakes.request<{ env: Record<string, string> }>('fakes', { providers });
await lg.request('callers', { portMin: ranges.callers.min, portMax: ranges.callers.max });
const sampleLoad = (): ProcSample => { const a = sampleProcess(lg.pid), b = sampleProcess(lgFakes.pid); return { at: a.at, cpuMs: a.cpuMs + b.cpuMs, rssMb: a.rssMb + b.rssMb }; };
const h = await startHarness({ env: { ...env, RTP_PORT_MIN: String(ranges.engine.min), RTP_PORT_MAX: String(ranges.engine.max), MEDIA_WORKERS: WORKERS, MEDIA_PRIORITY: PRIORITY } });
const mediaWorkers = h.engine.calls?.mediaWorkers ?? 0;
const threadNames = new Map<number, string>([[process.pid, 'main (event loop)']]);
(h.engine.calls?.mediaThreadIds ?? []).forEach((tid, i) => { if (tid !== null) threadNames.set(tid, `media worker ${i}`); });
const target = { host: h.sipHost, port: h.sipPort, to: h.number };
const metricsUrl = h.apiUrl.replace(/\/api\/v1\/?$/, '') + '/metrics';

interface Step {
  calls: number; opened: number; failed_setups: number; setup_errors: string[]; setup_p50_ms: number; setup_p95_ms: number;
  pacing_p50_ms: number; pacing_p99_ms: number; pacing_max_ms: number; packets_on_wire: number; streams_on_wire: number; calls_without_agent_rtp: number;
  seq_gaps_on_wire: number; ts_jumps_on_wire: number; lost_at_callers: number; packets_at_callers: number; calls_ended_early: number;
  engine_cpu_pct: number; engine_threads_cpu_pct: Array<{ thread: string; cpu_pct: number }>; cpu_per_call_pct: number; loadgen_cpu_pct: number; machine_busy_pct: number;
  engine_loop_runqueue_wait_pct: number; engine_rss_mb: number; rss_before_mb: number; mem_per_call_mb: number; event_loop_p99_ms: number | null;
  pacer_late_pct: number | null; media_worker_loop_p99_ms: number | null;
  vad_windows_per_s: number; vad_windows_per_batch: number | null; vad_dropped_windows: number;
  loadgen_late_ticks_pct: number | null; loadgen_skipped_ticks: number | null;
  pass: boolean; why: string[]; seconds: number;
}
const steps: Step[] = [];
let fromBase = 0;
/** RSS of the idle engine before the first step: memory per call counts from it (RSS is not returned between steps). */
let idleRssMb: number | null = null;
let stopReason = 'all steps run';

function metric(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

for (const n of STEPS) {
  const elapsed = Date.now() - t0;
  const last = steps[steps.length - 1];
  const estimate = last ? last.seconds * 1000 * (n / last.calls) * 0.6 + 15_000 : 40_000;
  if (steps.length && elapsed + estimate > BUDGET_MS) { stopReason = `time budget (${BUDGET_MS / 1000} s) would be exceeded at ${n} calls`; break; }
  const w0 = Date.now();
  global.gc?.();
  await sleep(500);
  const before = sampleProcess();
  idleRssMb ??= before.rssMb;
  const open = await lg.request<{ opened: number; failed: number; setupMs: number[]; errors: string[] }>('steady-open', { target, calls: n, dialConcurrency: 25, fromBase, cycleMs: 6000 });
  fromBase += n;
  await sleep(5000); // greetings played, the first turns under way
  const capture = await startCapture(`udp src portrange ${ranges.engine.min}-${ranges.engine.max} and udp dst portrange ${ranges.callers.min}-${ranges.callers.max}`, 512);
  const st0 = await lg.request<{ calls: SteadyStats[]; clock: ClockStats | null }>('steady-stats');
  const e0 = sampleProcess(), l0 = sampleLoad(), s0 = systemCpu(), q0 = mainThreadSched(), t0s = sampleThreads();
  const eldBefore = await (await fetch(metricsUrl)).text().catch(() => '');
  await sleep(WINDOW_S * 1000);
  const e1 = sampleProcess(), l1 = sampleLoad(), s1 = systemCpu(), q1 = mainThreadSched(), t1s = sampleThreads();
  const st1 = await lg.request<{ calls: SteadyStats[]; clock: ClockStats | null }>('steady-stats');
  const metricsText = await (await fetch(metricsUrl)).text().catch(() => '');
  await capture.stop();
  await lg.request('steady-close');
  const pk = capture.rtp();
  capture.dispose();
  const pacing = rtpPacing(pk);
  const devs = Float64Array.from(pacing.deviations).sort();
  const prev = new Map(st0.calls.map((c) => [c.from, c]));
  let lost = 0, packetsIn = 0, ended = 0, silent = 0;
  for (const c of st1.calls) {
    const p = prev.get(c.from);
    if (p) { lost += Math.max(0, c.packetsLost - p.packetsLost); packetsIn += c.packetsIn - p.packetsIn; }
    if (!p || c.packetsIn - p.packetsIn < (WINDOW_S * 1000) / 20 / 2) silent++; // under half the packets of the window
    if (c.error) ended++;
  }
  const setup = Float64Array.from(open.setupMs).sort();
  const rssNow = Math.max(e0.rssMb, e1.rssMb);
  const engineCpu = cpuPercent(e0, e1);
  const eld = metric(metricsText, 'engine_process_nodejs_eventloop_lag_p99_seconds');
  const mwl = metric(metricsText, 'engine_media_worker_eventloop_delay_p99_seconds');
  const ticks = (metric(metricsText, 'engine_pacer_ticks') ?? 0) - (metric(eldBefore, 'engine_pacer_ticks') ?? 0);
  const late = (metric(metricsText, 'engine_pacer_late_wakeups') ?? 0) - (metric(eldBefore, 'engine_pacer_late_wakeups') ?? 0);
  const delta = (name: string): number => (metric(metricsText, name) ?? 0) - (metric(eldBefore, name) ?? 0);
  const vadWindows = delta('engine_vad_windows'), vadBatches = delta('engine_vad_batches');
  const s: Step = {
    calls: n, opened: open.opened, failed_setups: open.failed, setup_errors: open.errors, setup_p50_ms: round1(pct(setup, 50)), setup_p95_ms: round1(pct(setup, 95)),
    pacing_p50_ms: round3(pct(devs, 50)), pacing_p99_ms: round3(pct(devs, 99)), pacing_max_ms: round3(devs.length ? devs[devs.length - 1]! : 0),
    packets_on_wire: pacing.packets, streams_on_wire: pacing.streams, calls_without_agent_rtp: silent, seq_gaps_on_wire: pacing.seqGaps, ts_jumps_on_wire: pacing.tsJumps,
    lost_at_callers: lost, packets_at_callers: packetsIn, calls_ended_early: ended,
    engine_cpu_pct: Math.round(engineCpu), engine_threads_cpu_pct: threadCpu(t0s, t1s, e1.at - e0.at, threadNames), cpu_per_call_pct: round3(engineCpu / Math.max(1, open.opened)), loadgen_cpu_pct: Math.round(cpuPercent(l0, l1)),
    machine_busy_pct: Math.round(systemBusyPercent(s0, s1)),
    engine_loop_runqueue_wait_pct: round1((100 * (q1.waitMs - q0.waitMs)) / (e1.at - e0.at)),
    engine_rss_mb: Math.round(rssNow), rss_before_mb: Math.round(before.rssMb), mem_per_call_mb: round3((rssNow - idleRssMb) / Math.max(1, open.opened)),
    // prom-client's lag histogram holds whole 10 ms timer intervals: the delay is the excess.
    event_loop_p99_ms: eld === null ? null : round1(Math.max(0, eld * 1000 - 10)),
    pacer_late_pct: ticks > 0 ? round1((100 * late) / ticks) : null,
    media_worker_loop_p99_ms: mwl === null ? null : round1(mwl * 1000),
    vad_windows_per_s: round1(vadWindows / WINDOW_S), vad_windows_per_batch: vadBatches > 0 ? round1(vadWindows / vadBatches) : null,
    vad_dropped_windows: delta('engine_vad_dropped_windows'),
    // Did the load generator keep real time? Its callers' shared clock, late by > 2 ms (or skipped).
    loadgen_late_ticks_pct: st0.clock && st1.clock && st1.clock.ticks > st0.clock.ticks
      ? round1((100 * (st1.clock.lateWakeups - st0.clock.lateWakeups)) / (st1.clock.ticks - st0.clock.ticks)) : null,
    loadgen_skipped_ticks: st0.clock && st1.clock ? st1.clock.skippedTicks - st0.clock.skippedTicks : null,
    pass: false, why: [], seconds: 0,
  };
  if (s.opened < n) s.why.push(`${n - s.opened} calls not set up`);
  // From the callers' own counters: the capture is for timing and may miss packets under load.
  if (s.calls_without_agent_rtp > 0) s.why.push(`${s.calls_without_agent_rtp} calls received under half their agent RTP`);
  if (s.pacing_p99_ms > P99_LIMIT_MS) s.why.push(`pacing p99 ${s.pacing_p99_ms} ms > ${P99_LIMIT_MS}`);
  if (s.lost_at_callers > 0) s.why.push(`${s.lost_at_callers} packets lost at the callers`);
  if (s.seq_gaps_on_wire > 0) s.why.push(`${s.seq_gaps_on_wire} sequence gaps on the wire`);
  if (s.calls_ended_early > 0) s.why.push(`${s.calls_ended_early} calls ended early`);
  s.pass = s.why.length === 0;
  // Let the engine finish the calls (BYE, records, post-call work) before the next step.
  await sleep(Math.min(8000, 1500 + n * 10));
  s.seconds = Math.round((Date.now() - w0) / 1000);
  steps.push(s);
  console.log(`${n} calls: ${s.pass ? 'PASS' : 'FAIL (' + s.why.join('; ') + ')'}; pacing p99 ${s.pacing_p99_ms} ms; engine cpu ${s.engine_cpu_pct}% (${s.cpu_per_call_pct}%/call), loadgen ${s.loadgen_cpu_pct}%, machine ${s.machine_busy_pct}%, engine loop waited for a CPU ${s.engine_loop_runqueue_wait_pct}% of the time; RSS ${Math.round(rssNow)} MB (${s.mem_per_call_mb} MB/call over the idle engine) vad ${s.vad_windows_per_s}/s in batches of ${s.vad_windows_per_batch}; callers' clock late ${s.loadgen_late_ticks_pct}% of ticks; threads ${s.engine_threads_cpu_pct.map((t) => `${t.thread} ${t.cpu_pct}%`).join(', ')} (${s.seconds} s)`);
  // A pacing-only failure does not stop the run (the next step shows the trend); calls that do not
  // come up, lose packets or end early do.
  const functional = s.opened === n && s.lost_at_callers === 0 && s.seq_gaps_on_wire === 0 && s.calls_ended_early === 0 && s.calls_without_agent_rtp === 0;
  if (!functional) { stopReason = `step ${n} failed (${s.why.join('; ')})`; break; }
  if (!s.pass && s.pacing_p99_ms > 10 * P99_LIMIT_MS) { stopReason = `step ${n}: pacing p99 ${s.pacing_p99_ms} ms, far past the limit`; break; }
}
await lg.close();
await lgFakes.close();
await sleep(1000);
await h.close();

const passed = steps.filter((s) => s.pass);
const functionalSteps = steps.filter((s) => s.opened === s.calls && s.lost_at_callers === 0 && s.seq_gaps_on_wire === 0 && s.calls_ended_early === 0);
const best = passed[passed.length - 1] ?? null;
const result = {
  name: 'capacity',
  machine: m0,
  media_workers: mediaWorkers,
  media_priority: { requested: PRIORITY, applied: h.engine.calls?.mediaPriorities ?? [] },
  method: `full-pipeline calls (greeting, caller speaks ~2 s every 6 s, agent answers) with the engine in this process and fakes + test callers in a child process on the same ${m0.cores} cores. Pacing: dumpcap kernel timestamps of agent->caller RTP over a ${WINDOW_S} s window, |inter-arrival - 20 ms| per stream. Pass: every call up, p99 <= ${P99_LIMIT_MS} ms, no loss at the callers, no sequence gaps.`,
  providers,
  max_calls: best ? best.calls : 0,
  pacing_p99_ms_at_max: best ? best.pacing_p99_ms : null,
  mem_per_call_mb: best ? best.mem_per_call_mb : null,
  max_calls_functional: functionalSteps.length ? functionalSteps[functionalSteps.length - 1]!.calls : 0,
  note_functional: 'max_calls_functional: the largest step where every call came up, no packet was lost and no call ended early, whatever the pacing.',
  cpu_per_call_pct_at_max: best ? best.cpu_per_call_pct : null,
  stop_reason: stopReason,
  steps,
  goal: '>= 400 calls at pacing p99 <= 2 ms with no loss; <= 2 MB per call',
  goal_met: (best?.calls ?? 0) >= 400 && (best?.mem_per_call_mb ?? Infinity) <= 2,
};
writeResult(WORKERS === 'auto' && PRIORITY === 'realtime' ? 'capacity' : `capacity-${WORKERS}w-${PRIORITY}`, result);
console.log(table(['calls', 'up', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'gaps', 'eng cpu%', '%/call', 'gen cpu%', 'busy%', 'wait%', 'MB/call', 'loop p99', 'media loop p99', 'late ticks%', 'gen late%', 'pass'],
  steps.map((s) => [s.calls, s.opened, s.pacing_p50_ms, s.pacing_p99_ms, s.pacing_max_ms, s.lost_at_callers, s.seq_gaps_on_wire, s.engine_cpu_pct, s.cpu_per_call_pct,
    s.loadgen_cpu_pct, s.machine_busy_pct, s.engine_loop_runqueue_wait_pct, s.mem_per_call_mb, s.event_loop_p99_ms, s.media_worker_loop_p99_ms, s.pacer_late_pct, s.loadgen_late_ticks_pct, s.pass ? 'yes' : 'no'])));
console.log(`max_calls ${result.max_calls} (pacing p99 <= 2 ms, no loss); all calls up without loss up to ${result.max_calls_functional}; stopped: ${stopReason}`);
console.log(`the fakes and callers share the ${m0.cores} cores with the engine (see gen cpu% and busy%); other processes on the machine are included in busy%; wait% = share of wall time the engine\'s event-loop thread was runnable but had no CPU.`);
console.log(`max_calls ${result.max_calls}; goal >= 400 calls, <= 2 MB/call: ${result.goal_met ? 'met' : 'NOT met'}`);
