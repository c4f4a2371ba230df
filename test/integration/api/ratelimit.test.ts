import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine, type Res } from '../../helpers/engine.js';

type Obj = Record<string, any>;

/** Checks the three X-RateLimit-* headers; returns the remaining count. */
function limitHeaders(r: Res<Obj>, limit: number, nowMs: number): number {
  assert.equal(r.headers.get('x-ratelimit-limit'), String(limit));
  const remaining = Number(r.headers.get('x-ratelimit-remaining'));
  assert.ok(Number.isInteger(remaining) && remaining >= 0 && remaining <= limit, `remaining ${remaining}`);
  const reset = Number(r.headers.get('x-ratelimit-reset'));
  const nowSec = nowMs / 1000;
  assert.ok(Number.isInteger(reset) && reset > nowSec - 1 && reset <= Math.ceil(nowSec) + 61, `reset ${reset} is a Unix time within the next minute`);
  return remaining;
}

describe('rate limits (spec §2.7, §10)', () => {
  let t: TestEngine;
  let clock = 0;
  before(async () => {
    // A manual clock drives the limiter's windows so the test never waits for a real minute.
    clock = Date.now();
    t = await startTestEngine({ env: { API_RATE_LIMIT: '5' }, parts: { now: () => clock } });
  });
  after(async () => { await t.close(); });

  test('five requests pass with counting headers; the sixth is 429 with Retry-After and retry_after', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await api<Obj>(t, 'GET', '/assistants');
      assert.equal(r.status, 200, `request ${i + 1}`);
      seen.push(limitHeaders(r, 5, clock));
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0]);
    const over = await api<Obj>(t, 'GET', '/assistants');
    assert.equal(over.status, 429);
    assert.equal(limitHeaders(over, 5, clock), 0);
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.deepEqual(over.body, {
      error: 'Too Many Requests',
      message: `Too many requests. Please retry after ${retry} seconds.`,
      code: 'rate_limit_exceeded',
      type: 'rate_limit_error',
      retry_after: retry,
    });
    // Writes are refused too, and nothing is written.
    const w = await api<Obj>(t, 'POST', '/assistants', { name: 'Over the limit' });
    assert.equal(w.status, 429);

    // /health is exempt: it answers and carries no limit headers.
    const h = await api<Obj>(t, 'GET', '/health', undefined, { key: null });
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('x-ratelimit-limit'), null);
    const h2 = await api<Obj>(t, 'GET', '/health');
    assert.equal(h2.status, 200);

    // The window ends: the key may call again with a fresh budget.
    clock += 61_000;
    const again = await api<Obj>(t, 'GET', '/assistants');
    assert.equal(again.status, 200);
    assert.equal(limitHeaders(again, 5, clock), 4);
    assert.ok(!(again.body.assistants as Obj[]).some((a) => a.name === 'Over the limit'));
  });

  test('the limit is per API key', async () => {
    clock += 61_000;
    const other = (await api<Obj>(t, 'POST', '/organizations', { name: 'Other' })).body;
    for (let i = 0; i < 4; i++) assert.equal((await api<Obj>(t, 'GET', '/byok')).status, 200);
    assert.equal((await api<Obj>(t, 'GET', '/byok')).status, 429);
    const o = { url: t.url, key: other.api_key as string };
    const r = await api<Obj>(o, 'GET', '/byok');
    assert.equal(r.status, 200);
    assert.equal(limitHeaders(r, 5, clock), 4);
  });

  test('error answers count and carry the headers too', async () => {
    clock += 61_000;
    const nf = await api<Obj>(t, 'GET', '/assistants/00000000-0000-4000-8000-000000000000');
    assert.equal(nf.status, 404);
    assert.equal(limitHeaders(nf, 5, clock), 4);
    const bad = await api<Obj>(t, 'POST', '/byok', { provider: 'nope', api_key: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(limitHeaders(bad, 5, clock), 3);
  });
});
