/**
 * The test caller against a small in-test UAS (our SipStack answering + a MediaSession that plays
 * a known clip and echoes), plus unit tests of its speech detector and timeline helpers.
 *
 * Accuracy checks compare the caller's measurements with the UAS's own record of when it sent
 * each packet. Both run in this process on the same monotonic clock (performance.now()), so the
 * comparison needs no wall-clock assumption beyond loopback delivery.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CallFailedError, SipStack } from '../../sip/index.js';
import type { Dialog, IncomingCall, LocalMedia, NegotiatedMedia } from '../../sip/index.js';
import { CODEC_CAPABILITIES, MediaEngine, Resampler, parseWav } from '../../media/index.js';
import type { ClockTick, MediaSession } from '../../media/index.js';
import {
  CallerError, SpeechDetector, TestCaller, agentSegments, bargeIns, formatTimeline, loadFixtureClip, noiseBurst,
  renderText, responseLatencies, speechFrames, summarize, trimSilence,
} from './caller.js';
import type { TestCall, TimelineEvent } from './caller.js';

const TOLERANCE_MS = 60;

// ---------------------------------------------------------------------------------------- the UAS

interface UasCall {
  readonly dialog: Dialog;
  readonly session: MediaSession;
  readonly detector: SpeechDetector;
  readonly dtmf: { digit: string; source: string }[];
  echo: boolean;
  /**
   * Queues `samples` at the next tick. `sends[k]` = performance.now() when frame k left (filled
   * as it plays, so late ticks on a loaded machine are accounted for); `done` when all have.
   */
  play(samples: Int16Array, rate: 8000 | 16000): { readonly sends: readonly number[]; readonly done: Promise<void> };
}

function remoteFrom(m: NegotiatedMedia): Parameters<MediaSession['setRemote']>[0] {
  return {
    address: m.remoteAddress, port: m.remotePort,
    codec: { name: m.codec.name, payloadType: m.codec.payloadType, clockRate: m.codec.clockRate },
    ...(m.telephoneEvent ? { telephoneEventPt: m.telephoneEvent.payloadType } : {}),
    direction: m.remoteDirection, localDirection: m.localDirection,
  };
}

/** Answers every INVITE (or rejects with `reject`), plays on demand, echoes when asked. */
class Uas {
  readonly stack: SipStack;
  readonly engine = new MediaEngine();
  reject: number | null = null;
  #pending: ((c: UasCall) => void)[] = [];
  #ready: UasCall[] = [];

