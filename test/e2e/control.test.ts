/**
 * End-to-end: function tools through the signed tool-calls webhook, call control (say, end-call,
 * transfer by REFER to a real sipp peer), silence timeout and max duration.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.js';
import { TestCaller } from './caller.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
import { sipp } from '../integration/sip/helpers.js';

type Obj = Record<string, any>;
const SECRET = 'whsec_tools';

describe('e2e: tools and call control', () => {
  let h: Harness;
  let rx: WebhookReceiver;
  let caller: TestCaller;

  before(async () => {
    rx = await startWebhookReceiver(SECRET);
    h = await startHarness({
      assistant: {
        webhook_url: rx.url, webhook_secret: SECRET,
        llm_config: {
          provider: 'openai', model: 'gpt-4o-mini',
          tools: [{ name: 'check_availability', description: 'Free tables for a date', parameters: { type: 'object', properties: { date: { type: 'string' } } } }],
        },
      },
    });
    caller = await TestCaller.start();
  });
  after(async () => {
    await caller?.close();
    await h?.close();
    await rx?.close();
  });

  const liveCallId = async (): Promise<string> => String((await h.waitForCall((c) => c.status === 'in-progress')).id);

  test('a function tool goes to the signed tool-calls webhook and its result reaches the LLM', async () => {
    rx.toolResults.set('check_availability', { tables: 2, time: '20:00' });
    h.fakes.deepgram.script.utterances = ['Do you have a table tonight?'];
    h.fakes.openai.script.replies = [
      { toolCalls: [{ name: 'check_availability', arguments: { date: 'tonight' } }] },
      { text: 'Yes, we have two tables at eight.' },
    ];
    const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
    await call.waitForAgentSpeech({ timeoutMs: 15_000 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    await call.sayText('Do you have a table tonight?');
    await call.idle({ timeoutMs: 20_000 });
    await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    await call.hangup();
    const ev = await rx.waitFor((e) => e.type === 'tool-calls');
    assert.ok(ev.signatureOk);
    const tc = ev.body.message.tool_call_list[0];
    assert.equal(tc.type, 'function');
    assert.equal(tc.function.name, 'check_availability');
    assert.deepEqual(tc.function.arguments, { date: 'tonight' }, 'arguments arrive as an object');
    assert.equal(ev.body.message.call.status, 'in-progress');
    const second = h.fakes.openai.requests.find((r) => r.messages.some((m) => m.role === 'tool'));
    const toolMsg = second?.messages.find((m) => m.role === 'tool');
    assert.equal(toolMsg?.content, JSON.stringify({ tables: 2, time: '20:00' }));
    assert.equal(toolMsg?.tool_call_id, tc.id);
    const rec = await h.waitForCall((c) => c.status === 'ended' && (c.messages as Obj[] | null)?.some((m) => m.content === 'Yes, we have two tables at eight.') === true);
    assert.equal(rec.end_reason, 'user_hangup');
  });

  test('control: say speaks verbatim, end-call says goodbye and hangs up', async () => {
    h.fakes.deepgram.script.utterances = [];
    const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
    await call.waitForAgentSpeech({ timeoutMs: 15_000 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    const id = await liveCallId();
    const say = await h.api<Obj>('POST', `/calls/${encodeURIComponent(id)}/control`, { type: 'say', content: 'This is a test announcement.', end_after: false });
    assert.deepEqual(say.body, { success: true, message: 'Command sent successfully' });
    await call.waitForAgentSpeech({ timeoutMs: 15_000, sinceMs: call.now() - 50 });
    await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    const inject = await h.api<Obj>('POST', `/calls/${encodeURIComponent(id)}/control`, { type: 'inject-context', content: 'Caller is a VIP.', trigger_response: false });
    assert.equal(inject.status, 200);
    const end = await h.api<Obj>('POST', `/calls/${encodeURIComponent(id)}/control`, { type: 'end-call', message: 'Goodbye now.' });
    assert.equal(end.status, 200);
    const closed = await call.closed;
    assert.equal(closed.by, 'remote', 'the engine hung up');
    const rec = await h.waitForCall((c) => c.id === id && c.status === 'ended');
    assert.equal(rec.end_reason, 'control_end_call');
    const msgs = (rec.messages as Obj[]).map((m) => [m.role, m.content]);
    assert.deepEqual(msgs.slice(1), [['assistant', 'This is a test announcement.'], ['system', '[Context update] Caller is a VIP.'], ['assistant', 'Goodbye now.']]);
    const late = await h.api<Obj>('POST', `/calls/${encodeURIComponent(id)}/control`, { type: 'say', content: 'x', end_after: false });
    assert.equal(late.status, 400);
    assert.equal(late.body.code, 'call_not_active');
  });

  test('control: transfer by REFER to sipp (Refer-To as given, Referred-By, NOTIFY sipfrag), then BYE', async () => {
    const run = await sipp('uac-refer.xml', { remote: `${h.sipHost}:${h.sipPort}`, args: ['-s', h.number], timeoutS: 40 });
    const id = await liveCallId();
    const r = await h.api<Obj>('POST', `/calls/${encodeURIComponent(id)}/control`, { type: 'transfer', destination: 'tel:+15550100' });
    assert.equal(r.status, 200);
    const res = await run.done;
    assert.equal(res.code, 0, `sipp: ${res.stdout.slice(-600)} ${res.errors}`);
    const rec = await h.waitForCall((c) => c.id === id && c.status === 'ended');
    assert.equal(rec.end_reason, 'transferred');
  });

  /** Calls the number answered by a fresh assistant until the engine hangs up; the saved one is restored. */
  async function callWith(assistant: Obj): Promise<Obj> {
    const a = (await h.api<Obj>('POST', '/assistants', { tts_config: { provider: 'elevenlabs', voice_id: 'v' }, ...assistant })).body.assistant;
    await h.api('PATCH', `/numbers/${h.numberId}`, { agent_id: a.id });
    try {
      const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      const closed = await call.closed;
      assert.equal(closed.by, 'remote', 'the engine hung up');
      return await h.waitForCall((c) => c.agent_id === a.id && c.status === 'ended');
    } finally {
      await h.api('PATCH', `/numbers/${h.numberId}`, { agent_id: h.assistantId });
    }
  }

  test('silence handling checks in, then says goodbye and ends the call (silence_timeout)', async () => {
    const rec = await callWith({
      name: 'Quiet', first_message: 'Hi there.', autonomous_silence_handling: true,
      speech_config: { silence: { first_check_seconds: 1, interval_seconds: 3, max_attempts: 2, messages: ['Are you still there?'], final_message: 'Goodbye for now.' } },
    });
    assert.equal(rec.end_reason, 'silence_timeout');
    assert.deepEqual((rec.messages as Obj[]).map((m) => m.content), ['Hi there.', 'Are you still there?', 'Goodbye for now.']);
  });

  test('max_duration_seconds ends the call with max_duration (after the end_call_message)', async () => {
    const rec = await callWith({ name: 'Short', first_message: 'Hello.', max_duration_seconds: 3, speech_config: { end_call_message: 'Our time is up, goodbye.' } });
    assert.equal(rec.end_reason, 'max_duration');
    assert.equal((rec.messages as Obj[]).at(-1)?.content, 'Our time is up, goodbye.');
  });
});

