/**
 * Turn latency: the caller's last speech packet -> the agent's first speech packet, split into
 * endpointing, STT final, LLM first token, TTS first audio and ENGINE OVERHEAD (what remains after
 * the providers' and the endpointing's share), at 1 and at increasing numbers of concurrent calls.
 *
 * The engine (SIP, media, Silero VAD, API) runs in this process; the fake providers (stated,
 * fixed latencies) and the test callers run in a child process (bench/lib/loadgen.ts). Each call:
 * greeting, then K turns of "What time do you open tomorrow?" -> short reply. The split comes
 * from the engine's call records (`latency.turns[]`); the total from the callers' timelines
 * (`responseLatencies`: send time of the caller's last speech packet -> estimated arrival of the
 * agent's first speech packet).
 *
 *   npx tsx bench/turn-latency.ts [--levels 1,10,50,100] [--turns 3] [--turns-single 6]
 * Writes bench/results/turn-latency.json.
 */
import { startHarness } from '../test/e2e/harness.js';
import { LoadGen } from './lib/loadgen-client.js';
import type { TurnsCall } from './lib/loadgen.js';
import { cpuPercent, mainThreadSched, sampleProcess, systemBusyPercent, systemCpu } from './lib/proc.js';
import { rtpRanges } from './lib/ports.js';
import { machine, p50p95, printMachine, summarize, table, writeResult } from './lib/stats.js';
import type { Summary } from './lib/stats.js';