  constructor() {
    this.stack = new SipStack({ host: '127.0.0.1', port: 0, onCall: (c) => { void this.#answer(c); } });
  }

  async start(): Promise<void> {
    await this.stack.start();
    const base = 40000 + 2 * Math.floor(Math.random() * 9800);
    await this.engine.start({ portMin: base, portMax: base + 199, bindAddress: '127.0.0.1' });
  }

  get port(): number { return this.stack.port('udp'); }

  next(): Promise<UasCall> {
    const c = this.#ready.shift();
    if (c) return Promise.resolve(c);
    return new Promise((r) => this.#pending.push(r));
  }

  async close(): Promise<void> {
    await this.stack.close();
    await this.engine.close();
  }

  async #answer(call: IncomingCall): Promise<void> {
    if (this.reject !== null) { call.reject(this.reject); return; }
    const session = await this.engine.createSession({ vad: false });
    const media: LocalMedia = {
      address: '127.0.0.1', port: session.rtpPort, telephoneEvent: true,
      codecs: CODEC_CAPABILITIES.filter((c) => c.name === 'PCMU' || c.name === 'PCMA').map((c) => ({ name: c.name, clockRate: c.clockRate, payloadType: c.payloadType })),
    };
    const dialog = await call.answer({ media });
    session.setRemote(remoteFrom(dialog.media!));
    const detector = new SpeechDetector();
    const dtmf: { digit: string; source: string }[] = [];
    interface Job { samples: Int16Array; rate: 8000 | 16000; sends: number[]; resolve: () => void }
    let toPlay: Job | null = null;
    let playing: Job | null = null;
    const uas: UasCall = {
      dialog, session, detector, dtmf, echo: false,
      play: (samples, rate) => {
        const sends: number[] = [];
        const done = new Promise<void>((resolve) => { toPlay = { samples, rate, sends, resolve }; });
        return { sends, done };
      },
    };
    // Our tick listener runs after the session's: what we queue now goes out on the next tick,
    // and each following tick sends exactly one frame of it.
    const offTick = this.engine.clock.add((t: ClockTick) => {
      if (playing) {
        playing.sends.push(t.now);
        if (session.queuedMs === 0) { playing.resolve(); playing = null; }
      }
      if (toPlay && !playing) {
        session.play({ id: 'clip', format: 'pcm16', sampleRate: toPlay.rate, samples: toPlay.samples });
        playing = toPlay;
        toPlay = null;
      }
    });
    session.on((ev) => {
      if (ev.type === 'audio') {
        detector.push(ev.pcm, ev.atMs); // positions in the received stream: exact, tick-independent
        if (uas.echo && session.queuedMs < 60) session.play({ id: 'echo', format: 'pcm16', sampleRate: ev.sampleRate, samples: ev.pcm });
      } else if (ev.type === 'dtmf') dtmf.push({ digit: ev.digit, source: ev.source });
    });
    dialog.on('dtmf', (e) => dtmf.push({ digit: e.digit, source: 'sip-info' }));
    void dialog.closed.then(() => { offTick(); void session.close(); });
    const waiter = this.#pending.shift();
    if (waiter) waiter(uas); else this.#ready.push(uas);
  }
}

function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const iv = setInterval(() => {
      if (cond()) { clearInterval(iv); resolve(); }
      else if (performance.now() - t0 > timeoutMs) { clearInterval(iv); reject(new Error(`timed out waiting for ${what}`)); }
    }, 10);
  });
}

function explain(call: TestCall): string {
  return `\n${formatTimeline(call.timeline())}`;
}

// ---------------------------------------------------------------------------------------- calls

