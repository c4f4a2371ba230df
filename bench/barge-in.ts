/**
 * Barge-in reaction: the caller starts talking while the agent is mid-sentence; how long until
 * the agent's last audio packet. Goal: <= interruption_min_duration + 40 ms.
 *
 * Real engine (SIP, media, Silero VAD) + fake providers with stated latencies, in a child process
 * (bench/lib/engine-child.ts), called by the test caller in this one; the LLM's reply is
 * long (several sentences) so the agent is always mid-sentence. Each call: greeting, a question,
 * then repeatedly: wait 0.6-1.6 s into the agent's reply and talk over it (a 2 s sentence).
 * Measured on the wire (dumpcap kernel timestamps, G.711 payloads decoded): caller's first
 * audible packet -> the agent's last audible packet before >= 1 s of agent silence. Also the test
 * caller's own view (`bargeIns(timeline)` with the same end rule).
 *
 *   npx tsx bench/barge-in.ts [--calls 2] [--per-call 8] [--min-duration 0.3]
 * Writes bench/results/barge-in.json.
 */
import { startEngineProcess } from './lib/engine-process.js';
import { TestCaller, agentSegments, renderText } from '../test/e2e/caller.js';
import type { TimelineEvent } from '../test/e2e/caller.js';
import { startCapture } from './lib/capture.js';
import type { RtpPacket } from './lib/capture.js';
import { rtpRanges } from './lib/ports.js';
import { machine, p50p95, printMachine, round1, summarize, table, writeResult } from './lib/stats.js';
import { spurts } from './lib/wire.js';

const arg = (name: string, def: string): string => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const CALLS = Number(arg('calls', '2'));
const PER_CALL = Number(arg('per-call', '8'));
const MIN_DURATION_S = Number(arg('min-duration', '0.3'));
const AUDIBLE = 100; // peak |sample| (about -50 dBFS)
const AGENT_QUIET_MS = 1000; // the agent has stopped when it stays silent this long

const LONG_REPLY = 'Of course, let me walk you through everything we offer this week. We open at nine in the morning and close at ten at night, every day including Sunday. ' +
  'The terrace is open when the weather allows, and we keep a few tables free for guests without a booking. ' +
  'For groups larger than eight we ask you to call a day ahead, so the kitchen can prepare. ' +
  'Our tasting menu changes every month, and this month it features fish from the local market and vegetables from our own garden.';
const QUESTION = 'Can you tell me about your opening hours?';
const INTERRUPT = 'Sorry, wait a moment, I have a different question for you.';
const providers = {
  deepgram: { latencyMs: 40, interimEveryMs: 200, fallbackText: 'Sorry, wait a moment, I have a different question for you?' },
  openai: { ttftMs: 120, tokensPerSec: 120, fallback: { text: LONG_REPLY } },
  elevenlabs: { firstChunkMs: 80, realtimeFactor: 4 },
};
const turnTaking = { interruption_min_duration: MIN_DURATION_S, interruption_min_words: 0, false_interruption_timeout: 1.5 };

