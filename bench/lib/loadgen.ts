/**
 * The load generator: a CHILD PROCESS (own event loop, own core when the OS gives it one) that
 * runs the fake providers and the test callers, so the engine's process holds only the engine.
 * Driven over IPC by `LoadGen` (loadgen-client.ts). Messages (each with an `id`, answered with
 * the same `id`):
 *   {type:'fakes', providers}                 -> {env}  (provider URLs/keys for the engine)
 *   {type:'callers', portMin, portMax}        -> {}
 *   {type:'turns', target, calls, turns}      -> {calls: TurnsCall[]}
 *   {type:'steady-open', target, calls, dialConcurrency} -> {opened, failed, setupMs[], errors[]}
 *   {type:'steady-stats'}                      -> {calls: SteadyStats[], clock: the callers' media clock stats}
 *   {type:'steady-close'}                      -> {}
 *   {type:'exit'}
 * Not a public module: run only through LoadGen.
 */
import { startFakeDeepgram } from '../../test/fakes/deepgram.js';
import type { FakeDeepgramScript } from '../../test/fakes/deepgram.js';
import { startFakeOpenAi } from '../../test/fakes/openai.js';
import type { FakeOpenAiScript } from '../../test/fakes/openai.js';
import { startFakeElevenLabs } from '../../test/fakes/elevenlabs.js';
import type { FakeElevenLabsScript } from '../../test/fakes/elevenlabs.js';
import { TestCaller, renderText, responseLatencies } from '../../test/e2e/caller.js';
import { resample } from '../../engine/providers/audio.js';
import type { ResponseLatency, TestCall, Pcm } from '../../test/e2e/caller.js';

export interface Target { host: string; port: number; to: string }
export interface ProviderScripts {
  deepgram: Partial<FakeDeepgramScript>;
  openai: Partial<FakeOpenAiScript>;
  elevenlabs: Partial<FakeElevenLabsScript>;
}
export interface TurnsCall { from: string; sipCallId: string | null; setupMs: number | null; latencies: ResponseLatency[]; error: string | null }
export interface SteadyStats { from: string; rtpPort: number; packetsIn: number; packetsLost: number; jitterMs: number; agentSegments: number; error: string | null }

type Msg = { id: number; type: string; [k: string]: unknown };

const closers: (() => Promise<void>)[] = [];
let caller: TestCaller | null = null;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const UTTERANCE = 'What time do you open tomorrow?';
let utterance: Pcm | null = null;

const steady: { call: TestCall | null; from: string; stop: boolean; error: string | null }[] = [];

function send(m: Record<string, unknown>): void {
  process.send?.(m);
}

async function dialOne(target: Target, from: string): Promise<TestCall> {
  if (!caller) throw new Error('loadgen: callers not started');
  return caller.dial({ host: target.host, port: target.port, to: target.to, from, ringTimeoutMs: 15_000 });
}