describe('TestCaller against an in-test UAS', () => {
  let uas: Uas;
  let caller: TestCaller;
  let dir: string;

  before(async () => {
    uas = new Uas();
    await uas.start();
    caller = await TestCaller.start();
    dir = mkdtempSync(join(tmpdir(), 'test-caller-'));
  });
  after(async () => {
    await caller.close();
    await uas.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('agent speech onset and end match the clip the UAS sent (±60 ms); the call is recorded', async (t) => {
    const recordTo = join(dir, 'call.wav');
    const call = await caller.dial({ host: '127.0.0.1', port: uas.port, to: '+31850835037', from: '+31612345678', recordTo });
    const far = await uas.next();
    assert.equal(call.codec, 'PCMU');
    assert.equal(call.sampleRate, 8000);
    assert.equal(far.dialog.remoteIdentity.uri.includes('+31612345678'), true);

    const clip = loadFixtureClip('agent-welcome'); // 16 kHz, with its own leading silence
    const speech = speechFrames(clip.samples, clip.sampleRate);
    assert.ok(speech, 'the clip has speech');
    await new Promise((r) => setTimeout(r, 300)); // the "agent" waits a little before speaking
    const played = far.play(clip.samples, 16000);
    const first = await call.waitForAgentSpeech({ timeoutMs: 5000 });
    const quiet = await call.waitForAgentSilence({ silenceMs: 600, timeoutMs: 10_000 });
    await played.done;
    const expectedStart = call.toCallMs(played.sends[speech.first]!);
    const expectedEnd = call.toCallMs(played.sends[speech.last]!);
    const segs = call.agentSpeech;
    const last = segs[segs.length - 1]!;
    t.diagnostic(`onset error ${(first.startMs - expectedStart).toFixed(1)} ms, end error ${((last.endMs ?? NaN) - expectedEnd).toFixed(1)} ms`);
    assert.ok(Math.abs(first.startMs - expectedStart) <= TOLERANCE_MS, `onset ${first.startMs} vs ${expectedStart}${explain(call)}`);
    assert.ok(last.endMs !== null && Math.abs(last.endMs - expectedEnd) <= TOLERANCE_MS, `end ${last.endMs} vs ${expectedEnd}${explain(call)}`);
    assert.equal(quiet.lastSpeechMs, call.lastAgentPacketMs);
    assert.equal(call.lastAgentPacketMs, last.endMs);

    const tl = call.timeline();
    assert.deepEqual(tl.slice(0, 2).map((e) => e.type), ['invite', 'answered']);
    assert.ok(tl[0]!.ms < 0 && tl[1]!.ms === 0, 'invite before the answer, the answer is the origin');
    assert.deepEqual(agentSegments(tl), segs.map((s) => ({ startMs: s.startMs, endMs: s.endMs })));
    for (let i = 1; i < tl.length; i++) assert.ok(tl[i]!.ms >= tl[i - 1]!.ms, 'timeline is ordered');

    const end = await call.hangup();
    assert.equal(end.by, 'caller');
    assert.equal(end.reason, 'local-bye');
    assert.equal(await far.dialog.closed, 'remote-bye');
    assert.deepEqual(call.timeline().at(-1), { type: 'bye', ms: end.ms, by: 'caller' });

    // The recording: stereo, left = what the caller heard (the clip), right = what it sent (silence).
    const wav = parseWav(readFileSync(recordTo));
    assert.equal(wav.channels.length, 2);
    assert.equal(wav.sampleRate, 8000);
    const heard = wav.channels[0]!;
    const rec = speechFrames(heard, 8000);
    assert.ok(rec && (rec.last - rec.first) * 20 >= (speech.last - speech.first) * 20 - TOLERANCE_MS, 'the clip is in the left channel');
    assert.equal(speechFrames(wav.channels[1]!, 8000), null, 'the caller sent only silence');
  });

  test('caller speech reaches the UAS with the right duration; the echo is heard as agent speech', async () => {
    const call = await caller.dial({ host: '127.0.0.1', port: uas.port, to: '+31850835037', keepAudio: true });
    const far = await uas.next();
    far.echo = true;
    const clip = loadFixtureClip('caller-what-time');
    void call.silence(400);
    const sent = await call.say(clip.samples, clip.sampleRate, { label: 'what-time' });
    await call.idle();
    assert.equal(sent.completed, true);
    assert.equal(sent.label, 'what-time');
    assert.ok(sent.speechStartMs !== null && sent.speechEndMs !== null);
    assert.ok(sent.startMs !== null && sent.startMs >= 400 - 1, 'the clip follows the 400 ms pause');
    const echoed = await call.waitForAgentSpeech({ sinceMs: sent.speechStartMs, timeoutMs: 5000 });
    await call.waitForAgentSilence({ silenceMs: 500, timeoutMs: 10_000 });

    // At the UAS: the received speech spans the clip's speech (positions in its received stream,
    // which count frames, not wall-clock time: a stalled event loop on a loaded machine delays
    // packets but neither adds nor removes audio).
    await waitUntil(() => !far.detector.speaking && far.detector.segments.length > 0, 5000, 'UAS speech end');
    const got = far.detector.segments;
    const receivedMs = got[got.length - 1]!.endMs! - got[0]!.startMs;
    const inClip = speechFrames(clip.samples, clip.sampleRate)!;
    const clipMs = (inClip.last - inClip.first) * 20;
    assert.ok(Math.abs(receivedMs - clipMs) <= TOLERANCE_MS, `UAS heard ${receivedMs} ms, the clip has ${clipMs} ms`);
    assert.ok(sent.speechEndMs - sent.speechStartMs >= clipMs - 40, 'we took at least the clip\'s time to send it');

    // The timeline has our clip with exact packet times, and the echo after its onset.
    const tl = call.timeline();
    const start = tl.find((e) => e.type === 'caller-speech-start');
    const end = tl.find((e) => e.type === 'caller-speech-end');
    assert.deepEqual(start, { type: 'caller-speech-start', ms: sent.speechStartMs, clip: 'what-time', kind: 'speech' });
    assert.deepEqual(end, { type: 'caller-speech-end', ms: sent.speechEndMs, clip: 'what-time', kind: 'speech', cut: false });
    assert.ok(echoed.startMs > sent.speechStartMs, `echo ${echoed.startMs} after onset ${sent.speechStartMs}${explain(call)}`);
    const segs = call.agentSpeech;
    const echoMs = segs[segs.length - 1]!.endMs! - echoed.startMs;
    assert.ok(echoMs > clipMs / 2, `echo lasted ${echoMs} ms, the clip has ${clipMs} ms${explain(call)}`);
    // The echo starts while we still talk: a barge-in by the caller's own definition.
    assert.equal(bargeIns(tl).length, 0, 'our onset came before the echo, so it is not inside agent speech');
    const audio = call.receivedAudio();
    assert.equal(audio.sampleRate, 8000);
    assert.ok(speechFrames(audio.samples, 8000), 'kept audio holds the echo');

    await far.dialog.bye();
    const endInfo = await call.closed;
    assert.equal(endInfo.by, 'remote');
    assert.equal(endInfo.reason, 'remote-bye');
    assert.equal(call.timeline().at(-1)?.type, 'bye');
    assert.throws(() => call.silence(100), (e: unknown) => e instanceof CallerError && e.code === 'CALL_ENDED');
  });

  test('sayText renders with espeak-ng + sox (cached), noise bursts and stopSpeaking show in the timeline', async () => {
    const cacheDir = join(dir, 'cache');
    const text = `Please read my order number ${Math.floor(Math.random() * 1000)} back to me.`;
    const pcm = await renderText(text, { cacheDir });
    assert.equal(pcm.sampleRate, 8000);
    assert.ok(pcm.samples.length > 8000, 'more than a second of speech');
    assert.equal(Math.abs(pcm.samples[0]!) >= 64, true, 'leading silence trimmed');
    const again = await renderText(text, { cacheDir });
    assert.deepEqual(again.samples, pcm.samples, 'same audio from the cache');

    const call = await caller.dial({ host: '127.0.0.1', port: uas.port, to: '+31850835037' });
    const far = await uas.next();
    const spoken = call.sayText(text, { cacheDir, label: 'order' });
    void call.silence(300);
    const noise = call.noiseBurst(160);
    void call.silence(300);
    const long = call.sayText('Hello, I would like to book a table for two tonight.', { label: 'book' }); // a fixture clip
    await noise;
    await new Promise((r) => setTimeout(r, 500));
    call.stopSpeaking();
    const [a, n, b] = await Promise.all([spoken, noise, long]);
    await call.idle();
    assert.equal(a.completed, true);
    assert.equal(n.completed, true);
    assert.equal(n.kind, 'noise');
    assert.ok(n.speechEndMs! - n.speechStartMs! >= 100, 'the burst is loud for most of its length');
    assert.equal(b.completed, false, 'the second sentence was cut');
    assert.ok(b.speechStartMs !== null && b.speechEndMs !== null && b.speechEndMs >= b.speechStartMs, 'it had started');
    const caller_ = call.timeline().filter((e) => e.type === 'caller-speech-start' || e.type === 'caller-speech-end');
    assert.deepEqual(caller_.map((e) => [e.type, 'clip' in e ? e.clip : '', 'cut' in e ? e.cut : null]), [
      ['caller-speech-start', 'order', null], ['caller-speech-end', 'order', false],
      ['caller-speech-start', 'noise 160 ms', null], ['caller-speech-end', 'noise 160 ms', false],
      ['caller-speech-start', 'book', null], ['caller-speech-end', 'book', true],
    ]);
    // The UAS heard three bursts of sound: the sentence, the noise, the cut sentence.
    await waitUntil(() => !far.detector.speaking && far.detector.segments.length >= 3, 5000, 'UAS segments').catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(far.detector.segments)} ${explain(call)}`);
    });
    await call.hangup();
  });

  test('DTMF both ways: RFC 4733 and SIP INFO', async () => {
    const call = await caller.dial({ host: '127.0.0.1', port: uas.port, to: '+31850835037' });
    const far = await uas.next();
    await call.sendDtmf('5');
    await call.sendDtmf('#', { method: 'info' });
    await waitUntil(() => far.dtmf.length >= 2, 5000, 'DTMF at the UAS');
    assert.deepEqual(far.dtmf.slice().sort((x, y) => x.source.localeCompare(y.source)), [
      { digit: '5', source: 'rfc4733' }, { digit: '#', source: 'sip-info' },
    ].sort((x, y) => x.source.localeCompare(y.source)));
    const got = call.waitForEvent('dtmf-received', { timeoutMs: 5000 });
    far.session.sendDtmf('7', 120);
    const ev = await got;
    assert.equal(ev.digit, '7');
    assert.equal(ev.source, 'rfc4733');
    const sent = call.timeline().filter((e) => e.type === 'dtmf-sent');
    assert.deepEqual(sent.map((e) => e.type === 'dtmf-sent' && [e.digit, e.method]), [['5', 'rfc4733'], ['#', 'info']]);
    await call.hangup();
  });

  test('waits fail with codes: TIMEOUT while the call lasts, CALL_ENDED when it ends', async () => {
    const call = await caller.dial({ host: '127.0.0.1', port: uas.port, to: '+31850835037' });
    const far = await uas.next();
    await assert.rejects(call.waitForAgentSpeech({ timeoutMs: 200 }), (e: unknown) => e instanceof CallerError && e.code === 'TIMEOUT');
    const silent = await call.waitForAgentSilence({ silenceMs: 300, timeoutMs: 5000 });
    assert.equal(silent.lastSpeechMs, null);
    const pending = assert.rejects(call.waitForAgentSpeech({ timeoutMs: 10_000 }), (e: unknown) => e instanceof CallerError && e.code === 'CALL_ENDED');
    const byeSeen = call.waitForEvent('bye', { timeoutMs: 5000 });
    await far.dialog.bye();
    await pending;
    assert.deepEqual(await byeSeen, { type: 'bye', ms: (await call.closed).ms, by: 'remote' });
  });

  test('a rejected call fails with the SIP layer\'s CallFailedError', async () => {
    uas.reject = 486;
    const live = caller.calls.length;
    try {
      await assert.rejects(
        caller.dial({ host: '127.0.0.1', port: uas.port, to: '+31850835037' }),
        (e: unknown) => e instanceof CallFailedError && e.reason === 'busy' && e.status === 486,
      );
    } finally {
      uas.reject = null;
    }
    assert.equal(caller.calls.length, live, 'a failed dial leaves no call behind');
  });
});

describe('TestCaller answering (answerNext / rejectNext)', () => {
  let a: TestCaller;
  let b: TestCaller;
  before(async () => { a = await TestCaller.start(); b = await TestCaller.start(); });
  after(async () => { await a.close(); await b.close(); });

  test('rings, answers, and each side hears the other\'s speech where the other sent it', async (t) => {
    const answering = b.answerNext({ ringMs: 200, timeoutMs: 5000 });
    const call = await a.dial({ host: '127.0.0.1', port: b.sipPort, to: '+31850835037', from: '+31612345678', codecs: ['PCMA', 'PCMU'] });
    const callee = await answering;
    assert.equal(callee.direction, 'inbound');
    assert.equal(call.direction, 'outbound');
    assert.deepEqual([callee.incoming?.from, callee.incoming?.to], ['+31612345678', '+31850835037']);
    assert.equal(callee.codec, 'PCMA');
    assert.ok(call.timeline().some((e) => e.type === 'progress' && e.status === 180), `180 seen${explain(call)}`);
    assert.ok(call.setupMs >= 150, 'the 200 OK came after the ring time');
    assert.deepEqual(callee.timeline().slice(0, 3).map((e) => e.type), ['incoming', 'progress', 'answered']);

    const clip = loadFixtureClip('agent-certainly');
    const said = await callee.say(clip.samples, clip.sampleRate, { label: 'certainly' });
    const heard = await call.waitForAgentSpeech({ sinceMs: 0, timeoutMs: 5000 });
    await call.waitForAgentSilence({ silenceMs: 500 });
    // Both clocks are performance.now(): the callee's send time on the caller's call clock.
    const sentOnCallerClock = call.toCallMs(callee.clockOrigin + said.speechStartMs!);
    const endOnCallerClock = call.toCallMs(callee.clockOrigin + said.speechEndMs!);
    const last = call.agentSpeech.at(-1)!;
    t.diagnostic(`callee→caller onset error ${(heard.startMs - sentOnCallerClock).toFixed(1)} ms, end error ${(last.endMs! - endOnCallerClock).toFixed(1)} ms`);
    assert.ok(Math.abs(heard.startMs - sentOnCallerClock) <= TOLERANCE_MS, `${heard.startMs} vs ${sentOnCallerClock}${explain(call)}`);
    assert.ok(Math.abs(last.endMs! - endOnCallerClock) <= TOLERANCE_MS, `${last.endMs} vs ${endOnCallerClock}${explain(call)}`);

    // The far end talks while "the agent" (the callee) does: a barge-in, measured from the callee's side.
    void callee.say(clip.samples, clip.sampleRate, { label: 'long' });
    await callee.waitForEvent('caller-speech-start', { timeoutMs: 5000 });
    await call.waitForAgentSpeech({ timeoutMs: 5000 });
    await call.noiseBurst(120);
    await new Promise((r) => setTimeout(r, 300));
    callee.stopSpeaking();
    await call.waitForAgentSilence({ silenceMs: 400 });
    const cuts = bargeIns(call.timeline());
    assert.equal(cuts.length, 1, explain(call));
    assert.equal(cuts[0]!.kind, 'noise');
    assert.ok(cuts[0]!.reactionMs !== null && cuts[0]!.reactionMs > 0, 'the callee stopped after the burst started');

    const end = await callee.hangup();
    assert.equal(end.by, 'caller');
    assert.equal((await call.closed).by, 'remote');
  });

  test('wideband: a G.722 call runs at 16 kHz both ways', async () => {
    const answering = b.answerNext({ codecs: ['G722', 'PCMU'], timeoutMs: 5000 });
    const call = await a.dial({ host: '127.0.0.1', port: b.sipPort, to: '+31850835037', codecs: ['G722', 'PCMU'], keepAudio: true });
    const callee = await answering;
    assert.deepEqual([call.codec, call.sampleRate, callee.codec, callee.sampleRate], ['G722', 16000, 'G722', 16000]);
    const said = await callee.sayText('Thank you, goodbye.', { label: 'goodbye' }); // a 16 kHz fixture clip
    assert.equal(said.completed, true);
    const heard = await call.waitForAgentSpeech({ sinceMs: 0, timeoutMs: 5000 });
    assert.ok(Math.abs(heard.startMs - call.toCallMs(callee.clockOrigin + said.speechStartMs!)) <= TOLERANCE_MS, explain(call));
    await call.waitForAgentSilence({ silenceMs: 300 });
    assert.equal(call.receivedAudio().sampleRate, 16000);
    await call.hangup();
    assert.equal((await callee.closed).by, 'remote');
  });

  test('rejectNext refuses the call; a cancelled ring rejects answerNext', async () => {
    const refused = b.rejectNext(603, { timeoutMs: 5000 });
    await assert.rejects(a.dial({ host: '127.0.0.1', port: b.sipPort, to: '+31850835037' }), (e: unknown) => e instanceof CallFailedError && e.status === 603);
    assert.equal((await refused).to, '+31850835037');

    const ac = new AbortController();
    const answering = assert.rejects(b.answerNext({ ringMs: 10_000, timeoutMs: 5000 }), (e: unknown) => e instanceof CallFailedError && e.reason === 'cancelled');
    const dialling = assert.rejects(a.dial({ host: '127.0.0.1', port: b.sipPort, to: '+31850835037', signal: ac.signal }), (e: unknown) => e instanceof CallFailedError && e.reason === 'cancelled');
    setTimeout(() => ac.abort(), 300);
    await Promise.all([answering, dialling]);
    await assert.rejects(b.answerNext({ timeoutMs: 100 }), (e: unknown) => e instanceof CallerError && e.code === 'TIMEOUT');
  });
});

// ---------------------------------------------------------------------------------------- units

function tone(ms: number, rate = 8000, amp = 6000): Int16Array {
  const n = (rate * ms) / 1000;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * 440 * i) / rate));
  return out;
}

function feed(d: SpeechDetector, pcm: Int16Array, startMs: number, rate = 8000): ReturnType<SpeechDetector['push']> {
  const n = (rate * 20) / 1000;
  const out = [];
  for (let f = 0; f * n < pcm.length; f++) out.push(...d.push(pcm.subarray(f * n, (f + 1) * n), startMs + f * 20));
  return out;
}

describe('SpeechDetector', () => {
  test('one segment across a pause shorter than the hangover; start and end at the first and last active frame', () => {
    const d = new SpeechDetector({ hangoverMs: 200 });
    const ev = [
      ...feed(d, new Int16Array(4000), 0), // 500 ms silence
      ...feed(d, tone(300), 500),
      ...feed(d, new Int16Array(800), 800), // 100 ms pause
      ...feed(d, tone(200), 900),
      ...feed(d, new Int16Array(4000), 1100),
    ];
    assert.deepEqual(ev, [{ type: 'speech-start', startMs: 500 }, { type: 'speech-end', startMs: 500, endMs: 1080 }]);
    assert.deepEqual(d.segments, [{ startMs: 500, endMs: 1080 }]);
    assert.equal(d.speaking, false);
  });

  test('a pause longer than the hangover splits; a 20 ms click is not speech', () => {
    const d = new SpeechDetector({ hangoverMs: 200 });
    feed(d, new Int16Array(1600), 0);
    feed(d, tone(20), 200); // click
    feed(d, new Int16Array(2400), 220);
    feed(d, tone(100), 520);
    feed(d, new Int16Array(2400), 620); // 300 ms pause
    feed(d, tone(100), 920);
    feed(d, new Int16Array(2400), 1020);
    assert.deepEqual(d.segments, [{ startMs: 520, endMs: 600 }, { startMs: 920, endMs: 1000 }]);
  });

  test('the threshold follows a steady noise floor and is frozen during speech; flush closes an open segment', () => {
    const d = new SpeechDetector();
    const noise = noiseBurst(2000, 8000, { levelDbfs: -60 }).map((_, i) => Math.round(30 * Math.sin(i * 1.7))); // about -63 dBFS hum
    feed(d, noise, 0);
    assert.ok(d.noiseFloorDbfs > -70 && d.noiseFloorDbfs < -55, `floor ${d.noiseFloorDbfs}`);
    assert.equal(d.thresholdDbfs, -45);
    assert.equal(d.segments.length, 0);
    feed(d, tone(400, 8000, 3000), 2000);
    assert.equal(d.speaking, true);
    assert.deepEqual(d.flush(), [{ type: 'speech-end', startMs: 2000, endMs: 2380 }]);
    assert.deepEqual(d.flush(), []);
  });

  test('speechFrames finds the first and last loud frame of a clip; trimSilence cuts the edges', () => {
    const clip = new Int16Array(8000);
    clip.set(tone(200), 1600); // 200..400 ms
    assert.deepEqual(speechFrames(clip, 8000), { first: 10, last: 19 });
    assert.equal(speechFrames(new Int16Array(800), 8000), null);
    assert.equal(trimSilence(clip).length, 1600 - 1); // the sine's first sample is 0
  });
});

describe('timeline helpers', () => {
  const tl: TimelineEvent[] = [
    { type: 'answered', ms: 0, codec: 'PCMU' },
    { type: 'agent-speech-start', ms: 100 },
    { type: 'caller-speech-start', ms: 900, clip: 'interrupt', kind: 'speech' },
    { type: 'agent-speech-end', ms: 1150, startMs: 100 },
    { type: 'caller-speech-end', ms: 1800, clip: 'interrupt', kind: 'speech', cut: false },
    { type: 'agent-speech-start', ms: 2400 },
    { type: 'agent-speech-end', ms: 3000, startMs: 2400 },
    { type: 'caller-speech-start', ms: 4000, clip: 'bye', kind: 'speech' },
    { type: 'caller-speech-end', ms: 4500, clip: 'bye', kind: 'speech', cut: false },
    { type: 'caller-speech-start', ms: 4600, clip: 'again', kind: 'speech' },
    { type: 'caller-speech-end', ms: 4700, clip: 'again', kind: 'speech', cut: false },
    { type: 'agent-speech-start', ms: 5000 },
    { type: 'bye', ms: 5200, by: 'remote' },
  ];

  test('responseLatencies: caller end → next agent start, unless the caller spoke again first', () => {
    assert.deepEqual(responseLatencies(tl), [
      { clip: 'interrupt', callerEndMs: 1800, agentStartMs: 2400, latencyMs: 600 },
      { clip: 'again', callerEndMs: 4700, agentStartMs: 5000, latencyMs: 300 },
    ]);
  });

  test('bargeIns: caller onset inside agent speech → the agent\'s last speech packet', () => {
    assert.deepEqual(bargeIns(tl), [{ clip: 'interrupt', kind: 'speech', callerStartMs: 900, agentEndMs: 1150, reactionMs: 250 }]);
    assert.deepEqual(agentSegments(tl), [{ startMs: 100, endMs: 1150 }, { startMs: 2400, endMs: 3000 }, { startMs: 5000, endMs: null }]);
  });

  test('summarize: nearest-rank percentiles', () => {
    assert.deepEqual(summarize([5, 1, 4, 2, 3, 6, 7, 8, 9, 10]), { n: 10, p50: 5, p95: 10, max: 10, mean: 5.5 });
    assert.equal(summarize([]).n, 0);
  });

  test('formatTimeline prints one line per event', () => {
    const text = formatTimeline(tl);
    assert.equal(text.split('\n').length, tl.length);
    assert.match(text.split('\n')[2]!, /^\s+\+900\.0 ms {2}caller speech starts: interrupt$/);
  });
});

test('Resampler sanity for 16 kHz clips played into an 8 kHz call (used by say())', async () => {
  const r = await Resampler.load({ quality: 1 });
  try {
    const clip = loadFixtureClip('agent-certainly');
    const at8 = r.resample(clip.samples, 16000, 8000);
    assert.equal(Math.abs(at8.length - clip.samples.length / 2) <= 2, true);
    const a = speechFrames(clip.samples, 16000)!;
    const b = speechFrames(at8, 8000)!;
    assert.ok(Math.abs(a.first - b.first) <= 1 && Math.abs(a.last - b.last) <= 1, 'speech boundaries survive resampling');
  } finally {
    r.close();
  }
});