const m0 = machine();
printMachine('barge-in', m0);
const ranges = rtpRanges(400);
// The engine (and the fakes) run in a process of their own: the test caller here paces its RTP
// like a phone, undisturbed by the engine's control plane.
const h = await startEngineProcess({
  ...providers,
  env: { RTP_PORT_MIN: String(ranges.engine.min), RTP_PORT_MAX: String(ranges.engine.max) },
  assistant: { speech_config: { turn_taking: turnTaking } },
});
const caller = await TestCaller.start({ portMin: ranges.callers.min, portMax: ranges.callers.max });
const question = await renderText(QUESTION);
const interrupt = await renderText(INTERRUPT);
const capture = await startCapture(`udp portrange ${ranges.engine.min}-${ranges.engine.max} and udp portrange ${ranges.callers.min}-${ranges.callers.max}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface CallRun { rtpPort: number; enginePort: number; timeline: TimelineEvent[]; origin: number }
const callRuns: CallRun[] = [];
// The calls run side by side (2 by default: light load, half the wall time).
await Promise.all(Array.from({ length: CALLS }, async (_, c) => {
  await sleep(c * 1500);
  const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number, from: `+316200000${c}` });
  await call.waitForAgentSpeech({ timeoutMs: 5000 });
  await call.waitForAgentSilence({ silenceMs: 700 });
  void call.say(question.samples, question.sampleRate, { label: 'question' });
  await call.idle();
  for (let k = 0; k < PER_CALL; k++) {
    const reply = await call.waitForAgentSpeech({ timeoutMs: 10_000 });
    const into = 600 + Math.random() * 1000;
    await sleep(Math.max(0, reply.startMs + into - call.now()));
    void call.say(interrupt.samples, interrupt.sampleRate, { label: `interrupt-${k}` });
    await call.idle();
  }
  await call.waitForAgentSpeech({ timeoutMs: 10_000 }).catch(() => null);
  await call.hangup();
  callRuns[c] = { rtpPort: call.session.rtpPort, enginePort: call.dialog.media?.remotePort ?? 0, timeline: call.timeline(), origin: call.clockOrigin };
}));
await capture.stop();
const packets = capture.rtp({ payload: true });
capture.dispose();
await caller.close();
await sleep(1000);
const metricsText = await (await fetch(h.apiUrl.replace(/\/api\/v1\/?$/, '') + '/metrics')).text().catch(() => '');
await h.close();

// Wire: per call, caller->engine spurts (onsets) and engine->caller spurts (agent audio).
interface Sample { call: number; onsetWire: number | null; reactionWire: number | null; reactionCaller: number | null }
const samples: Sample[] = [];
for (let ci = 0; ci < callRuns.length; ci++) {
  const run = callRuns[ci]!;
  const up = packets.filter((p: RtpPacket) => p.src === run.rtpPort);
  const down = packets.filter((p: RtpPacket) => p.dst === run.rtpPort);
  const callerSpurts = spurts(up, { audible: AUDIBLE, bridgeMs: 300 });
  const agentSpurts = spurts(down, { audible: AUDIBLE, bridgeMs: AGENT_QUIET_MS });
  // Caller timeline (call clock): our onsets of the interrupt clips.
  const onsets = run.timeline.filter((e): e is Extract<TimelineEvent, { type: 'caller-speech-start' }> => e.type === 'caller-speech-start' && e.clip.startsWith('interrupt-'));
  const segs = agentSegments(run.timeline);
  for (const on of onsets) {
    // Caller's view: last agent speech packet before >= AGENT_QUIET_MS of silence.
    let endMs: number | null = null;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      if (s.endMs === null || s.endMs < on.ms) continue;
      if (s.startMs > on.ms && endMs === null) break; // the agent was not speaking at the onset
      const next = segs[i + 1];
      if (!next || next.startMs - s.endMs >= AGENT_QUIET_MS) { endMs = s.endMs; break; }
    }
    // Wire: the caller spurt that starts nearest this onset (performance.now -> epoch via offset below).
    const approxEpoch = performance.timeOrigin + run.origin + on.ms;
    const cs = callerSpurts.reduce<{ start: number } | null>((best, s) => (best === null || Math.abs(s.start - approxEpoch) < Math.abs(best.start - approxEpoch) ? s : best), null);
    let reactionWire: number | null = null;
    if (cs && Math.abs(cs.start - approxEpoch) < 100) {
      const a = agentSpurts.find((s) => s.start <= cs.start && s.end >= cs.start);
      reactionWire = a ? round1(a.end - cs.start) : null;
    }
    samples.push({ call: ci, onsetWire: cs ? round1(cs.start - approxEpoch) : null, reactionWire, reactionCaller: endMs === null ? null : round1(endMs - on.ms) });
  }
}
const wire = samples.map((s) => s.reactionWire).filter((x): x is number => x !== null);
const callerView = samples.map((s) => s.reactionCaller).filter((x): x is number => x !== null);
const minMs = Math.round(MIN_DURATION_S * 1000);
const bargeMetric = metricsText.split('\n').filter((l) => l.startsWith('engine_barge_in_total'));
const result = {
  name: 'barge-in',
  machine: m0,
  media: { workers: h.mediaWorkers, priority: h.mediaPriorities },
  method: `engine + fakes in a child process, test caller in this one. Caller's first audible packet of a sentence spoken over the agent -> the agent's last audible packet before >= ${AGENT_QUIET_MS} ms of agent silence; kernel timestamps on lo (dumpcap), G.711 payloads decoded (audible = peak > ${AUDIBLE}). caller_view: the test caller's timeline (send time of its first speech packet -> estimated arrival of the agent's last speech packet).`,
  providers: { ...providers, openai: { ...providers.openai, fallback: { text: `${LONG_REPLY.length} characters, 4 sentences` } } },
  turn_taking: turnTaking,
  interruption_min_duration_ms: minMs,
  barge_ins: { attempted: samples.length, measured_wire: wire.length, measured_caller: callerView.length },
  reaction_ms: p50p95(wire),
  reaction_wire_ms: summarize(wire),
  reaction_caller_view_ms: summarize(callerView),
  engine_barge_in_metric: bargeMetric,
  samples,
  goal: `reaction_ms.p95 <= interruption_min_duration_ms + 40 = ${minMs + 40}`,
  goal_met: wire.length > 0 && p50p95(wire).p95 <= minMs + 40,
};
writeResult('barge-in', result);
console.log(table(['view', 'n', 'p50 ms', 'p95 ms', 'max ms', 'goal ms'], [
  ['wire', wire.length, result.reaction_wire_ms.p50, result.reaction_wire_ms.p95, result.reaction_wire_ms.max, minMs + 40],
  ['caller', callerView.length, result.reaction_caller_view_ms.p50, result.reaction_caller_view_ms.p95, result.reaction_caller_view_ms.max, minMs + 40],
]));
console.log(`interruption_min_duration ${minMs} ms; goal reaction p95 <= ${minMs + 40} ms: ${result.goal_met ? 'met' : 'NOT met'}`);
