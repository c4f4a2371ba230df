import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, RtpSocket, sipp, autoAnswer, assertSippOk } from './helpers.js';
import type { DialogEvent } from '../../../sip/index.js';
import { SdpError } from '../../../sip/index.js';

test('sipp calls the engine: answered with SDP, RTP flows both ways, INFO DTMF, BYE from caller', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  const aa = autoAnswer(rtp);
  const stack = await startStack({ onCall: aa.onCall });
  try {
    const run = await sipp('uac-basic.xml', { remote: `127.0.0.1:${stack.port('udp')}`, args: ['-s', '+14155550100', '-rtp_echo'] });
    const dialog = await aa.next();
    const events: DialogEvent[] = [];
    dialog.onAny((e) => events.push(e));
    const call = aa.calls[0]!;
    assert.equal(call.calledNumber, '+14155550100');
    assert.equal(call.callingNumber, '+14155550123');
    assert.equal(call.preview({ address: '127.0.0.1', port: 1, codecs: [{ name: 'PCMU', clockRate: 8000, payloadType: 0 }] })?.codec.payloadType, 0);
    assert.throws(() => call.preview({ address: '127.0.0.1', port: 1, codecs: [{ name: 'G722', clockRate: 8000, payloadType: 9 }] }), (e: unknown) => e instanceof SdpError && e.code === 'SDP_NO_COMMON_CODEC');
    assert.equal(dialog.media?.codec.name, 'PCMU');
    assert.equal(dialog.media?.telephoneEvent?.payloadType, 101);
    // RTP to sipp's media port comes back from its echo.
    await rtp.sendRtp(dialog.media!.remoteAddress, dialog.media!.remotePort, 10);
    const r = await run.done;
    assertSippOk(r);
    assert.ok(rtp.received > 0, 'echoed RTP received');
    await dialog.closed;
    assert.deepEqual(events.map((e) => e.type), ['dtmf', 'bye', 'closed']);
    assert.deepEqual(events[0], { type: 'dtmf', digit: '5', durationMs: 160 });
    assert.equal(dialog.closeReason, 'remote-bye');
    assert.equal(stack.stats().dialogs, 0);
  } finally {
    await stack.close();
    rtp.close();
  }
});
