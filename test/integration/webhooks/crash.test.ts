import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebhookOutbox, type DeliveryEvent } from '../../../engine/webhooks/index.js';
import { Receiver, header } from './receiver.js';
import { openStore, sleep, tempDir, until } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/** Runs the child until it printed the row id (and `ready` holds), then SIGKILLs it. */
async function crashAfter(dataDir: string, url: string, mode: 'enqueue' | 'attempt', ready: () => boolean): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, url, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    await until(() => out.includes('\n') && ready(), 'the child to write the event', 30_000);
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
  return out.trim();
}

test('killed (SIGKILL) after writing the report: the next process delivers it exactly once', async () => {
  const rx = await Receiver.start();
  rx.secret('/eocr', 'whsec_crash');
  const tmp = tempDir();
  try {
    const id = await crashAfter(tmp.dir, rx.url + '/eocr', 'enqueue', () => true);
    assert.equal(rx.received.length, 0);
    const store = openStore(tmp.dir);
    const events: DeliveryEvent[] = [];
    const ob = new WebhookOutbox({ repo: store.outbox, allowHttp: true, onDelivery: (e) => events.push(e) });
    ob.start();
    await until(() => events.length > 0, 'delivery after the crash');
    await sleep(200);
    await ob.close();
    assert.equal(rx.received.length, 1);
    const r = rx.received[0]!;
    assert.equal(header(r, 'x-webhook-id'), id);
    assert.equal(header(r, 'x-webhook-event'), 'end-of-call-report');
    assert.deepEqual(r.verified, { ok: true });
    assert.equal(((r.json as { message: { end_reason: string } }).message).end_reason, 'error');
    assert.equal(store.outbox.get(id)?.status, 'delivered');
    store.close();
  } finally {
    await rx.close();
    tmp.remove();
  }
});

test('killed during an attempt: resent after restart with the same X-Webhook-Id (receivers dedupe on it)', async () => {
  const rx = await Receiver.start();
  rx.secret('/eocr', 'whsec_crash');
  rx.respond((r) => (r.index === 0 ? { status: 200, delayMs: 30_000 } : { status: 200 }));
  const tmp = tempDir();
  try {
    const id = await crashAfter(tmp.dir, rx.url + '/eocr', 'attempt', () => rx.received.length === 1);
    const store = openStore(tmp.dir);
    assert.equal(store.outbox.get(id)?.status, 'pending');
    const events: DeliveryEvent[] = [];
    const ob = new WebhookOutbox({ repo: store.outbox, allowHttp: true, onDelivery: (e) => events.push(e) });
    ob.start();
    await until(() => events.length > 0, 'delivery after the crash');
    await ob.close();
    assert.equal(rx.received.length, 2);
    assert.deepEqual(rx.received.map((r) => header(r, 'x-webhook-id')), [id, id]);
    assert.deepEqual(rx.received[1]!.verified, { ok: true });
    assert.equal(store.outbox.get(id)?.status, 'delivered');
    store.close();
  } finally {
    await rx.close();
    tmp.remove();
  }
});