describe('e2e: assistant-request and drain', () => {
  test('assistant-request: a transient config is merged over the saved assistant; the reject form is spoken, then the call ends', async () => {
    const rx = await startWebhookReceiver('ar-secret');
    const h = await startHarness({ assistant: { webhook_url: rx.url, webhook_secret: 'ar-secret', webhook_events: ['assistant-request', 'end-of-call-report'] } });
    const caller = await TestCaller.start();
    try {
      rx.assistantResponse = { assistant: { first_message: 'Welcome, valued customer.', metadata: { crm_id: 'C-42' } }, max_duration_seconds: 120 };
      const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      await call.waitForAgentSpeech({ timeoutMs: 15_000 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      await call.hangup();
      const req = await rx.waitFor((e) => e.type === 'assistant-request');
      assert.ok(req.signatureOk);
      assert.equal(req.body.message.call.status, 'ringing');
      assert.equal(req.body.message.customer.number, '+31612345678');
      assert.equal(req.body.message.assistant, undefined, 'assistant-request carries no assistant block');
      const report = await rx.waitFor((e) => e.type === 'end-of-call-report');
      assert.deepEqual(report.body.message.assistant.metadata, { crm_id: 'C-42' }, 'metadata from assistant-request is echoed');
      assert.equal(report.body.message.messages[0].content, 'Welcome, valued customer.');
      assert.ok(!rx.events.some((e) => e.type === 'status-update'), 'webhook_events filters status-update out');

      rx.assistantResponse = { error: 'Sorry, we are closed today.' };
      const closedCall = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      const end = await closedCall.closed;
      assert.equal(end.by, 'remote');
      const rec = await h.waitForCall((c) => c.status === 'ended' && c.end_reason === 'rejected');
      assert.deepEqual((rec.messages as Obj[]).map((m) => m.content), ['Sorry, we are closed today.']);
    } finally {
      await caller.close();
      await h.close();
      await rx.close();
    }
  });

  test('drain: after close() starts, new INVITEs get 503 while the live call finishes', async () => {
    const h = await startHarness({ env: { DRAIN_SECONDS: '20' } });
    const caller = await TestCaller.start();
    try {
      const live = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      await live.waitForAgentSpeech({ timeoutMs: 15_000 });
      const closing = h.engine.close();
      await new Promise((r) => setTimeout(r, 200));
      await assert.rejects(caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number }), (e: Error & { status?: number; reason?: string }) => {
        assert.match(String(e.message) + String(e.reason ?? ''), /503|rejected|failed/i);
        return true;
      });
      assert.equal(live.ended, null, 'the live call is still up during the drain');
      await live.hangup();
      await closing;
      const rec = h.engine.store;
      assert.ok(rec, 'engine closed after the live call ended');
    } finally {
      await caller.close();
      await h.close().catch(() => undefined);
    }
  });
});

