import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError, codeForStatus, withRetry } from '../../../engine/providers/errors.js';
import { clampTurnDetection } from '../../../engine/providers/realtime.js';
import { EventQueue } from '../../../engine/providers/queue.js';
import { isLlmProvider, isTtsProvider, llmProviders, sttProviders, ttsProviders, realtimeProviders, credentialVendor } from '../../../engine/providers/index.js';
import { parseEspeakVoices } from '../../../engine/providers/local/voices.js';

describe('provider errors, retry, clamping, factory map', () => {
  test('status codes map to codes; retryable follows the code', () => {
    assert.equal(codeForStatus(401), 'auth');
    assert.equal(codeForStatus(403), 'auth');
    assert.equal(codeForStatus(404), 'bad_request');
    assert.equal(codeForStatus(429), 'rate_limited');
    assert.equal(codeForStatus(503), 'server');
    assert.equal(new ProviderError({ provider: 'openai', code: 'server', message: 'x' }).retryable, true);
    assert.equal(new ProviderError({ provider: 'openai', code: 'auth', message: 'x' }).retryable, false);
    assert.equal(new ProviderError({ provider: 'openai', code: 'auth', message: 'x', retryable: true }).retryable, true);
  });

  test('withRetry retries retryable errors only, up to the attempt limit', async () => {
    let n = 0;
    const v = await withRetry(async () => { if (++n < 3) throw new ProviderError({ provider: 'deepgram', code: 'network', message: 'x' }); return 'ok'; }, { baseDelayMs: 1 });
    assert.equal(v, 'ok');
    assert.equal(n, 3);
    n = 0;
    await assert.rejects(withRetry(async () => { n++; throw new ProviderError({ provider: 'deepgram', code: 'timeout', message: 'x' }); }, { baseDelayMs: 1, attempts: 2 }), (e: unknown) => e instanceof ProviderError && e.code === 'timeout');
    assert.equal(n, 2);
    n = 0;
    await assert.rejects(withRetry(async () => { n++; throw new TypeError('bug'); }, { baseDelayMs: 1 }), TypeError);
    assert.equal(n, 1);
  });

  test('turn_detection is clamped to the spec ranges (§4.2)', () => {
    assert.deepEqual(clampTurnDetection(undefined), { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 200 });
    assert.deepEqual(clampTurnDetection({ threshold: -1, prefixPaddingMs: 5000, silenceDurationMs: 10, idleTimeoutMs: 99_999 }), { threshold: 0, prefixPaddingMs: 2000, silenceDurationMs: 100, idleTimeoutMs: 30_000 });
    assert.deepEqual(clampTurnDetection({ silenceDurationMs: 700, idleTimeoutMs: 0 }), { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 700 });
  });

  test('the factory maps are keyed by config provider strings', () => {
    assert.deepEqual(Object.keys(sttProviders), ['deepgram']);
    assert.deepEqual(Object.keys(llmProviders).sort(), ['mistral', 'openai', 'xai']);
    assert.deepEqual(Object.keys(ttsProviders).sort(), ['11labs', 'elevenlabs', 'local']);
    assert.deepEqual(Object.keys(realtimeProviders), ['xai_realtime']);
    assert.equal(isLlmProvider('xai'), true);
    assert.equal(isLlmProvider('toString'), false);
    assert.equal(isTtsProvider('local'), true);
    assert.equal(credentialVendor.xai_realtime, 'xai');
    assert.equal(llmProviders.xai({ apiKey: 'k' }).provider, 'xai');
  });

  test('espeak-ng voice list parsing gives stable ids', () => {
    const out = 'Pty Language       Age/Gender VoiceName          File                 Other Languages\n 5  en-us           --/M      English_(America)  gmw/en-US            (en 10)\n 5  nl              --/M      Dutch              gmw/nl               \n 5  af              --/M      Afrikaans          gmw/af               \n';
    assert.deepEqual(parseEspeakVoices(out).map((v) => [v.id, v.name, v.language]), [['espeak-af', 'Afrikaans', 'af'], ['espeak-en-us', 'English (America)', 'en'], ['espeak-nl', 'Dutch', 'nl']]);
  });

  test('EventQueue delivers in order, then ends or throws', async () => {
    const q = new EventQueue<number>();
    q.push(1); q.push(2);
    setTimeout(() => { q.push(3); q.fail(new Error('boom')); }, 5);
    const got: number[] = [];
    await assert.rejects((async () => { for await (const n of q) got.push(n); })(), /boom/);
    assert.deepEqual(got, [1, 2, 3]);
  });
});