async function turnsCall(target: Target, from: string, turns: number): Promise<TurnsCall> {
  let call: TestCall | null = null;
  try {
    call = await dialOne(target, from);
    await call.waitForAgentSpeech({ timeoutMs: 10_000 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    for (let k = 0; k < turns; k++) {
      void call.say(utterance!.samples, utterance!.sampleRate, { label: `turn-${k}` });
      await call.idle();
      const s = await call.waitForAgentSpeech({ timeoutMs: 15_000 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      void s;
    }
    // Give the engine time to write the last turn's latency (it is recorded when the reply's TTS ends).
    await sleep(300);
    const out: TurnsCall = { from, sipCallId: call.dialog.callId, setupMs: call.setupMs, latencies: responseLatencies(call.timeline()), error: null };
    await call.hangup();
    return out;
  } catch (e) {
    const out: TurnsCall = { from, sipCallId: call ? call.dialog.callId : null, setupMs: call?.setupMs ?? null, latencies: call ? responseLatencies(call.timeline()) : [], error: e instanceof Error ? e.message : String(e) };
    await call?.hangup().catch(() => undefined);
    return out;
  }
}

/** One steady call: after a random 0-3 s, the caller talks for ~2 s every `cycleMs`, forever. */
async function steadyLoop(slot: (typeof steady)[number], cycleMs: number): Promise<void> {
  const call = slot.call!;
  await sleep(2500 + Math.random() * 3000);
  const u = utterance!;
  const uMs = Math.round((u.samples.length / u.sampleRate) * 1000);
  while (!slot.stop && !call.ended) {
    try {
      await call.say(u.samples, u.sampleRate, { label: 'steady' });
      if (slot.stop || call.ended) break;
      await call.silence(Math.max(500, cycleMs - uMs));
    } catch (e) {
      if (!slot.stop) slot.error = e instanceof Error ? e.message : String(e);
      break;
    }
  }
}

async function handle(m: Msg): Promise<Record<string, unknown>> {
  switch (m.type) {
    case 'fakes': {
      const p = m.providers as ProviderScripts;
      const dg = await startFakeDeepgram({ script: p.deepgram });
      const oa = await startFakeOpenAi({ script: p.openai });
      const el = await startFakeElevenLabs({ script: p.elevenlabs });
      closers.push(() => dg.close(), () => oa.close(), () => el.close());
      return {
        env: {
          DEEPGRAM_BASE_URL: dg.url, DEEPGRAM_API_KEY: dg.apiKey, OPENAI_BASE_URL: oa.baseUrl, OPENAI_API_KEY: oa.apiKey,
          ELEVENLABS_BASE_URL: el.url, ELEVENLABS_API_KEY: el.apiKey,
        },
      };
    }
    case 'callers': {
      caller = await TestCaller.start({ portMin: Number(m.portMin), portMax: Number(m.portMax) });
      // Once, at the calls' rate (PCMU, 8 kHz): resampling per say() was a third of this process's CPU.
      const u = await renderText(UTTERANCE);
      utterance = u.sampleRate === 8000 ? u : { ...u, samples: resample(u.samples, u.sampleRate, 8000), sampleRate: 8000 };
      closers.unshift(() => caller!.close());
      return { utteranceMs: Math.round((utterance.samples.length / utterance.sampleRate) * 1000) };
    }
    case 'turns': {
      const target = m.target as Target;
      const n = Number(m.calls), turns = Number(m.turns), base = Number(m.fromBase ?? 0);
      const stagger = Number(m.staggerMs ?? 20);
      const calls = await Promise.all(Array.from({ length: n }, async (_, i) => {
        await sleep(i * stagger);
        return turnsCall(target, `+3163${String(10_000_000 + base + i).slice(1)}`, turns);
      }));
      return { calls };
    }
    case 'steady-open': {
      const target = m.target as Target;
      const n = Number(m.calls), conc = Number(m.dialConcurrency ?? 20), base = Number(m.fromBase ?? 0), cycleMs = Number(m.cycleMs ?? 6000);
      const setupMs: number[] = [];
      const errors: string[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          const i = next++;
          const from = `+3164${String(10_000_000 + base + i).slice(1)}`;
          try {
            const call = await dialOne(target, from);
            setupMs.push(call.setupMs);
            const slot = { call, from, stop: false, error: null as string | null };
            steady.push(slot);
            void steadyLoop(slot, cycleMs);
          } catch (e) {
            errors.push(e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
      return { opened: setupMs.length, failed: errors.length, setupMs, errors: errors.slice(0, 10) };
    }
    case 'steady-stats': {
      const calls: SteadyStats[] = steady.map((s) => {
        const st = s.call!.stats();
        return {
          from: s.from, rtpPort: s.call!.session.rtpPort, packetsIn: st.packetsIn, packetsLost: st.packetsLost, jitterMs: st.jitterMs,
          agentSegments: s.call!.agentSpeech.length, error: s.error ?? (s.call!.ended ? `ended by ${s.call!.ended.by} (${s.call!.ended.reason})` : null),
        };
      });
      return { calls, clock: caller?.clockStats ?? null };
    }
    case 'steady-close': {
      for (const s of steady) s.stop = true;
      await Promise.allSettled(steady.map((s) => s.call!.hangup()));
      steady.length = 0;
      return {};
    }
    case 'exit': {
      for (const c of closers) await c().catch(() => undefined);
      setImmediate(() => process.exit(0));
      return {};
    }
    default:
      throw new Error(`loadgen: unknown message ${m.type}`);
  }
}

process.on('message', (raw) => {
  const m = raw as Msg;
  handle(m).then(
    (r) => send({ id: m.id, ok: true, ...r }),
    (e: unknown) => send({ id: m.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
