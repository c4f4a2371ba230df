import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { LocalTts } from '../../../engine/providers/local/tts.js';
import { listLocalVoices, isLocalTtsAvailable } from '../../../engine/providers/local/voices.js';
import { ProviderError } from '../../../engine/providers/errors.js';
import { decodeFrom, rms } from '../../../engine/providers/audio.js';
import type { TtsEvent } from '../../../engine/providers/tts.js';

const have = spawnSync('espeak-ng', ['--version']).status === 0;

describe('local TTS (espeak-ng as a child process)', () => {
  test('espeak-ng is installed (CI installs it with apt-get install espeak-ng)', () => {
    assert.ok(have, 'espeak-ng is missing: apt-get install -y espeak-ng');
  });

  test('lists voices with stable ids, sorted by language then name', async () => {
    assert.equal(await isLocalTtsAvailable(), true);
    const { available, voices } = await listLocalVoices();
    assert.equal(available, true);
    assert.ok(voices.length > 30);
    const en = voices.find((v) => v.id === 'espeak-en-us');
    assert.ok(en && en.language === 'en' && en.name.length > 0);
    const nl = voices.find((v) => v.id === 'espeak-nl');
    assert.ok(nl && nl.language === 'nl');
    for (let i = 1; i < voices.length; i++) assert.ok(voices[i - 1]!.language.localeCompare(voices[i]!.language) <= 0);
    assert.equal(new Set(voices.map((v) => v.id)).size, voices.length);
    assert.deepEqual(await listLocalVoices('/nonexistent/espeak-ng'), { available: false, voices: [] });
  });

  test('speaks pushed text in the call format with alignment; unknown voices and missing binary are refused', async () => {
    const tts = new LocalTts();
    const s = await tts.stream({ voiceId: 'espeak-en-us', outputFormat: 'ulaw_8000' });
    const ev: TtsEvent[] = [];
    const done = (async () => { for await (const e of s) ev.push(e); })();
    s.pushText('Hello there. How ');
    s.pushText('are you today?');
    s.flush();
    await done;
    const audio = Buffer.concat(ev.flatMap((e) => (e.type === 'audio' ? [e.audio] : [])));
    const { pcm } = decodeFrom(audio, 'ulaw_8000');
    assert.ok(pcm.length > 8000 && rms(pcm) > 300);
    assert.equal(ev.flatMap((e) => (e.type === 'audio' && e.alignment ? e.alignment.chars : [])).join(''), 'Hello there.How are you today?');
    const last = ev.at(-1);
    assert.ok(last && last.type === 'done' && Math.abs(last.totalMs - pcm.length / 8) < 2);
    const one: TtsEvent[] = [];
    for await (const e of tts.synthesize('Goedemiddag.', { voiceId: 'espeak-nl', outputFormat: 'pcm_16000' })) one.push(e);
    assert.ok(one.some((e) => e.type === 'audio' && e.format === 'pcm_16000'));
    await assert.rejects(tts.stream({ voiceId: 'nl_NL-pim-medium', outputFormat: 'ulaw_8000' }), (e: unknown) => e instanceof ProviderError && e.code === 'bad_request');
    await assert.rejects(new LocalTts({ bin: '/nonexistent/espeak-ng' }).stream({ voiceId: 'espeak-en-us', outputFormat: 'ulaw_8000' }), (e: unknown) => e instanceof ProviderError && e.code === 'unavailable');
  });

  test('abort stops synthesis and ends the stream', async () => {
    const ac = new AbortController();
    const s = await new LocalTts().stream({ voiceId: 'espeak-en-us', outputFormat: 'pcm_16000' }, ac.signal);
    s.pushText('This is a long sentence that will be cut off by the abort signal before it ends. And another one.');
    s.flush();
    const ev: TtsEvent[] = [];
    for await (const e of s) { ev.push(e); ac.abort(); }
    assert.equal(ev.length, 1);
  });
});
