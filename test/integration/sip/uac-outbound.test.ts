import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, RtpSocket, sipp, assertSippOk, media, recordEvents } from './helpers.js';
import { CallFailedError } from '../../../sip/index.js';
import type { CallProgress, SipStack } from '../../../sip/index.js';

async function withOutbound(fn: (stack: SipStack, rtp: RtpSocket) => Promise<void>): Promise<void> {
  const rtp = new RtpSocket();
  await rtp.bind();
  const stack = await startStack({});
  try { await fn(stack, rtp); } finally { await stack.close(); rtp.close(); }
}

test('engine calls a sipp UAS: From user/display and P-Asserted-Identity from the number, RTP echoed, engine hangs up', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-answer.xml', { args: ['-rtp_echo'] });
    const progress: CallProgress[] = [];
    const d = await stack.placeCall({
      trunk: { id: 'trunk-1', host: '127.0.0.1', port: uas.port, pAssertedIdentity: true },
      to: '+15550111', from: { user: '+15550199', display: 'Agent' }, media: media(rtp.port),
      onProgress: (p) => progress.push(p),
    });
    assert.equal(d.direction, 'outbound');
    assert.equal(d.trunkId, 'trunk-1');
    assert.deepEqual(progress.map((p) => p.status), [180]);
    assert.equal(d.media?.codec.name, 'PCMU');
    await rtp.sendRtp(d.media!.remoteAddress, d.media!.remotePort, 10);
    await d.bye();
    assertSippOk(await uas.done);
    assert.ok(rtp.received > 0, 'RTP echoed by sipp');
  });
});

test('digest on 401 (MD5, qop=auth) verified by sipp; BYE from the callee', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-auth.xml');
    const d = await stack.placeCall({
      trunk: { host: '127.0.0.1', port: uas.port, username: 'trunkuser', password: 'trunkpass' },
      to: '+15550111', from: { user: '+15550199' }, media: media(rtp.port),
    });
    const ev = recordEvents(d);
    assert.equal(await d.closed, 'remote-bye');
    assert.deepEqual(ev.map((e) => e.type), ['bye', 'closed']);
    assertSippOk(await uas.done);
  });
});

test('busy → CallFailedError(busy, 486)', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-busy.xml');
    await assert.rejects(
      stack.placeCall({ trunk: { host: '127.0.0.1', port: uas.port }, to: '+15550111', from: { user: '+15550199' }, media: media(rtp.port) }),
      (e: unknown) => e instanceof CallFailedError && e.reason === 'busy' && e.status === 486,
    );
    assertSippOk(await uas.done);
  });
});

test('ring timeout → CANCEL → CallFailedError(no_answer)', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-noanswer.xml');
    await assert.rejects(
      stack.placeCall({ trunk: { host: '127.0.0.1', port: uas.port }, to: '+15550111', from: { user: '+15550199' }, media: media(rtp.port), ringTimeoutMs: 500 }),
      (e: unknown) => e instanceof CallFailedError && e.reason === 'no_answer',
    );
    assertSippOk(await uas.done);
  });
});

test('abort signal while ringing → CallFailedError(cancelled)', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-noanswer.xml');
    const ac = new AbortController();
    await assert.rejects(
      stack.placeCall({
        trunk: { host: '127.0.0.1', port: uas.port }, to: '+15550111', from: { user: '+15550199' }, media: media(rtp.port),
        signal: ac.signal, onProgress: (p) => { if (p.status === 180) ac.abort(); },
      }),
      (e: unknown) => e instanceof CallFailedError && e.reason === 'cancelled',
    );
    assertSippOk(await uas.done);
  });
});

test('early media from a 183 with SDP, then answer', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-earlymedia.xml');
    const progress: CallProgress[] = [];
    const d = await stack.placeCall({
      trunk: { host: '127.0.0.1', port: uas.port }, to: '+15550111', from: { user: '+15550199' }, media: media(rtp.port),
      onProgress: (p) => progress.push(p),
    });
    assert.equal(progress[0]?.status, 183);
    assert.equal(progress[0]?.earlyMedia?.codec.name, 'PCMU');
    assert.equal(progress[0]?.earlyMedia?.remotePort, uas.mediaPort);
    await d.bye();
    assertSippOk(await uas.done);
  });
});

test('unreachable trunk → CallFailedError(failed_to_connect)', async () => {
  await withOutbound(async (stack, rtp) => {
    // Short timers so Timer B fires quickly: a closed TCP port fails at once.
    await assert.rejects(
      stack.placeCall({ trunk: { host: '127.0.0.1', port: 9, transport: 'tcp' }, to: '+15550111', from: { user: '+15550199' }, media: media(rtp.port) }),
      (e: unknown) => e instanceof CallFailedError && e.reason === 'failed_to_connect',
    );
  });
});

test('outbound over TCP: the call and its BYE use the TCP connection', async () => {
  await withOutbound(async (stack, rtp) => {
    const uas = await sipp('uas-answer.xml', { transport: 't1' });
    const d = await stack.placeCall({
      trunk: { host: '127.0.0.1', port: uas.port, transport: 'tcp', pAssertedIdentity: true },
      to: '+15550111', from: { user: '+15550199', display: 'Agent' }, media: media(rtp.port),
    });
    assert.match(d.initialRequest.headers.get('via') ?? '', /^SIP\/2\.0\/TCP /);
    await d.bye();
    assertSippOk(await uas.done);
  });
});
