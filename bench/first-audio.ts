/**
 * Time to first audio: ACK -> the first greeting packet, on the wire.
 *
 * A real engine (SIP, media, Silero VAD) with the fake providers on loopback; the test caller
 * places N calls one after the other and hangs up once the greeting is heard. Measured three ways:
 * - wire: kernel timestamps on `lo` (dumpcap): the caller's ACK -> the first RTP packet towards
 *   that caller whose payload is not silence (the greeting's first audible packet);
 * - caller: 200 OK received (the caller sends the ACK at once) -> estimated arrival of the first
 *   agent speech packet (the caller's energy detector, jitter-buffer holding time subtracted);
 * - engine: the call record's `greeting_queued_ms` (ACK -> greeting handed to the pacer).
 * Warm: the greeting's audio is in the engine's greeting cache (all calls after the first with
 * the same first_message). Cold: first_message changed before the call (PATCH), so the engine
 * synthesises it while the call is being answered (that time shows up in setup, INVITE -> 200).
 *
 *   npx tsx bench/first-audio.ts [--calls 30] [--cold 5] [--workers auto|N]
 * Writes bench/results/first-audio.json.
 */
import { startHarness } from '../test/e2e/harness.js';
import { TestCaller } from '../test/e2e/caller.js';
import { startCapture } from './lib/capture.js';
import type { RtpPacket } from './lib/capture.js';
import { rtpRanges } from './lib/ports.js';
import { machine, p50p95, printMachine, round1, summarize, table, writeResult } from './lib/stats.js';

const arg = (name: string, def: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const WARM = Number(arg('calls', '30'));
const COLD = Number(arg('cold', '5'));
/** Peak |sample| above which a packet counts as audible (about -50 dBFS). */
const AUDIBLE = 100;

const providers = {
  deepgram: { latencyMs: 40, interimEveryMs: 200 },
  openai: { ttftMs: 120, tokensPerSec: 120 },
  elevenlabs: { firstChunkMs: 80, realtimeFactor: 4 },
};
const m0 = machine();
printMachine('first-audio', m0);
const ranges = rtpRanges(400);
const h = await startHarness({
  ...providers,
  env: { RTP_PORT_MIN: String(ranges.engine.min), RTP_PORT_MAX: String(ranges.engine.max), MEDIA_WORKERS: arg('workers', 'auto') },
});
const caller = await TestCaller.start({ portMin: ranges.callers.min, portMax: ranges.callers.max });
const capture = await startCapture(`udp port ${h.sipPort} or (udp src portrange ${ranges.engine.min}-${ranges.engine.max} and udp dst portrange ${ranges.callers.min}-${ranges.callers.max})`);

interface Run { i: number; kind: 'warm' | 'cold'; from: string; sipCallId: string; rtpPort: number; setupMs: number; callerMs: number | null; queuedMs: number | null; wireMs?: number | null; firstRtpMs?: number | null }
const runs: Run[] = [];
const plan: ('warm' | 'cold')[] = ['cold']; // the very first call is cold too (empty cache)
for (let i = 0; i < WARM; i++) plan.push('warm');
for (let i = 0; i < COLD; i++) plan.splice(2 + Math.floor(((i + 1) * WARM) / (COLD + 1)), 0, 'cold');
let greetingNo = 0;
for (let i = 0; i < plan.length; i++) {
  const kind = plan[i]!;
  if (kind === 'cold' && i > 0) {
    const r = await h.api('PATCH', `/assistants/${h.assistantId}`, { first_message: `Hello! You are caller ${++greetingNo}. How can I help you today?` });
    if (r.status !== 200) throw new Error(`PATCH assistant -> ${r.status}`);
  }
  const from = `+3161${String(1000000 + i).slice(1)}`;
  const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number, from });
  const speech = await call.waitForAgentSpeech({ timeoutMs: 5000 }).catch(() => null);
  await new Promise((r) => setTimeout(r, 150));
  await call.hangup();
  runs.push({ i, kind, from, sipCallId: call.dialog.callId, rtpPort: call.session.rtpPort, setupMs: call.setupMs, callerMs: speech ? speech.startMs : null, queuedMs: null });
  if (kind === 'cold' && i + 1 < plan.length && plan[i + 1] === 'warm') {
    // the next call uses the same greeting: now cached (warm)
  }
  await new Promise((r) => setTimeout(r, 100));
}
await capture.stop();
await new Promise((r) => setTimeout(r, 500));
// Engine's own figure from the call records.
const list = await h.api<{ calls: Record<string, unknown>[] }>('GET', '/calls?limit=100');
for (const run of runs) {
  const c = list.body.calls.find((x) => x.caller_phone === run.from);
  const lat = c?.latency as { greeting_queued_ms?: number } | undefined;
  run.queuedMs = typeof lat?.greeting_queued_ms === 'number' ? lat.greeting_queued_ms : null;
}
// Wire: ACK (caller -> engine) and the RTP streams towards each caller port.
const sip = capture.sip(h.sipPort).filter((p) => p.method === 'ACK').sort((a, b) => a.t - b.t);
const rtp = capture.rtp({ payload: true });
capture.dispose();
const byPort = new Map<number, RtpPacket[]>();
for (const p of rtp) { let a = byPort.get(p.dst); if (!a) { a = []; byPort.set(p.dst, a); } a.push(p); }
const ackOf = new Map<string, number>();
for (const p of sip) if (!ackOf.has(p.callId)) ackOf.set(p.callId, p.t);
for (const run of runs) {
  const pk = (byPort.get(run.rtpPort) ?? []).sort((a, b) => a.t - b.t);
  const ack = ackOf.get(run.sipCallId);
  const first = pk[0];
  if (ack === undefined || !first) { run.wireMs = null; continue; }
  const audible = pk.find((p) => (p.peak ?? 0) > AUDIBLE && p.t >= ack);
  run.wireMs = audible ? round1(audible.t - ack) : null;
  run.firstRtpMs = round1(first.t - ack);
}
await caller.close();
await new Promise((r) => setTimeout(r, 1000)); // let post-call work finish before the store closes
await h.close();

