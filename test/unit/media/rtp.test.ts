import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildBye, buildReceiverReport, buildRtp, buildSdes, buildSenderReport, isRtcpPacket, parseRtcp, parseRtp, RtpReceiveStats } from '../../../media/index.js';

describe('RTP packets (RFC 3550)', () => {
  test('a captured PCMU packet parses field by field', () => {
    // 80 00 1c 2b | 00 00 a0 00 | de ad be ef | 4 payload octets
    const raw = Buffer.from('80001c2b0000a000deadbeefff7f0080', 'hex');
    const r = parseRtp(raw);
    assert.ok(r.ok);
    assert.deepEqual({ ...r.packet, payload: [...r.packet.payload] }, {
      marker: false, payloadType: 0, sequenceNumber: 0x1c2b, timestamp: 0xa000, ssrc: 0xdeadbeef, csrc: [], extension: null,
      payload: [0xff, 0x7f, 0x00, 0x80], paddingLength: 0,
    });
  });

  test('build/parse round trip with marker, CSRCs, header extension and padding', () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const ext = { profile: 0xbede, data: new Uint8Array([0x10, 0xaa, 0, 0]) };
    const buf = buildRtp({ marker: true, payloadType: 111, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 1, csrc: [7, 8], extension: ext, payload, padTo: 4 });
    assert.equal(buf.length % 4, 0);
    assert.equal(buf[0]! & 0x20, 0x20, 'P bit');
    const r = parseRtp(buf);
    assert.ok(r.ok);
    const p = r.packet;
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 111);
    assert.equal(p.sequenceNumber, 65535);
    assert.equal(p.timestamp, 0xffffffff);
    assert.deepEqual(p.csrc, [7, 8]);
    assert.equal(p.extension!.profile, 0xbede);
    assert.deepEqual([...p.extension!.data], [0x10, 0xaa, 0, 0]);
    assert.deepEqual([...p.payload], [1, 2, 3, 4, 5]);
    assert.equal(p.paddingLength, 3);
  });

  test('malformed input is rejected with a reason, never thrown', () => {
    const good = buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrc: [1], payload: new Uint8Array(4) });
    assert.deepEqual(parseRtp(good.subarray(0, 11)), { ok: false, error: 'too-short' });
    assert.deepEqual(parseRtp(Buffer.from('40000000000000000000000000', 'hex')), { ok: false, error: 'bad-version' });
    assert.deepEqual(parseRtp(good.subarray(0, 14)), { ok: false, error: 'truncated-csrc' });
    const ext = buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, extension: { profile: 1, data: new Uint8Array(8) }, payload: new Uint8Array(0) });
    assert.deepEqual(parseRtp(ext.subarray(0, 18)), { ok: false, error: 'truncated-extension' });
    const pad = Buffer.from(good);
    pad[0]! |= 0x20;
    pad[pad.length - 1] = 200;
    assert.deepEqual(parseRtp(pad), { ok: false, error: 'bad-padding' });
    let seed = 1;
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.alloc(i % 40).map(() => (seed = (seed * 48271) % 2147483647) & 0xff);
      parseRtp(junk);
      parseRtcp(junk);
    }
  });

  test('RTCP is told apart from RTP (RFC 5761)', () => {
    assert.equal(isRtcpPacket(buildReceiverReport(1, [])), true);
    assert.equal(isRtcpPacket(buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(1) })), false);
    assert.equal(isRtcpPacket(buildRtp({ payloadType: 72, marker: true, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(1) })), true);
  });
});

describe('RtpReceiveStats (RFC 3550 A.1/A.3/A.8)', () => {
  test('extends sequence numbers across the wrap, counts loss and fraction lost', () => {
    const s = new RtpReceiveStats(8000);
    const seqs = [65530, 65531, 65532, 65534, 65535, 0, 1, 3, 4];
    const ext = seqs.map((q, i) => s.update(q, i * 160, i * 20).extSeq);
    assert.deepEqual(ext, [65530, 65531, 65532, 65534, 65535, 65536, 65537, 65539, 65540]);
    assert.equal(s.expected, 11);
    assert.equal(s.received, 9);
    assert.equal(s.cumulativeLost, 2);
    assert.equal(s.takeFractionLost(), Math.floor((2 << 8) / 11));
    assert.equal(s.takeFractionLost(), 0);
  });

  test('jitter is zero for a perfectly paced stream and grows with arrival noise', () => {
    const a = new RtpReceiveStats(8000);
    for (let i = 0; i < 100; i++) a.update(i, i * 160, i * 20);
    assert.equal(a.jitter, 0);
    const b = new RtpReceiveStats(8000);
    for (let i = 0; i < 200; i++) b.update(i, i * 160, i * 20 + (i % 2 ? 10 : 0));
    assert.ok(b.jitterMs > 8 && b.jitterMs < 10.5, `jitter ${b.jitterMs}`);
  });

  test('a sender restart (big jump confirmed by a second packet) restarts the stats', () => {
    const s = new RtpReceiveStats(8000);
    for (let i = 0; i < 10; i++) s.update(i, i * 160, i * 20);
    assert.equal(s.update(30000, 0, 300).extSeq, -1);
    const r = s.update(30001, 160, 320);
    assert.equal(r.restarted, true);
    assert.equal(s.received, 1);
  });
});

describe('RTCP', () => {
  test('SR + SDES + BYE compound round trip', () => {
    const block = { ssrc: 9, fractionLost: 25, cumulativeLost: 3, highestSeq: 70000, jitter: 44, lastSr: 0x12345678, delaySinceLastSr: 65536 };
    const sr = buildSenderReport(5, { ntpSec: 3900000000, ntpFrac: 0x80000000, rtpTimestamp: 1234, packetCount: 50, octetCount: 8000 }, [block]);
    const buf = Buffer.concat([sr, buildSdes(5, 'call-1@engine'), buildBye(5)]);
    const pkts = parseRtcp(buf)!;
    assert.equal(pkts.length, 3);
    const p0 = pkts[0]!;
    assert.equal(p0.type, 'sr');
    if (p0.type === 'sr') {
      assert.equal(p0.ssrc, 5);
      assert.deepEqual(p0.sender, { ntpSec: 3900000000, ntpFrac: 0x80000000, rtpTimestamp: 1234, packetCount: 50, octetCount: 8000 });
      assert.deepEqual(p0.reports[0], block);
    }
    assert.deepEqual(pkts[1], { type: 'sdes', chunks: [{ ssrc: 5, cname: 'call-1@engine' }] });
    assert.deepEqual(pkts[2], { type: 'bye', ssrcs: [5] });
    const rr = parseRtcp(buildReceiverReport(7, [{ ...block, cumulativeLost: -2 }]))!;
    assert.equal(rr[0]!.type, 'rr');
    if (rr[0]!.type === 'rr') assert.equal(rr[0]!.reports[0]!.cumulativeLost, -2);
    assert.equal(parseRtcp(buf.subarray(0, 10)), null);
  });
});
