/**
 * End-to-end conversations: a real SIP call from the test caller to the engine (real SIP stack,
 * RTP, Silero VAD, pacer) with the fake providers. Timings are printed, never asserted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.js';
import { bargeIns, formatTimeline, responseLatencies, TestCaller } from './caller.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

type Obj = Record<string, any>;
const SECRET = 'whsec_e2e_secret';

const LONG = 'Our restaurant opens at five in the evening every day of the week. We serve Italian food with fresh pasta made in house. '
  + 'On Fridays there is live music from seven until ten. Parking is free behind the building. Reservations are recommended for groups.';

async function talk(call: Awaited<ReturnType<TestCaller['dial']>>, text: string): Promise<void> {
  await call.sayText(text);
  await call.idle({ timeoutMs: 20_000 });
  await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
  await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 30_000 });
}

describe('e2e: conversation', () => {
  let h: Harness;
  let rx: WebhookReceiver;
  let caller: TestCaller;

  before(async () => {
    rx = await startWebhookReceiver(SECRET);
    h = await startHarness({ assistant: { webhook_url: rx.url, webhook_secret: SECRET } });
    caller = await TestCaller.start();
  });
  after(async () => {
    await caller?.close();
    await h?.close();
    await rx?.close();
  });

  test('greeting, a three-turn conversation, signed webhooks, record and latency breakdown', async () => {
    h.fakes.deepgram.script.utterances = ['I would like to book a table.', 'For two people.', 'Tonight at eight, please.'];
    h.fakes.openai.script.replies = [{ text: 'Sure. For how many people?' }, { text: 'Great. At what time?' }, { text: 'Done. You are booked for two at eight.' }];
    h.fakes.openai.script.fallback = { text: 'The caller booked a table for two at eight.' };
    const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
    await call.waitForAgentSpeech({ timeoutMs: 15_000 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    await talk(call, 'I would like to book a table.');
    await talk(call, 'For two people.');
    await talk(call, 'Tonight at eight, please.');
    await call.hangup();
    const timeline = call.timeline();
    console.log(formatTimeline(timeline));
    const lat = responseLatencies(timeline);
    console.log('response latencies (caller last speech packet -> agent first speech packet):', lat.map((l) => l.latencyMs));
    assert.equal(lat.length, 3, 'the agent answered each of the three turns');

    const rec = await h.waitForCall((c) => c.status === 'ended' && c.end_reason === 'user_hangup');
    const full = (await h.api<Obj>('GET', `/calls/${encodeURIComponent(rec.id as string)}`)).body;
    assert.deepEqual(full.messages.map((m: Obj) => [m.role, m.content]), [
      ['assistant', 'Hello! How can I help you today?'],
      ['user', 'I would like to book a table.'], ['assistant', 'Sure. For how many people?'],
      ['user', 'For two people.'], ['assistant', 'Great. At what time?'],
      ['user', 'Tonight at eight, please.'], ['assistant', 'Done. You are booked for two at eight.'],
    ]);
    assert.equal(full.direction, 'inbound');
    assert.equal(full.caller_phone, '+31612345678');
    assert.ok(full.duration_seconds >= 1);
    assert.equal(full.latency.turns.length, 3);
    for (const t of full.latency.turns) {
      for (const k of ['endpointing_ms', 'llm_first_token_ms', 'tts_first_audio_ms', 'engine_overhead_ms', 'first_packet_ms']) assert.equal(typeof t[k], 'number', k);
    }
    console.log('engine latency breakdown per turn:', JSON.stringify(full.latency));

    const report = await rx.waitFor((e) => e.type === 'end-of-call-report');
    const types = rx.events.map((e) => `${e.type}${e.body.message.call.status === 'in-progress' || e.type !== 'status-update' ? '' : ':' + e.body.message.call.status}`);
    assert.deepEqual(types.filter((t) => t.startsWith('status-update') || t === 'end-of-call-report'), ['status-update', 'status-update:ended', 'end-of-call-report']);
    assert.ok(rx.events.every((e) => e.signatureOk), 'every webhook is signed with the assistant secret');
    assert.equal(report.headers['x-webhook-event'], 'end-of-call-report');
    assert.equal(report.body.message.call.id, rec.id);
    assert.equal(report.body.message.end_reason, 'user_hangup');
    assert.equal(report.body.message.messages.length, 7);
    assert.equal(report.body.message.summary, 'The caller booked a table for two at eight.');
    assert.equal(report.body.message.assistant.webhook_secret, undefined);

    const usage = (await h.api<Obj>('GET', '/usage')).body;
    assert.ok(usage.logs.some((l: Obj) => l.call_id === rec.id && l.byok_stt === false));
  });

  test('barge-in mid-sentence clears the agent at once and cuts the transcript to what was heard', async () => {
    h.fakes.deepgram.script.utterances = ['Tell me about the restaurant.', 'Wait, stop please.'];
    h.fakes.openai.script.replies = [{ text: LONG }, { text: 'Of course. What would you like to know?' }];
    const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
    await call.waitForAgentSpeech({ timeoutMs: 15_000 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    await call.sayText('Tell me about the restaurant.');
    await call.idle({ timeoutMs: 20_000 });
    const long = await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(call.agentSpeaking, true, 'the agent is mid-sentence');
    await call.sayText('Wait, stop please.');
    await call.idle({ timeoutMs: 20_000 });
    await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 30_000 });
    await call.hangup();
    const b = bargeIns(call.timeline()).filter((x) => x.callerStartMs > long.startMs);
    console.log('barge-in reaction (caller speech onset -> agent last speech packet):', b.map((x) => x.reactionMs));
    assert.ok(b.length >= 1 && b[0]?.reactionMs !== null, 'the agent stopped after the caller started speaking');

    const rec = await h.waitForCall((c) => c.status === 'ended' && (c.messages as Obj[] | null)?.some((m) => m.content === 'Wait, stop please.') === true);
    const msgs = rec.messages as Obj[];
    const cut = msgs.find((m) => m.role === 'assistant' && LONG.startsWith(m.content) && m.content !== LONG && m.content.length > 0);
    assert.ok(cut, `the interrupted reply is in the transcript, cut to what was heard: ${JSON.stringify(msgs)}`);
    assert.ok(cut.content.length < LONG.length / 2);
    const idx = msgs.indexOf(cut);
    assert.equal(msgs[idx + 1]?.content, 'Wait, stop please.');
    const req = h.fakes.openai.requests.find((r) => r.messages.some((m) => m.role === 'user' && m.content === 'Wait, stop please.'));
    assert.ok(req?.messages.some((m) => m.role === 'assistant' && m.content === cut.content), 'the LLM only remembers what the caller heard');
  });

  test('a short sound without words interrupts, then the agent resumes where it stopped', async () => {
    h.fakes.deepgram.script.utterances = ['Tell me about the restaurant.', { text: '' }];
    h.fakes.openai.script.replies = [{ text: LONG }];
    const metricsUrl = h.apiUrl.replace(/\/api\/v1$/, '/metrics');
    const resumes = async (): Promise<number> => Number(/engine_barge_in_total\{phase="resume"\} (\d+)/.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
    const before = await resumes();
    const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
    await call.waitForAgentSpeech({ timeoutMs: 15_000 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    await call.sayText('Tell me about the restaurant.');
    await call.idle({ timeoutMs: 20_000 });
    await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
    await new Promise((r) => setTimeout(r, 1200));
    // A vowel-like grunt: the VAD hears speech, the STT hears no words.
    await call.sayText('hmm hmm', { label: 'grunt' });
    await call.idle({ timeoutMs: 10_000 });
    // Longer than the false-interruption timeout (1.5 s): the agent goes quiet, then resumes.
    await call.waitForAgentSilence({ silenceMs: 2500, timeoutMs: 40_000 });
    await call.hangup();
    const rec = await h.waitForCall((c) => c.status === 'ended' && (c.messages as Obj[] | null)?.some((m) => m.content === LONG) === true, 30_000);
    assert.ok((rec.messages as Obj[]).some((m) => m.role === 'assistant' && m.content === LONG), 'the whole reply was spoken after resuming');
    const m = await (await fetch(metricsUrl)).text();
    console.log(m.split('\n').filter((l) => l.startsWith('engine_barge_in')).join('\n'));
    assert.ok(await resumes() > before, 'a false interruption was detected and playout resumed');
  });
});