const pick = (kind: 'warm' | 'cold', f: (r: Run) => number | null | undefined): number[] =>
  runs.filter((r) => r.kind === kind).map(f).filter((x): x is number => typeof x === 'number');
const warmWire = pick('warm', (r) => r.wireMs);
const result = {
  name: 'first-audio',
  machine: m0,
  method: 'ACK (caller) -> first audible RTP packet of the greeting towards the caller, kernel timestamps on lo (dumpcap/tshark); warm greeting cache. Also: the caller\'s own view (200 OK -> first agent speech packet, energy detector) and the engine\'s greeting_queued_ms.',
  providers,
  calls: { warm: pick('warm', (r) => r.wireMs).length, cold: pick('cold', (r) => r.wireMs).length },
  ms: p50p95(warmWire),
  warm: {
    wire_ms: summarize(warmWire), caller_ms: summarize(pick('warm', (r) => r.callerMs)),
    greeting_queued_ms: summarize(pick('warm', (r) => r.queuedMs)), setup_ms: summarize(pick('warm', (r) => r.setupMs)),
  },
  cold: {
    wire_ms: summarize(pick('cold', (r) => r.wireMs)), caller_ms: summarize(pick('cold', (r) => r.callerMs)),
    greeting_queued_ms: summarize(pick('cold', (r) => r.queuedMs)), setup_ms: summarize(pick('cold', (r) => r.setupMs)),
  },
  first_rtp_after_ack_ms: summarize(runs.map((r) => r.firstRtpMs).filter((x): x is number => typeof x === 'number')),
  runs,
  goal: 'ms.p95 <= 60 (ACK -> first greeting packet)',
  goal_met: warmWire.length > 0 && p50p95(warmWire).p95 <= 60,
};
writeResult('first-audio', result);
console.log(table(['cache', 'calls', 'wire p50', 'wire p95', 'caller p50', 'caller p95', 'queued p50', 'queued p95', 'setup p50', 'setup p95'],
  (['warm', 'cold'] as const).map((k) => [k, result[k].wire_ms.n, result[k].wire_ms.p50, result[k].wire_ms.p95, result[k].caller_ms.p50, result[k].caller_ms.p95,
    result[k].greeting_queued_ms.p50, result[k].greeting_queued_ms.p95, result[k].setup_ms.p50, result[k].setup_ms.p95])));
console.log(`goal: ACK -> first greeting packet p95 <= 60 ms: ${result.goal_met ? 'met' : 'NOT met'} (warm p95 ${result.ms.p95} ms)`);
