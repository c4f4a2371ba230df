import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';
import type { LocalVoice } from '../../../engine/api/deps.js';

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

  test('needs a key', async () => {
    const r = await api<Obj>(t, 'GET', '/voices', undefined, { key: null });
    assert.equal(r.status, 401);
  });
});
