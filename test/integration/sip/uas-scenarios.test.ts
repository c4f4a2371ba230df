import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, RtpSocket, sipp, autoAnswer, assertSippOk, media, waitFor, recordEvents } from './helpers.js';
import type { DialogEvent, IncomingCall, Dialog } from '../../../sip/index.js';
import { CallFailedError } from '../../../sip/index.js';

async function withStack<T>(opts: Parameters<typeof startStack>[0], fn: (port: number, rtp: RtpSocket) => Promise<T>, rtp = new RtpSocket()): Promise<T> {
  await rtp.bind();
  const stack = await startStack(opts);
  try {
    return await fn(stack.port('udp'), rtp);
  } finally {
    await stack.close();
    rtp.close();
  }
}


test('BYE from the engine side', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall }, async (port) => {
    const run = await sipp('uac-bye-engine.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    await d.bye();
    assert.equal(d.closeReason, 'local-bye');
    assertSippOk(await run.done);
  }, rtp);
});

test('CANCEL while ringing → 200 for CANCEL, 487 for INVITE, call sees cancelled', async () => {
  let call: IncomingCall | undefined;
  let cancelled = false;
  await withStack({ onCall: (c) => { call = c; c.on('cancelled', () => { cancelled = true; }); c.progress({ status: 180 }); } }, async (port) => {
    const run = await sipp('uac-cancel.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    assertSippOk(await run.done);
    assert.ok(call);
    assert.equal(cancelled, true);
    assert.equal(call.state, 'cancelled');
    await assert.rejects(call.answer({ media: media(4000) }), (e: unknown) => e instanceof CallFailedError && e.reason === 'cancelled');
  });
});

test('hold, inactive, resume with codec change, 488 for an unacceptable offer', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall }, async (port) => {
    const run = await sipp('uac-hold.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    const ev = recordEvents(d);
    assertSippOk(await run.done);
    await d.closed;
    const re = ev.filter((e): e is Extract<DialogEvent, { type: 'reinvite' }> => e.type === 'reinvite');
    assert.deepEqual(re.map((e) => [e.hold, e.media?.localDirection, e.media?.codec.name]), [
      [true, 'recvonly', 'PCMU'], [true, 'inactive', 'PCMU'], [false, 'sendrecv', 'PCMA'],
    ]);
    assert.equal(d.media?.codec.name, 'PCMA', 'the 488 left the session as it was');
    assert.equal(d.closeReason, 'remote-bye');
  }, rtp);
});

test('late offer: offer in our 200, answer in the ACK', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall }, async (port) => {
    const run = await sipp('uac-lateoffer.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    assert.equal(aa.calls[0]?.remoteSdp, undefined);
    assert.equal(d.media?.codec.name, 'PCMA');
    assert.equal(d.media?.codec.payloadType, 8);
    assertSippOk(await run.done);
  }, rtp);
});

test('UPDATE with SDP (hold) and UPDATE refresh without SDP', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall }, async (port) => {
    const run = await sipp('uac-update.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    const ev = recordEvents(d);
    assertSippOk(await run.done);
    await d.closed;
    const types = ev.map((e) => e.type);
    assert.ok(types.includes('update'));
    assert.ok(types.includes('session-refresh'));
    const up = ev.find((e) => e.type === 'update') as Extract<DialogEvent, { type: 'update' }>;
    assert.equal(up.hold, true);
    assert.equal(up.media?.localDirection, 'recvonly');
  }, rtp);
});

test('session timer: 422 below Min-SE, then the engine refreshes as refresher=uas', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall, sessionTimer: { minSE: 2 } }, async (port) => {
    const run = await sipp('uac-timer.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    const ev = recordEvents(d);
    assert.deepEqual(d.sessionTimer, { interval: 4, refresher: 'local' });
    assertSippOk(await run.done);
    await d.closed;
    assert.ok(ev.filter((e) => e.type === 'session-refresh' && e.by === 'local').length >= 2);
    assert.equal(d.closeReason, 'remote-bye');
  }, rtp);
});

test('100rel: reliable 180, PRACK, then 200', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  let dialog: Dialog | undefined;
  let pracks = 0;
  const stack = await startStack({
    onCall: (c) => {
      c.on('prack', () => { pracks++; });
      c.progress({ status: 180 });
      void c.answer({ media: media(rtp.port) }).then((d) => { dialog = d; });
    },
  });
  try {
    const run = await sipp('uac-100rel.xml', { remote: `127.0.0.1:${stack.port('udp')}`, args: ['-s', '+14155550100'] });
    assertSippOk(await run.done);
    assert.equal(pracks, 1);
    const d = await waitFor(() => dialog);
    await d.closed;
  } finally {
    await stack.close();
    rtp.close();
  }
});

test('REFER to a tel: URI kept exactly, NOTIFY progress reported, then BYE', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall }, async (port) => {
    const run = await sipp('uac-refer.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    const ev = recordEvents(d);
    const result = await d.refer('tel:+15550100');
    assert.deepEqual(result, { accepted: true, status: 200, reason: 'OK' });
    assert.deepEqual(ev.filter((e) => e.type === 'refer-progress').map((e) => (e as { status: number }).status), [100, 200]);
    await d.bye();
    assertSippOk(await run.done);
  }, rtp);
});

test('session timer: the caller is the refresher but never refreshes → the engine ends the call (session-expired)', async () => {
  const rtp = new RtpSocket();
  const aa = autoAnswer(rtp);
  await withStack({ onCall: aa.onCall, sessionTimer: { minSE: 2 } }, async (port) => {
    const run = await sipp('uac-timer-expire.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    const d = await aa.next();
    assert.deepEqual(d.sessionTimer, { interval: 3, refresher: 'remote' });
    assert.equal(await d.closed, 'session-expired');
    assertSippOk(await run.done);
  }, rtp);
});
