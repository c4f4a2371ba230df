import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { parseRtp } from '../../../media/index.js';
import type { RtpPacket } from '../../../media/index.js';
import { FakeTime } from '../../fixtures/media/fake-time.js';
import { delay, startEngine } from '../../fixtures/media/helpers.js';

describe('session pacing on a fake media clock', () => {
  test('one packet per tick, timestamps follow the clock, no burst after a late wake-up', async () => {
    const time = new FakeTime();
    const engine = await startEngine({ time, rtcpIntervalMs: 60_000 });
    time.advance(0); // tick 0, before any session exists
    const peer = createSocket('udp4');
    const got: RtpPacket[] = [];
    peer.on('message', (m) => { const r = parseRtp(m); if (r.ok) got.push(r.packet); });
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const s = await engine.createSession({ vad: false });
    s.setRemote({ address: '127.0.0.1', port: peer.address().port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    s.play({ id: 'x', format: 'pcmu', data: new Uint8Array(8000).fill(0x10) });
    const step = async (fn: () => void) => { fn(); await delay(30); };
    for (let i = 0; i < 5; i++) await step(() => time.advance(20));
    assert.equal(got.length, 5);
    await step(() => time.block(20 * 4 + 5)); // the event loop was blocked for 85 ms
    assert.equal(got.length, 6, 'a single packet after the stall, not a burst of 5');
    for (let i = 0; i < 3; i++) await step(() => time.advance(20));
    assert.equal(got.length, 9);
    const dts = got.slice(1).map((p, i) => (p.timestamp - got[i]!.timestamp) >>> 0);
    const dseq = got.slice(1).map((p, i) => (p.sequenceNumber - got[i]!.sequenceNumber) & 0xffff);
    assert.deepEqual(dseq, [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(dts, [160, 160, 160, 160, 160 * 4, 160, 160, 160]); // 3 ticks skipped
    assert.equal(got[0]!.marker, true);
    assert.ok(got.slice(1).every((p) => !p.marker));
    const st = s.getStats();
    assert.equal(st.skippedTicks, 3);
    assert.equal(st.lateWakeups, 1);
    // The audio did not skip: 9 frames of 20 ms were played.
    assert.equal(s.queuedMs, 1000 - 9 * 20);
    await s.close();
    peer.close();
    await engine.close();
  });

  test('the packet is on the wire during the send phase, before any session\'s work phase runs', async () => {
    // Regression: dgram resolved each IP literal destination on process.nextTick, so every packet of
    // a tick left only after the whole tick's work (decode, VAD, listeners of every session).
    const time = new FakeTime();
    const engine = await startEngine({ time, rtcpIntervalMs: 60_000 });
    time.advance(0);
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const port = peer.address().port;
    const s = await engine.createSession({ vad: false });
    s.setRemote({ address: '127.0.0.1', port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    // The kernel's receive queue of the peer, read synchronously from inside the tick (iproute2 ss).
    const queued = (): number => {
      const out = execFileSync('ss', ['-uanH', 'sport', '=', `:${port}`], { encoding: 'utf8' });
      return Number(out.trim().split(/\s+/)[1] ?? 0);
    };
    let seenInWork = -1;
    const off = engine.clock.add(() => { if (seenInWork < 0) seenInWork = queued(); }, 'work');
    time.advance(20);
    off();
    assert.ok(seenInWork > 0, `bytes already queued at the peer when the work phase ran: ${seenInWork}`);
    await s.close();
    peer.close();
    await engine.close();
  });
});
