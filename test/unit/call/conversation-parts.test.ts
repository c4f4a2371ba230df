import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../engine/call/clock.js';
import { SentenceChunker } from '../../../engine/call/sentences.js';
import { looksUnfinished, TurnDetector, type TurnEvent } from '../../../engine/call/turns.js';
import { BargeIn } from '../../../engine/call/bargein.js';
import { heardMs, heardText } from '../../../engine/call/heard.js';
import { SilenceMonitor, silenceOptions, type SilenceAction } from '../../../engine/call/silence.js';
import { voicemailIndicator } from '../../../engine/call/voicemail.js';

describe('SentenceChunker', () => {
  test('cuts at sentence ends as text streams in', () => {
    const c = new SentenceChunker();
    const out: string[] = [];
    for (const d of ['Hello the', 're! How can ', 'I help you today? I', ' am here.']) out.push(...c.push(d));
    out.push(...c.flush());
    assert.deepEqual(out, ['Hello there!', 'How can I help you today?', 'I am here.']);
  });
  test('does not cut at abbreviations or decimals', () => {
    const c = new SentenceChunker();
    const out = [...c.push('Dr. Smith costs 3.50 euro. Next'), ...c.flush()];
    assert.deepEqual(out, ['Dr. Smith costs 3.50 euro.', 'Next']);
  });
  test('a long first clause is cut at a comma to start speaking sooner', () => {
    const c = new SentenceChunker({ firstClauseMinChars: 20 });
    const out = c.push('Thanks for calling our support line, let me look that up ');
    assert.deepEqual(out, ['Thanks for calling our support line,']);
  });
});

describe('TurnDetector', () => {
  const make = () => {
    const clock = new ManualClock();
    const turns: TurnEvent[] = [];
    let finalizeAsked = 0;
    const d = new TurnDetector(clock, { minDelayMs: 400, maxDelayMs: 2000, vadSilenceMs: 300 }, (e) => turns.push(e), () => finalizeAsked++);
    return { clock, turns, d, finalizeAsked: () => finalizeAsked };
  };
  test('a short "yes." ends the turn after the min delay', () => {
    const { clock, turns, d } = make();
    d.speechStart();
    d.final('Yes.', true);
    d.speechEnd();
    clock.advance(99);
    assert.equal(turns.length, 0);
    clock.advance(1);
    assert.equal(turns.length, 1);
    assert.equal(turns[0]?.text, 'Yes.');
    assert.equal(turns[0]?.endpointingMs, 400);
  });
  test('digits read out with short pauses are not cut off', () => {
    const { clock, turns, d } = make();
    d.speechStart(); d.final('My number is 0 6', false); d.speechEnd();
    clock.advance(900);
    assert.equal(turns.length, 0, 'waits longer after digits');
    d.speechStart(); d.final('1 2 3 4.', true); d.speechEnd();
    clock.advance(1699);
    assert.equal(turns.length, 0);
    clock.advance(1);
    assert.equal(turns[0]?.text, 'My number is 0 6 1 2 3 4.');
  });
  test('waits for the STT final after the VAD end; asks to finalize when only interim text exists', () => {
    const { clock, turns, d, finalizeAsked } = make();
    d.speechStart(); d.interim('book a table'); d.speechEnd();
    clock.advance(1700);
    assert.equal(finalizeAsked(), 1);
    assert.equal(turns.length, 0);
    d.final('Book a table.', true);
    clock.advance(0);
    assert.equal(turns.length, 1);
  });
  test('speech resuming cancels the pending end', () => {
    const { clock, turns, d } = make();
    d.speechStart(); d.final('I want', false); d.speechEnd();
    clock.advance(50);
    d.speechStart();
    clock.advance(5000);
    assert.equal(turns.length, 0);
  });
  test('looksUnfinished', () => {
    assert.equal(looksUnfinished('Yes.'), false);
    assert.equal(looksUnfinished('It is 0 6 1 2'), true);
    assert.equal(looksUnfinished('seven eight'), true);
    assert.equal(looksUnfinished('I want to and'), true);
    assert.equal(looksUnfinished('Can you help me?'), false);
  });
});