const arg = (name: string, def: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const LEVELS = arg('levels', '1,10,50,100').split(',').map(Number);
const TURNS = Number(arg('turns', '3'));
const TURNS_SINGLE = Number(arg('turns-single', '6'));
const BUDGET_MS = Number(arg('budget-s', '170')) * 1000;
const t0 = Date.now();

const providers = {
  deepgram: { latencyMs: 40, interimEveryMs: 200, fallbackText: 'What time do you open tomorrow?' },
  openai: { ttftMs: 120, tokensPerSec: 120, fallback: { text: 'We open at nine in the morning.' } },
  elevenlabs: { firstChunkMs: 80, realtimeFactor: 4, voiceSource: 'fixtures' as const },
};
const turnTaking = { endpointing_min_delay: 0.4, endpointing_max_delay: 2 };
const m0 = machine();
printMachine('turn-latency', m0);
const maxCalls = Math.max(...LEVELS);
const ranges = rtpRanges(Math.max(400, maxCalls * 4 + 100));
const lg = await LoadGen.start();
const { env } = await lg.request<{ env: Record<string, string> }>('fakes', { providers });
await lg.request('callers', { portMin: ranges.callers.min, portMax: ranges.callers.max });
const h = await startHarness({
  env: { ...env, RTP_PORT_MIN: String(ranges.engine.min), RTP_PORT_MAX: String(ranges.engine.max) },
  assistant: { speech_config: { turn_taking: turnTaking } },
});
const target = { host: h.sipHost, port: h.sipPort, to: h.number };

type Part = 'endpointing_ms' | 'stt_final_ms' | 'llm_first_token_ms' | 'llm_first_sentence_ms' | 'tts_first_audio_ms' | 'engine_overhead_ms' | 'first_packet_ms';
const PARTS: Part[] = ['endpointing_ms', 'stt_final_ms', 'llm_first_token_ms', 'llm_first_sentence_ms', 'tts_first_audio_ms', 'engine_overhead_ms', 'first_packet_ms'];
interface Level {
  concurrent_calls: number; turns_per_call: number; calls_ok: number; calls_failed: number; errors: string[];
  turns_wire: number; turns_engine: number;
  total_ms: Summary; parts: Record<Part, Summary>; setup_ms: Summary;
  engine_loop_runqueue_wait_pct: number; engine_cpu_pct: number; loadgen_cpu_pct: number; machine_busy_pct: number; seconds: number;
}
const levels: Level[] = [];
let fromBase = 0;
for (const n of LEVELS) {
  if (Date.now() - t0 > BUDGET_MS - 30_000 && levels.length) { console.log(`time budget: skipping ${n} calls and above`); break; }
  const turns = n === 1 ? TURNS_SINGLE : TURNS;
  const e0 = sampleProcess(), l0 = sampleProcess(lg.pid), s0 = systemCpu(), q0 = mainThreadSched(), w0 = Date.now();
  const r = await lg.request<{ calls: TurnsCall[] }>('turns', { target, calls: n, turns, fromBase, staggerMs: Math.min(50, 3000 / n) });
  const e1 = sampleProcess(), l1 = sampleProcess(lg.pid), s1 = systemCpu(), q1 = mainThreadSched();
  fromBase += n;
  await new Promise((res) => setTimeout(res, 500));
  const list = await h.api<{ calls: Record<string, unknown>[] }>('GET', '/calls?limit=1000');
  const byPhone = new Map(list.body.calls.map((c) => [String(c.caller_phone), c]));
  const parts = Object.fromEntries(PARTS.map((p) => [p, [] as number[]])) as Record<Part, number[]>;
  let turnsEngine = 0;
  for (const c of r.calls) {
    const rec = byPhone.get(c.from);
    const lat = rec?.latency as { turns?: Record<string, number | null>[] } | undefined;
    for (const t of lat?.turns ?? []) {
      turnsEngine++;
      for (const p of PARTS) if (typeof t[p] === 'number') parts[p].push(t[p] as number);
    }
  }
  const totals = r.calls.flatMap((c) => c.latencies.map((l) => l.latencyMs));
  const failed = r.calls.filter((c) => c.error);
  levels.push({
    concurrent_calls: n, turns_per_call: turns, calls_ok: r.calls.length - failed.length, calls_failed: failed.length,
    errors: [...new Set(failed.map((c) => c.error!))].slice(0, 5),
    turns_wire: totals.length, turns_engine: turnsEngine,
    total_ms: summarize(totals), parts: Object.fromEntries(PARTS.map((p) => [p, summarize(parts[p])])) as Record<Part, Summary>,
    setup_ms: summarize(r.calls.map((c) => c.setupMs).filter((x): x is number => x !== null)),
    engine_loop_runqueue_wait_pct: Math.round((1000 * (q1.waitMs - q0.waitMs)) / (e1.at - e0.at)) / 10,
    engine_cpu_pct: Math.round(cpuPercent(e0, e1)), loadgen_cpu_pct: Math.round(cpuPercent(l0, l1)), machine_busy_pct: Math.round(systemBusyPercent(s0, s1)),
    seconds: Math.round((Date.now() - w0) / 1000),
  });
  const L = levels[levels.length - 1]!;
  console.log(`${n} calls: ${L.calls_ok} ok, ${L.calls_failed} failed; total p50 ${L.total_ms.p50} p95 ${L.total_ms.p95}; overhead p50 ${L.parts.engine_overhead_ms.p50} p95 ${L.parts.engine_overhead_ms.p95}; engine cpu ${L.engine_cpu_pct}%, loadgen ${L.loadgen_cpu_pct}% (${L.seconds} s)`);
  await new Promise((res) => setTimeout(res, 1000));
}
const metricsText = await (await fetch(h.apiUrl.replace(/\/api\/v1\/?$/, '') + '/metrics')).text().catch(() => '');
await lg.close();
await new Promise((r) => setTimeout(r, 1000));
await h.close();

// The headline: the largest level where every call completed and every turn was measured.
const sustained = [...levels].reverse().find((l) => l.calls_failed === 0 && l.turns_engine >= l.concurrent_calls * l.turns_per_call * 0.95) ?? levels[0]!;
const headline = sustained;
const result = {
  name: 'turn-latency',
  machine: m0,
  method: 'engine in this process; fakes + test callers in a child process. total: caller\'s last speech packet (send time) -> agent\'s first speech packet (estimated arrival), from the callers\' timelines. parts: the engine\'s call records latency.turns (endpointing = silence waited after the VAD\'s speech end; stt_final = VAD speech end -> final transcript; llm_first_token = turn end -> first token; tts_first_audio = first text to TTS -> first audio; engine_overhead = first packet played - turn end - LLM and TTS shares; first_packet = VAD speech end -> first packet played).',
  providers, turn_taking: turnTaking,
  concurrent_calls: headline.concurrent_calls,
  engine_overhead_ms: { p50: headline.parts.engine_overhead_ms.p50, p95: headline.parts.engine_overhead_ms.p95 },
  total_ms: { p50: headline.total_ms.p50, p95: headline.total_ms.p95 },
  note_overhead: 'engine_overhead_ms = first packet played - turn end - the LLM\'s time to its first complete sentence (llm_first_sentence_ms, the text the engine hands the TTS) - the TTS\'s time to first audio; it includes the wait for the next 20 ms media tick.',
  levels,
  engine_turn_histograms: metricsText.split('\n').filter((l) => l.startsWith('engine_turn_') && (l.includes('_sum') || l.includes('_count'))),
  goal: 'engine_overhead_ms.p95 <= 15 at 100 concurrent calls',
  goal_met: (levels.find((l) => l.concurrent_calls === 100)?.parts.engine_overhead_ms.p95 ?? Infinity) <= 15 && (levels.find((l) => l.concurrent_calls === 100)?.calls_failed ?? 1) === 0,
};
writeResult('turn-latency', result);
console.log(table(['calls', 'ok', 'turns', 'total p50', 'total p95', 'endp p50', 'stt p50', 'llm p50', 'tts p50', 'llm sent p50', 'ovh p50', 'ovh p95', 'eng cpu%', 'gen cpu%', 'busy%', 'wait%'],
  levels.map((l) => [l.concurrent_calls, l.calls_ok, l.turns_engine, l.total_ms.p50, l.total_ms.p95, l.parts.endpointing_ms.p50, l.parts.stt_final_ms.p50,
    l.parts.llm_first_token_ms.p50, l.parts.tts_first_audio_ms.p50, l.parts.llm_first_sentence_ms.p50, l.parts.engine_overhead_ms.p50, l.parts.engine_overhead_ms.p95, l.engine_cpu_pct, l.loadgen_cpu_pct, l.machine_busy_pct, l.engine_loop_runqueue_wait_pct])));
console.log(`busy% = whole machine (other processes included); wait% = share of wall time the engine's event-loop thread was runnable but had no CPU`);
console.log(`goal: engine overhead p95 <= 15 ms at 100 calls: ${result.goal_met ? 'met' : 'NOT met'}`);
void p50p95;
