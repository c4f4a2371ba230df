import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../../engine/store/index.js';
import {
  WebhookOutbox, buildEndOfCallReport, buildStatusUpdate, sign, type DeliveryEvent, type JsonObject, type WebhookOutboxOptions,
} from '../../../engine/webhooks/index.js';
import { Receiver, header } from './receiver.js';
import { context, openStore, sleep, tempDir, until } from './helpers.js';

const ORG = 'org-test';

describe('WebhookOutbox against a real receiver', () => {
  let rx: Receiver;
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  const outboxes: WebhookOutbox[] = [];

  before(async () => {
    rx = await Receiver.start();
    tmp = tempDir();
    store = openStore(tmp.dir);
  });
  after(async () => {
    for (const o of outboxes) await o.close({ abort: true });
    store.close();
    await rx.close();
    tmp.remove();
  });

  /** One running outbox at a time on the shared store (two would compete for the same rows). */
  async function outbox(opts: Partial<WebhookOutboxOptions> = {}): Promise<{ ob: WebhookOutbox; events: DeliveryEvent[] }> {
    for (const o of outboxes.splice(0)) await o.close({ abort: true });
    const events: DeliveryEvent[] = [];
    const ob = new WebhookOutbox({
      repo: store.outbox, allowHttp: true, backoffMs: [20, 40, 60], jitter: 0, pollMs: 50,
      onDelivery: (e) => events.push(e), ...opts,
    });
    outboxes.push(ob);
    ob.start();
    return { ob, events };
  }
  const assistant = (path: string, extra: JsonObject = {}): JsonObject => ({
    id: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'Support', webhook_url: rx.url + path, webhook_secret: 'whsec_test', ...extra,
  });
  const statusEvent = (callId: string, a: JsonObject) => buildStatusUpdate(context(callId, a), { status: 'in-progress' });
  const settled = (events: DeliveryEvent[], id: string) => (): boolean => events.some((e) => e.id === id && e.type !== 'retry-scheduled');

  test('headers, signature over the exact bytes, id and attempt', async () => {
    rx.secret('/h1', 'whsec_test');
    const { ob, events } = await outbox();
    const a = assistant('/h1', { metadata: { crm: 42 } });
    const id = ob.dispatch({ orgId: ORG, callId: 'call-h1', assistant: a, org: null, payload: statusEvent('call-h1', a) });
    assert.ok(id);
    await until(settled(events, id), 'delivery');
    const [r] = rx.on('/h1');
    assert.ok(r);
    assert.equal(r.method, 'POST');
    assert.equal(header(r, 'content-type'), 'application/json');
    assert.equal(header(r, 'user-agent'), 'VoiceEngine/1.0');
    assert.equal(header(r, 'x-webhook-event'), 'status-update');
    assert.equal(header(r, 'x-webhook-id'), id);
    assert.equal(header(r, 'x-webhook-attempt'), '1');
    const ts = header(r, 'x-webhook-timestamp') ?? '';
    assert.match(ts, /^\d+$/);
    assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 300);
    assert.equal(header(r, 'x-webhook-signature'), sign('whsec_test', Number(ts), r.raw));
    assert.deepEqual(r.verified, { ok: true });
    const row = store.outbox.get(id);
    assert.equal(r.raw.toString('utf8'), row?.body, 'the stored bytes are the sent bytes');
    assert.equal(row?.status, 'delivered');
    assert.equal(row?.attempts, 1);
    const msg = (r.json as { message: JsonObject }).message;
    assert.equal(msg.type, 'status-update');
    assert.deepEqual(msg.call, { id: 'call-h1', type: 'inbound_phone_call', status: 'in-progress', pipeline: 'standard' });
    const asst = msg.assistant as JsonObject;
    assert.equal(asst.webhook_secret, undefined);
    assert.deepEqual(asst.metadata, { crm: 42 });
  });

  test('no secret at the resolved level: sent unsigned to the organization webhook', async () => {
    const { ob, events } = await outbox();
    const a = { id: null, name: 'transient', webhook_secret: 'belongs-to-no-url' };
    const id = ob.dispatch({
      orgId: ORG, callId: 'call-org', assistant: a, org: { webhook_url: rx.url + '/org', webhook_secret: null }, payload: statusEvent('call-org', a),
    });
    assert.ok(id);
    await until(settled(events, id), 'delivery');
    const [r] = rx.on('/org');
    assert.ok(r);
    assert.equal(header(r, 'x-webhook-signature'), undefined);
    assert.equal(header(r, 'x-webhook-event'), 'status-update');
  });

  test('webhook_events filter: an excluded event is not written at all', async () => {
    const { ob } = await outbox();
    const a = assistant('/filtered', { webhook_events: ['end-of-call-report'] });
    assert.equal(ob.dispatch({ orgId: ORG, callId: 'call-f', assistant: a, org: null, payload: statusEvent('call-f', a) }), null);
    assert.equal(store.outbox.forCall('call-f').length, 0);
  });

  test('500 then 200: retried with the same id, a new attempt number and a fresh signed timestamp', async () => {
    rx.secret('/r500', 'whsec_test');
    let skewMs = 0;
    rx.respond((r) => {
      if (r.path !== '/r500' || rx.on('/r500').length !== 1) return { status: 200 };
      skewMs = 7_000; // the engine's clock moves on before the retry is signed
      return { status: 500 };
    });
    const { ob, events } = await outbox({ now: () => Date.now() + skewMs });
    const a = assistant('/r500');
    const id = ob.dispatch({ orgId: ORG, callId: 'call-r500', assistant: a, org: null, payload: statusEvent('call-r500', a) });
    assert.ok(id);
    await until(settled(events, id), 'delivery');
    const got = rx.on('/r500');
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((r) => header(r, 'x-webhook-id')), [id, id]);
    assert.deepEqual(got.map((r) => header(r, 'x-webhook-attempt')), ['1', '2']);
    assert.ok(Number(header(got[1]!, 'x-webhook-timestamp')) - Number(header(got[0]!, 'x-webhook-timestamp')) >= 6);
    for (const r of got) assert.deepEqual(r.verified, { ok: true });
    assert.ok(got[0]!.raw.equals(got[1]!.raw), 'same body bytes on every attempt');
    assert.equal(store.outbox.get(id)?.status, 'delivered');
    assert.equal(store.outbox.get(id)?.attempts, 2);
    rx.respond(() => ({ status: 200 }));
  });

  test('404 is not retried', async () => {
    rx.respond((r) => (r.path === '/r404' ? { status: 404 } : { status: 200 }));
    const { ob, events } = await outbox();
    const a = assistant('/r404');
    const id = ob.dispatch({ orgId: ORG, callId: 'call-r404', assistant: a, org: null, payload: statusEvent('call-r404', a) });
    assert.ok(id);
    await until(settled(events, id), 'final outcome');
    await sleep(200); // a retry would come after 20 ms
    assert.equal(rx.on('/r404').length, 1);
    const row = store.outbox.get(id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.last_error, 'HTTP 404');
    rx.respond(() => ({ status: 200 }));
  });

  test('429 is retried, three retries at most, then failed', async () => {
    rx.respond((r) => (r.path === '/r429' ? { status: 429 } : { status: 200 }));
    const { ob, events } = await outbox();
    const a = assistant('/r429');
    const id = ob.dispatch({ orgId: ORG, callId: 'call-r429', assistant: a, org: null, payload: statusEvent('call-r429', a) });
    assert.ok(id);
    await until(settled(events, id), 'final outcome');
    await sleep(200);
    assert.deepEqual(rx.on('/r429').map((r) => header(r, 'x-webhook-attempt')), ['1', '2', '3', '4']);
    assert.deepEqual(events.filter((e) => e.id === id).map((e) => e.type), ['retry-scheduled', 'retry-scheduled', 'retry-scheduled', 'failed']);
    assert.equal(store.outbox.get(id)?.status, 'failed');
    assert.equal(store.outbox.get(id)?.attempts, 4);
    rx.respond(() => ({ status: 200 }));
  });

  test('a timeout is retried', async () => {
    rx.respond((r) => (r.path === '/slow' && rx.on('/slow').length === 1 ? { status: 200, delayMs: 30_000 } : { status: 200 }));
    const { ob, events } = await outbox({ timeoutMs: 1_000, backoffMs: Array(10).fill(20) });
    const a = assistant('/slow');
    const id = ob.dispatch({ orgId: ORG, callId: 'call-slow', assistant: a, org: null, payload: statusEvent('call-slow', a) });
    assert.ok(id);
    await until(settled(events, id), 'delivery');
    const first = events.find((e) => e.id === id);
    assert.equal(first?.type, 'retry-scheduled');
    assert.match(first?.type === 'retry-scheduled' ? first.error : '', /^timeout:/);
    assert.equal(events.filter((e) => e.id === id).at(-1)?.type, 'delivered');
    assert.equal(rx.on('/slow').length, events.filter((e) => e.id === id).length, 'one request per attempt');
    rx.respond(() => ({ status: 200 }));
  });

  test('a refused connection is retried, then failed', async () => {
    const dead = await Receiver.start();
    const url = dead.url;
    await dead.close();
    const { ob, events } = await outbox();
    const id = ob.enqueue({
      orgId: ORG, callId: 'call-dead', target: { url: url + '/x', secret: null, source: 'assistant' }, payload: statusEvent('call-dead', {}),
    });
    await until(settled(events, id), 'final outcome');
    assert.deepEqual(events.filter((e) => e.id === id).map((e) => e.type), ['retry-scheduled', 'retry-scheduled', 'retry-scheduled', 'failed']);
    assert.match(store.outbox.get(id)?.last_error ?? '', /^network:/);
  });

  test('redirects are not followed', async () => {
    rx.respond((r) => (r.path === '/moved' ? { status: 302, headers: { location: rx.url + '/target' } } : { status: 200 }));
    const { ob, events } = await outbox();
    const a = assistant('/moved');
    const id = ob.dispatch({ orgId: ORG, callId: 'call-moved', assistant: a, org: null, payload: statusEvent('call-moved', a) });
    assert.ok(id);
    await until(settled(events, id), 'final outcome');
    await sleep(100);
    assert.equal(rx.on('/moved').length, 1);
    assert.equal(rx.on('/target').length, 0);
    assert.equal(store.outbox.get(id)?.status, 'failed');
    assert.match(store.outbox.get(id)?.last_error ?? '', /redirect not followed/);
    rx.respond(() => ({ status: 200 }));
  });

  test('https only unless allowHttp: an http URL fails at once without a request', async () => {
    const { ob, events } = await outbox({ allowHttp: false });
    const a = assistant('/insecure');
    const id = ob.dispatch({ orgId: ORG, callId: 'call-insecure', assistant: a, org: null, payload: statusEvent('call-insecure', a) });
    assert.ok(id);
    await until(settled(events, id), 'final outcome');
    assert.equal(rx.on('/insecure').length, 0);
    assert.match(store.outbox.get(id)?.last_error ?? '', /^invalid_url:/);
  });

  test('per-call order: a later event waits for the earlier one; other calls are not blocked', async () => {
    // A's first event fails until B's event has arrived, so B can only arrive while A is retrying.
    const kind = (r: { json: unknown }): string => {
      const m = (r.json as { message: JsonObject }).message;
      return `${(m.call as JsonObject).id as string}/${m.type as string}`;
    };
    rx.respond((r) => {
      if (r.path !== '/order') return { status: 200 };
      if (kind(r) === 'call-A/status-update') return { status: rx.on('/order').some((x) => kind(x).startsWith('call-B')) ? 200 : 503 };
      return { status: 200 };
    });
    const { ob, events } = await outbox({ backoffMs: Array(10).fill(100) });
    const a = assistant('/order');
    const ctxA = context('call-A', a);
    const a1 = ob.dispatch({ orgId: ORG, callId: 'call-A', assistant: a, org: null, payload: buildStatusUpdate(ctxA, { status: 'ended', endReason: 'user_hangup' }) });
    const a2 = ob.dispatch({
      orgId: ORG, callId: 'call-A', assistant: a, org: null,
      payload: buildEndOfCallReport(ctxA, { durationSeconds: 12, summary: 'ok', messages: [{ role: 'user', content: 'hi' }], endReason: 'user_hangup' }),
    });
    assert.ok(a1 && a2);
    await until(() => events.some((e) => e.id === a1 && e.type === 'retry-scheduled'), 'A1 failing');
    const b1 = ob.dispatch({ orgId: ORG, callId: 'call-B', assistant: a, org: null, payload: statusEvent('call-B', a) });
    assert.ok(b1);
    await until(settled(events, a2), 'A2 delivered');
    const seq = rx.on('/order').map((r) => `${kind(r)}#${header(r, 'x-webhook-attempt')}`);
    const lastA1 = seq.lastIndexOf(seq.filter((s) => s.startsWith('call-A/status-update')).at(-1)!);
    assert.ok(seq.indexOf('call-B/status-update#1') < lastA1, `B arrives while A retries: ${seq.join(', ')}`);
    assert.equal(seq.indexOf('call-A/end-of-call-report#1'), seq.length - 1, `A's report comes last: ${seq.join(', ')}`);
    assert.equal(seq.filter((s) => s.startsWith('call-A/end-of-call-report')).length, 1);
    assert.equal(store.outbox.get(a1)?.status, 'delivered');
    rx.respond(() => ({ status: 200 }));
  });

  test('per-call order: a finally failed event releases the next one', async () => {
    rx.respond((r) => (r.path === '/bad' ? { status: 400 } : { status: 200 }));
    const { ob, events } = await outbox();
    const ctx = context('call-C', {});
    const c1 = ob.enqueue({ orgId: ORG, callId: 'call-C', target: { url: rx.url + '/bad', secret: null, source: 'assistant' }, payload: buildStatusUpdate(ctx, { status: 'in-progress' }) });
    const c2 = ob.enqueue({ orgId: ORG, callId: 'call-C', target: { url: rx.url + '/good', secret: null, source: 'assistant' }, payload: buildStatusUpdate(ctx, { status: 'ended' }) });
    await until(settled(events, c2), 'C2 delivered');
    assert.equal(store.outbox.get(c1)?.status, 'failed');
    assert.equal(store.outbox.get(c2)?.status, 'delivered');
    assert.ok(rx.on('/bad')[0]!.index < rx.on('/good')[0]!.index);
    rx.respond(() => ({ status: 200 }));
  });
});