describe('BargeIn', () => {
  const make = (o: Partial<{ minWords: number; falseMs: number | null }> = {}) => {
    const clock = new ManualClock();
    const log: string[] = [];
    let speaking = true;
    const b = new BargeIn(clock, { minDurationMs: 300, minWords: o.minWords ?? 0, falseInterruptionTimeoutMs: o.falseMs === undefined ? 1500 : o.falseMs, vadSpeechMs: 100 }, {
      agentSpeaking: () => speaking, interrupt: () => log.push('interrupt'), confirm: () => log.push('confirm'), resume: () => log.push('resume'),
    });
    return { clock, log, b, setSpeaking: (s: boolean) => { speaking = s; } };
  };
  test('speech of the min duration interrupts; words confirm', () => {
    const { clock, log, b } = make();
    b.speechStart();
    clock.advance(199);
    assert.deepEqual(log, []);
    clock.advance(1);
    assert.deepEqual(log, ['interrupt']);
    b.words(2);
    assert.deepEqual(log, ['interrupt', 'confirm']);
  });
  test('a cough shorter than the min duration does nothing', () => {
    const { clock, log, b } = make();
    b.speechStart(); clock.advance(100); b.speechEnd(); clock.advance(1000);
    assert.deepEqual(log, []);
  });
  test('no words within the false-interruption timeout resumes', () => {
    const { clock, log, b } = make();
    b.speechStart(); clock.advance(200); b.speechEnd(); clock.advance(1500);
    assert.deepEqual(log, ['interrupt', 'resume']);
  });
  test('min words filters backchannels', () => {
    const { clock, log, b } = make({ minWords: 3 });
    b.speechStart(); clock.advance(400); b.words(1); b.speechEnd();
    assert.deepEqual(log, []);
    b.speechStart(); clock.advance(400); b.words(3);
    assert.deepEqual(log, ['interrupt', 'confirm']);
  });
  test('not speaking: nothing to interrupt; null timeout confirms at once', () => {
    const a = make();
    a.setSpeaking(false);
    a.b.speechStart(); a.clock.advance(1000);
    assert.deepEqual(a.log, []);
    const c = make({ falseMs: null });
    c.b.speechStart(); c.clock.advance(200);
    assert.deepEqual(c.log, ['interrupt', 'confirm']);
  });
});

describe('heard text', () => {
  test('played ms per chunk -> heard ms', () => {
    const chunks = [{ offsetMs: 0, durationMs: 500 }, { offsetMs: 500, durationMs: 500 }, { offsetMs: 1000, durationMs: 500 }];
    assert.equal(heardMs(chunks, new Map([[0, 500], [1, 220]])), 720);
    assert.equal(heardMs(chunks, new Map()), 0);
  });
  test('alignment maps ms to characters, cut at a word boundary', () => {
    const text = 'Hello there friend';
    const chars = [...text];
    const starts = chars.map((_, i) => i * 50);
    assert.equal(heardText(text, 300, 900, { chars, charStartMs: starts }), 'Hello');
    assert.equal(heardText(text, 10_000, 900, { chars, charStartMs: starts }), text);
    assert.equal(heardText(text, 0, 900, null), '');
    assert.equal(heardText(text, 450, 900, null), 'Hello');
  });
});

describe('SilenceMonitor', () => {
  test('7 s, then 12 s checks, third attempt gives up; speech resets; paused while agent speaks', () => {
    const clock = new ManualClock();
    const acts: SilenceAction[] = [];
    const opts = silenceOptions({ autonomous_silence_handling: true });
    assert.ok(opts);
    const m = new SilenceMonitor(clock, opts, (a) => acts.push(a));
    m.callerActivity();
    clock.advance(6999);
    assert.equal(acts.length, 0);
    clock.advance(1);
    assert.deepEqual(acts[0], { type: 'check', attempt: 1, message: null });
    m.pause(); clock.advance(60_000); m.resume();
    clock.advance(12_000);
    assert.equal(acts[1]?.type, 'check');
    m.callerActivity();
    clock.advance(7000 + 12_000 + 12_000);
    assert.deepEqual(acts.map((a) => a.type), ['check', 'check', 'check', 'check', 'give-up']);
  });
  test('precedence: speech_config.silence > silence_timeout_seconds', () => {
    assert.equal(silenceOptions({ autonomous_silence_handling: false }), null);
    assert.equal(silenceOptions({ autonomous_silence_handling: true, silence_timeout_seconds: 8 })?.firstCheckMs, 8000);
    const o = silenceOptions({ silence_timeout_seconds: 8, speech_config: { silence: { first_check_seconds: 3, messages: ['Hello?'], final_message: 'Bye', max_attempts: 2 } } });
    assert.deepEqual(o, { firstCheckMs: 3000, intervalMs: 12000, maxAttempts: 2, messages: ['Hello?'], finalMessage: 'Bye' });
  });
});

describe('voicemail', () => {
  test('English and Dutch indicators, whole words only', () => {
    assert.equal(voicemailIndicator('Hi, you have reached Anna. Please leave a message after the beep.'), 'leave a message');
    assert.equal(voicemailIndicator('Spreek een bericht in na de piep'), 'spreek een bericht in');
    assert.equal(voicemailIndicator('Hello, this is John speaking'), null);
    assert.equal(voicemailIndicator('messages'), null);
  });
});
