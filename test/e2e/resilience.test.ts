/**
 * End-to-end: a provider socket dropped mid-call, an xAI realtime call, voicemail detection on an
 * outbound call, and a crash (SIGKILL) with the report delivered after the restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { startHarness, type Harness } from './harness.js';
import { renderText, TestCaller } from './caller.js';
import { startWebhookReceiver } from './webhook-receiver.js';
import { SipStack, type Dialog } from '../../sip/index.js';
import { CODEC_CAPABILITIES, MediaEngine } from '../../media/index.js';
import { loadConfig } from '../../config/index.js';
import { startEngine } from '../../engine/engine.js';

type Obj = Record<string, any>;

describe('e2e: resilience', () => {
  let h: Harness;
  let caller: TestCaller;

  before(async () => {
    h = await startHarness({ env: { RECORD_CALLS: 'true' } });
    caller = await TestCaller.start();
  });
  after(async () => {
    await caller?.close();
    await h?.close();
  });

  test('the STT socket drops mid-call: the client reconnects, resends, and no words are lost', async () => {
    h.fakes.deepgram.script.utterances = ['Please send me the menu by email.'];
    h.fakes.deepgram.script.faults = { dropAfterAudioMs: 3000 };
    h.fakes.openai.script.replies = [{ text: 'I will email you the menu.' }];
    const before = h.fakes.deepgram.stats.connections;
    try {
      const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      await call.waitForAgentSpeech({ timeoutMs: 15_000 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      await call.sayText('Please send me the menu by email.');
      await call.idle({ timeoutMs: 20_000 });
      await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      await call.hangup();
    } finally {
      h.fakes.deepgram.script.faults = {};
    }
    assert.ok(h.fakes.deepgram.stats.connections - before >= 2, 'the STT client reconnected');
    const rec = await h.waitForCall((c) => c.status === 'ended' && (c.messages as Obj[] | null)?.some((m) => m.content === 'I will email you the menu.') === true);
    assert.ok((rec.messages as Obj[]).some((m) => m.role === 'user' && m.content === 'Please send me the menu by email.'));
    assert.equal(rec.end_reason, 'user_hangup');
    // RECORD_CALLS: a stereo WAV (caller left, agent right) behind an authenticated URL.
    assert.equal(rec.recording_url, `/api/v1/calls/${encodeURIComponent(String(rec.id))}/recording`);
    const wav = await fetch(h.apiUrl.replace(/\/api\/v1$/, '') + String(rec.recording_url), { headers: { authorization: `Bearer ${h.key}` } });
    assert.equal(wav.status, 200);
    const buf = Buffer.from(await wav.arrayBuffer());
    assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
    assert.equal(buf.readUInt16LE(22), 2, 'two channels');
    assert.ok(buf.length > 44 + 8000 * 2 * 2, 'more than a second of audio');
    const anon = await fetch(h.apiUrl.replace(/\/api\/v1$/, '') + String(rec.recording_url));
    assert.equal(anon.status, 401);
  });

  test('an xAI realtime assistant runs the same call: greeting, a turn, transcript, record', async () => {
    const a = (await h.api<Obj>('POST', '/assistants', {
      name: 'Realtime', first_message: 'Welcome to the realtime line.',
      llm_config: { provider: 'xai_realtime', model: 'grok-realtime-v1', voice: 'eve', messages: [{ role: 'system', content: 'Be brief.' }] },
    })).body.assistant;
    await h.api('PATCH', `/numbers/${h.numberId}`, { agent_id: a.id });
    h.fakes.xai.script.userTranscripts = ['What are your opening hours?'];
    h.fakes.xai.script.responses = [{ text: 'Welcome to the realtime line.' }, { text: 'We open at five.' }] as typeof h.fakes.xai.script.responses;
    try {
      const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
      await call.waitForAgentSpeech({ timeoutMs: 15_000 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      await call.sayText('What are your opening hours?');
      await call.idle({ timeoutMs: 20_000 });
      await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
      await call.hangup();
      const rec = await h.waitForCall((c) => c.agent_id === a.id && c.status === 'ended');
      const msgs = (rec.messages as Obj[]).map((m) => [m.role, m.content]);
      assert.ok(msgs.some(([r, c]) => r === 'user' && c === 'What are your opening hours?'), JSON.stringify(msgs));
      assert.ok(msgs.some(([r, c]) => r === 'assistant' && c === 'We open at five.'), JSON.stringify(msgs));
      const su = h.fakes.xai.stats.sessionUpdates[0] as Obj | undefined;
      assert.ok(su, 'session.update was sent');
      assert.equal(rec.end_reason, 'user_hangup');
    } finally {
      await h.api('PATCH', `/numbers/${h.numberId}`, { agent_id: h.assistantId });
    }
  });

  test('outbound call: voicemail detected from the first utterance, message left, end_reason voicemail', async () => {
    // A voicemail box: answers and plays its greeting.
    const media = new MediaEngine();
    const base = 46000 + 2 * Math.floor(Math.random() * 3000);
    await media.start({ portMin: base, portMax: base + 40, bindAddress: '127.0.0.1' });
    const box = await renderText('Hi, you have reached Anna. Please leave a message after the beep.', { sampleRate: 8000 });
    let dialog: Dialog | null = null;
    const uas = new SipStack({
      host: '127.0.0.1', port: 0,
      onCall: (inc) => void (async () => {
        const s = await media.createSession();
        const d = await inc.answer({ media: { address: '127.0.0.1', port: s.rtpPort, codecs: CODEC_CAPABILITIES.filter((c) => c.name === 'PCMU').map((c) => ({ ...c })), telephoneEvent: true } });
        dialog = d;
        const m = d.media!;
        s.setRemote({ address: m.remoteAddress, port: m.remotePort, codec: { name: m.codec.name, payloadType: m.codec.payloadType, clockRate: m.codec.clockRate }, direction: m.remoteDirection });
        s.play({ id: 'greeting', format: 'pcm16', sampleRate: 8000, samples: box.samples });
        void d.closed.then(() => s.close());
      })(),
    });
    await uas.start();
    try {
      const trunk = (await h.api<Obj>('POST', '/sip-trunks', { name: 'Voicemail box', address: `127.0.0.1:${uas.port('udp')}` })).body.trunk;
      const num = (await h.api<Obj>('POST', '/numbers', { phone_number: '+31850835099', transfer_trunk_id: trunk.id })).body.number;
      const a = (await h.api<Obj>('POST', '/assistants', {
        name: 'Caller', first_message: 'Hello, this is the restaurant.', voicemail_detection: true,
        voicemail_message: 'Hi Anna, the restaurant here, your table is confirmed. Goodbye.',
        tts_config: { provider: 'elevenlabs', voice_id: 'v' },
      })).body.assistant;
      // A box may be transcribed in more than one segment; only the first carries words here.
      h.fakes.deepgram.script.utterances = ['Hi, you have reached Anna. Please leave a message after the beep.', { text: '' }, { text: '' }];
      const r = await h.api<Obj>('POST', '/calls/outbound', { destination: '+31201112222', number_id: num.id, assistant_id: a.id });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.status, 'dialing');
      const rec = await h.waitForCall((c) => c.id === r.body.call_id && c.status === 'ended', 40_000);
      assert.equal(rec.end_reason, 'voicemail');
      assert.equal(rec.direction, 'outbound');
      const msgs = (rec.messages as Obj[]).map((m) => [m.role, m.content]);
      assert.deepEqual(msgs, [['user', 'Hi, you have reached Anna. Please leave a message after the beep.'], ['assistant', 'Hi Anna, the restaurant here, your table is confirmed. Goodbye.']]);
      assert.ok(!msgs.some(([, c]) => c === 'Hello, this is the restaurant.'), 'the greeting was held back for the machine');
      assert.ok(dialog, 'the box answered');
    } finally {
      await uas.close();
      await media.close();
    }
  });
});

describe('e2e: crash and restart', () => {
  test('a call live at a SIGKILL ends with end_reason "error" after restart, and its report is delivered', async () => {
    const rx = await startWebhookReceiver('crash-secret');
    const dataDir = mkdtempSync(join(tmpdir(), 'engine-crash-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-child.ts')], {
      env: { ...process.env, DATA_DIR: dataDir, HOOK_URL: rx.url, HOOK_SECRET: 'crash-secret' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const caller = await TestCaller.start();
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`crash child exited early (${code})`)));
      });
      const info = JSON.parse(line) as { sipPort: number; number: string; key: string };
      const call = await caller.dial({ host: '127.0.0.1', port: info.sipPort, to: info.number });
      await call.waitForAgentSpeech({ timeoutMs: 20_000 });
      await rx.waitFor((e) => e.type === 'status-update' && e.body.message.call.status === 'in-progress');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await call.hangup().catch(() => undefined);

      const config = loadConfig({ DATA_DIR: dataDir, API_HOST: '127.0.0.1', API_PORT: '0', BOOTSTRAP_API_KEY: info.key, LOG_LEVEL: 'silent' });
      const engine = await startEngine(config, pino({ level: 'silent' }), { telephony: null });
      try {
        const report = await rx.waitFor((e) => e.type === 'end-of-call-report');
        assert.equal(report.body.message.end_reason, 'error');
        assert.ok(report.signatureOk, 'signed with the saved assistant secret');
        const ended = rx.events.find((e) => e.type === 'status-update' && e.body.message.call.status === 'ended-with-error');
        assert.ok(ended, 'status-update ended-with-error delivered');
        const id = report.body.message.call.id as string;
        const rec = engine.store.calls.getById(id);
        assert.equal(rec?.status, 'failed');
        assert.equal(rec?.end_reason, 'error');
        assert.equal(rx.events.filter((e) => e.type === 'end-of-call-report').length, 1);
      } finally {
        await engine.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await caller.close();
      await rx.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