describe('WebhookOutbox restart', () => {
  test('an event written before a restart is delivered once, with the same id, after it', async () => {
    const rx = await Receiver.start();
    rx.secret('/report', 'whsec_sealed');
    const tmp = tempDir();
    try {
      const s1 = openStore(tmp.dir);
      const ob1 = new WebhookOutbox({ repo: s1.outbox, allowHttp: true });
      const a = { id: null, name: 'x', webhook_url: rx.url + '/report', webhook_secret: 'whsec_sealed' };
      const id = ob1.dispatch({
        orgId: ORG, callId: 'call-crash', assistant: a, org: null,
        payload: buildEndOfCallReport(context('call-crash', a), { durationSeconds: 3, summary: '', messages: [] }),
      });
      assert.ok(id);
      await ob1.close(); // never started: nothing was attempted
      s1.close();
      assert.equal(rx.received.length, 0);

      const s2 = openStore(tmp.dir);
      const events: DeliveryEvent[] = [];
      const ob2 = new WebhookOutbox({ repo: s2.outbox, allowHttp: true, onDelivery: (e) => events.push(e) });
      ob2.start();
      await until(() => events.length > 0, 'delivery after restart');
      await sleep(200);
      await ob2.close();
      assert.equal(rx.received.length, 1);
      assert.equal(header(rx.received[0]!, 'x-webhook-id'), id);
      assert.equal(header(rx.received[0]!, 'x-webhook-event'), 'end-of-call-report');
      assert.deepEqual(rx.received[0]!.verified, { ok: true }, 'the sealed secret survives the restart');
      assert.equal(s2.outbox.get(id)?.status, 'delivered');
      s2.close();
    } finally {
      await rx.close();
      tmp.remove();
    }
  });

  test('an event that was retrying continues after a restart with the next attempt number', async () => {
    const rx = await Receiver.start();
    rx.respond(() => ({ status: 503 }));
    const tmp = tempDir();
    try {
      const s1 = openStore(tmp.dir);
      const ev1: DeliveryEvent[] = [];
      const ob1 = new WebhookOutbox({ repo: s1.outbox, allowHttp: true, backoffMs: [5_000, 5_000, 5_000], jitter: 0, onDelivery: (e) => ev1.push(e) });
      ob1.start();
      const id = ob1.enqueue({ orgId: ORG, callId: 'call-r', target: { url: rx.url + '/s', secret: null, source: 'organization' }, payload: statusEvent2('call-r') });
      await until(() => ev1.length > 0, 'first failure');
      await ob1.close({ abort: true });
      s1.close();
      rx.respond(() => ({ status: 204 }));

      const s2 = openStore(tmp.dir);
      const ev2: DeliveryEvent[] = [];
      // The restarted process starts after the retry time (5 s later by its clock).
      const ob2 = new WebhookOutbox({ repo: s2.outbox, allowHttp: true, now: () => Date.now() + 6_000, onDelivery: (e) => ev2.push(e) });
      ob2.start();
      await until(() => ev2.length > 0, 'delivery after restart');
      await ob2.close();
      assert.deepEqual(rx.received.map((r) => [header(r, 'x-webhook-id'), header(r, 'x-webhook-attempt')]), [[id, '1'], [id, '2']]);
      assert.equal(s2.outbox.get(id)?.status, 'delivered');
      s2.close();
    } finally {
      await rx.close();
      tmp.remove();
    }
  });
});

function statusEvent2(callId: string) {
  return buildStatusUpdate(context(callId, {}), { status: 'in-progress' });
}
