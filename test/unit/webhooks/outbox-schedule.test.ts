import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDb } from '../../../engine/store/db.js';
import { SecretBox } from '../../../engine/store/secrets.js';
import { OutboxRepo } from '../../../engine/store/repos/outbox.js';
import { WebhookOutbox, buildStatusUpdate, type DeliveryEvent, type Timers } from '../../../engine/webhooks/index.js';

/** A manual clock and timer queue: nothing fires until `advanceTo`. */
class FakeClock implements Timers {
  t = Date.parse('2025-12-13T12:00:00.000Z');
  #seq = 0;
  queue = new Map<number, { at: number; ms: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.queue.set(id, { at: this.t + ms, ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.queue.delete(h as number);
  }
  /** The delays of the armed timers. */
  armed(): number[] {
    return [...this.queue.values()].map((q) => q.ms);
  }
  /** Moves the clock and fires due timers; lets I/O callbacks (the fake fetch) run in between. */
  async advanceTo(t: number): Promise<void> {
    this.t = Math.max(this.t, t);
    for (let i = 0; i < 50; i++) {
      const due = [...this.queue.entries()].filter(([, q]) => q.at <= this.t).sort((a, b) => a[1].at - b[1].at);
      for (const [id, q] of due) {
        this.queue.delete(id);
        q.fn();
      }
      await new Promise((r) => setImmediate(r));
    }
  }
}

const ctx = {
  call: { id: 'call-x', type: 'web_call' as const, pipeline: 'standard' as const },
  phoneNumber: { id: null, number: null, name: null }, customer: { number: null }, assistant: {},
};

function setup(random: number, statuses: number[]) {
  const repo = new OutboxRepo(openDb(':memory:'), new SecretBox(randomBytes(32)));
  const clock = new FakeClock();
  const events: DeliveryEvent[] = [];
  const sent: { at: number; attempt: string | null; ts: string | null }[] = [];
  const fetchFn: typeof fetch = async (_url, init) => {
    const h = new Headers(init?.headers);
    sent.push({ at: clock.t, attempt: h.get('x-webhook-attempt'), ts: h.get('x-webhook-timestamp') });
    return new Response(null, { status: statuses.shift() ?? 200 });
  };
  // Production defaults: backoff, jitter, timeout; only the clock, timers and randomness are injected.
  const ob = new WebhookOutbox({ repo, allowHttp: false, fetch: fetchFn, now: clock.now, timers: clock, random: () => random, pollMs: 3_600_000, onDelivery: (e) => events.push(e) });
  return { repo, clock, events, sent, ob };
}

test('production backoff: 2 s, 10 s, 60 s scaled by the jitter, then failed', async () => {
  const { clock, events, sent, ob, repo } = setup(0.75, [503, 503, 503, 503]); // factor 1 + 0.2 * 0.5 = 1.1
  ob.start();
  const t0 = clock.t;
  const id = ob.enqueue({ orgId: 'o', callId: 'call-x', target: { url: 'https://hooks.example/x', secret: 's', source: 'assistant' }, payload: buildStatusUpdate(ctx, { status: 'in-progress' }) });
  await clock.advanceTo(t0);
  assert.equal(sent.length, 1);
  assert.deepEqual(clock.armed(), [2_200], 'the loop sleeps exactly until the retry');
  await clock.advanceTo(t0 + 2_199);
  assert.equal(sent.length, 1, 'not before its time');
  await clock.advanceTo(t0 + 2_200);
  assert.equal(sent.length, 2);
  await clock.advanceTo(t0 + 2_200 + 11_000);
  assert.equal(sent.length, 3);
  await clock.advanceTo(t0 + 2_200 + 11_000 + 66_000);
  assert.equal(sent.length, 4);
  assert.deepEqual(sent.map((s) => s.at - t0), [0, 2_200, 13_200, 79_200]);
  assert.deepEqual(sent.map((s) => s.attempt), ['1', '2', '3', '4']);
  assert.deepEqual(sent.map((s) => Number(s.ts) - Math.floor(t0 / 1000)), [0, 2, 13, 79], 're-signed with a fresh timestamp');
  assert.deepEqual(events.map((e) => e.type), ['retry-scheduled', 'retry-scheduled', 'retry-scheduled', 'failed']);
  assert.equal(repo.get(id)?.status, 'failed');
  assert.deepEqual(clock.armed(), [3_600_000], 'nothing left to wait for but the safety poll');
  await ob.close();
});

test('jitter bounds: ±20 %', async () => {
  for (const [r, first] of [[0, 1_600], [0.999999, 2_400]] as const) {
    const { clock, events, ob } = setup(r, [500]);
    ob.start();
    ob.enqueue({ orgId: 'o', callId: null, target: { url: 'https://h/x', secret: null, source: 'organization' }, payload: buildStatusUpdate(ctx, { status: 'in-progress' }) });
    const t0 = clock.t;
    await clock.advanceTo(t0);
    const e = events[0];
    assert.equal(e?.type, 'retry-scheduled');
    assert.equal(e?.type === 'retry-scheduled' && Date.parse(e.nextAttemptAt) - t0, first);
    await ob.close();
  }
});

test('close() is idempotent and start() after close() does nothing', async () => {
  const { clock, sent, ob } = setup(0.5, []);
  await ob.close();
  await ob.close();
  ob.start();
  ob.enqueue({ orgId: 'o', callId: null, target: { url: 'https://h/x', secret: null, source: 'organization' }, payload: buildStatusUpdate(ctx, { status: 'in-progress' }) });
  await clock.advanceTo(clock.t + 1000);
  assert.equal(sent.length, 0);
});
