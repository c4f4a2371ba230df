import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import type { LocalVoice } from '../../../engine/api/deps.js';
import { localVoiceCatalog } from '../../../engine/voices.js';

type Obj = Record<string, any>;

const XAI = [
  { id: 'ara', name: 'Ara', style: 'Warm and friendly' },
  { id: 'rex', name: 'Rex', style: 'Confident and clear' },
  { id: 'sal', name: 'Sal', style: 'Smooth and balanced' },
  { id: 'eve', name: 'Eve', style: 'Energetic and upbeat' },
  { id: 'leo', name: 'Leo', style: 'Authoritative and calm' },
];

const UNSORTED: LocalVoice[] = [
  { id: 'nl_NL-pim-medium', name: 'Pim', language: 'nl', description: { en: 'Pim (Dutch)', nl: 'Pim (Nederlands)' } },
  { id: 'en-us', name: 'English (America)', language: 'en' },
  { id: 'nl_NL-anna', name: 'Anna', language: 'nl' },
  { id: 'de', name: 'German', language: 'de' },
  { id: 'en-gb', name: 'English (Great Britain)', language: 'en' },
];

describe('voices API (spec §3.8, §4.16)', () => {
  let t: TestEngine;
  let off: TestEngine;
  before(async () => {
    t = await startTestEngine({ parts: { voices: { listLocalVoices: async () => ({ available: true, voices: UNSORTED }) } } });
    off = await startTestEngine({ parts: { voices: { listLocalVoices: async () => ({ available: false, voices: [] }) } } });
  });
  after(async () => { await t.close(); await off.close(); });

  test('local voices sorted by language then name, the five realtime voices, local_tts available', async () => {
    const r = await api<Obj>(t, 'GET', '/voices');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['local_tts', 'voices', 'xai_realtime_voices']);
    assert.deepEqual(r.body.voices.map((v: Obj) => v.id), ['de', 'en-us', 'en-gb', 'nl_NL-anna', 'nl_NL-pim-medium']);
    assert.deepEqual(r.body.voices[4], UNSORTED[0]);
    assert.deepEqual(r.body.xai_realtime_voices, XAI);
    assert.deepEqual(r.body.local_tts, { available: true });
  });

  test('without a local TTS: no voices and the reason', async () => {
    const r = await api<Obj>(off, 'GET', '/voices');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      voices: [], xai_realtime_voices: XAI, local_tts: { available: false, reason: 'espeak-ng is not installed' },
    });
  });

  test('the real catalogue: espeak-ng voices (espeak-ng must be installed: apt-get install espeak-ng)', async () => {
    const real = await startTestEngine({ parts: { voices: localVoiceCatalog() } });
    try {
      const r = await api<Obj>(real, 'GET', '/voices');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.local_tts, { available: true }, 'espeak-ng is required for this test: apt-get install espeak-ng');
      const voices = r.body.voices as Obj[];
      assert.ok(voices.length > 20, `espeak-ng lists many voices (got ${voices.length})`);
      assert.ok(voices.some((v) => v.language === 'en'));
      assert.ok(voices.some((v) => v.language === 'nl'));
      for (let i = 1; i < voices.length; i++) {
        const [a, b] = [voices[i - 1] as Obj, voices[i] as Obj];
        assert.ok(a.language.localeCompare(b.language, 'en') < 0 || (a.language === b.language && a.name.localeCompare(b.name, 'en') <= 0), `sorted at ${i}`);
      }
      for (const v of voices) assert.ok(typeof v.id === 'string' && typeof v.name === 'string' && typeof v.language === 'string');
    } finally {
      await real.close();
    }
  });

  test('a failing catalogue still answers with the realtime voices', async () => {
    const broken = await startTestEngine({ parts: { voices: { listLocalVoices: async () => { throw new Error('boom'); } } } });
    try {
      const r = await api<Obj>(broken, 'GET', '/voices');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.voices, []);
      assert.deepEqual(r.body.xai_realtime_voices, XAI);
      assert.deepEqual(r.body.local_tts, { available: false, reason: 'the local voice catalogue could not be read: boom' });
    } finally {
      await broken.close();
    }
  });

  test('needs a key', async () => {
    const r = await api<Obj>(t, 'GET', '/voices', undefined, { key: null });
    assert.equal(r.status, 401);
  });
});