describe('e2e: transfer falls back to a bridged second leg', () => {
  test('REFER refused by the caller: the engine dials the destination through the transfer trunk and bridges the audio', async () => {
    const h = await startHarness();
    const a = await TestCaller.start();
    const b = await TestCaller.start();
    try {
      const trunk = (await h.api<Obj>('POST', '/sip-trunks', { name: 'PBX', address: `127.0.0.1:${b.sipPort}` })).body.trunk;
      await h.api('PATCH', `/numbers/${h.numberId}`, { transfer_trunk_id: trunk.id });
      const callA = await a.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      await callA.waitForAgentSpeech({ timeoutMs: 15_000 });
      await callA.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      const id = String((await h.waitForCall((c) => c.status === 'in-progress')).id);
      const incoming = b.answerNext({ timeoutMs: 30_000 });
      const r = await h.api<Obj>('POST', `/calls/${encodeURIComponent(id)}/control`, { type: 'transfer', destination: '+15550100' });
      assert.equal(r.status, 200);
      const callB = await incoming;
      assert.equal(callB.incoming?.to?.includes('+15550100') ?? true, true);
      await callA.sayText('Hello, is this the sales team?');
      await callA.idle({ timeoutMs: 20_000 });
      await callB.waitForAgentSpeech({ timeoutMs: 15_000 });
      await callB.sayText('Yes, sales speaking.');
      await callB.idle({ timeoutMs: 20_000 });
      await callA.waitForAgentSpeech({ timeoutMs: 15_000, sinceMs: callA.now() - 3000 });
      await callA.hangup();
      const endB = await callB.closed;
      assert.equal(endB.by, 'remote', 'the engine released the second leg');
      const rec = await h.waitForCall((c) => c.id === id && c.status === 'ended');
      assert.equal(rec.end_reason, 'transferred');
      assert.ok((rec.duration_seconds as number) >= 2, 'usage counts the bridged time');
    } finally {
      await a.close();
      await b.close();
      await h.close();
    }
  });
});
