import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRtp, parseRtcp, parseWav, ulawEncode } from '../../../media/index.js';
import type { MediaEngine, MediaSession } from '../../../media/index.js';
import { collectAudio, concat, connect, delay, sine, startEngine, medianToneSnrDb, tonePower, waitFor } from '../../fixtures/media/helpers.js';

async function udpPeer(): Promise<{ sock: Socket; port: number; received: Buffer[]; close: () => Promise<void> }> {
  const sock = createSocket('udp4');
  const received: Buffer[] = [];
  sock.on('message', (m) => received.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { sock, port: sock.address().port, received, close: () => new Promise((r) => sock.close(() => r())) };
}
/** Waits until `t0 + i * 20 ms` (absolute schedule: a test sender must not drift slower than real time). */
async function pace(t0: number, i: number): Promise<void> {
  const wait = t0 + i * 20 - performance.now();
  if (wait > 0) await delay(wait);
}
const send = (s: Socket, buf: Uint8Array, port: number) => new Promise<void>((r) => s.send(buf, port, '127.0.0.1', () => r()));

describe('bad input, loss, latching, hold, RTCP, recording', () => {
  let engine: MediaEngine;
  before(async () => { engine = await startEngine({ rtcpIntervalMs: 200, statsIntervalMs: 200 }); });
  after(async () => { await engine.close(); assert.equal(engine.stats().portsInUse, 0); });

  test('garbage, wrong PT, truncated headers and foreign sources are counted; audio continues', async () => {
    const s = await engine.createSession();
    const peer = await udpPeer();
    const intruder = await udpPeer();
    s.setRemote({ address: '127.0.0.1', port: peer.port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    const rx = collectAudio(s);
    const latched = waitFor(s, 'latched');
    const tone = ulawEncode(sine(400, 8000, 2000));
    let seq = 100;
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      await pace(t0, i);
      const pkt = buildRtp({ payloadType: 0, sequenceNumber: seq++, timestamp: i * 160, ssrc: 42, payload: tone.subarray(i * 160, i * 160 + 160) });
      await send(peer.sock, pkt, s.rtpPort);
      if (i % 10 === 3) {
        await send(peer.sock, Buffer.from('not rtp at all, just some text'), s.rtpPort);
        await send(peer.sock, pkt.subarray(0, 7), s.rtpPort);
        await send(peer.sock, buildRtp({ payloadType: 18, sequenceNumber: 1, timestamp: 1, ssrc: 42, payload: new Uint8Array(20) }), s.rtpPort);
        await send(intruder.sock, buildRtp({ payloadType: 0, sequenceNumber: seq + 5, timestamp: i * 160, ssrc: 99, payload: new Uint8Array(160) }), s.rtpPort);
      }
    }
    assert.equal((await latched).port, peer.port);
    await delay(500);
    rx.stop();
    const st = s.getStats();
    assert.deepEqual([st.malformed, st.wrongPayloadType, st.foreignSource, st.packetsIn, st.ssrcChanges], [20, 10, 10, 100, 0]);
    const heard = concat(rx.pcm).filter((x) => x !== 0);
    assert.ok(heard.length > 8000 * 1.5, `heard ${heard.length}`);
    const snr = medianToneSnrDb(concat(rx.pcm).subarray(800, 8000 * 1.5), 400, 8000);
    assert.ok(snr > 25, `SNR ${snr}`);
    // Symmetric RTP: our packets go to where the peer's came from.
    assert.ok(peer.received.length > 0);
    assert.equal(intruder.received.filter((b) => b[1]! < 192 || b[1]! > 223).length, 0);
    await Promise.all([s.close(), peer.close(), intruder.close()]);
  });

  test('10 % loss with reordering: concealed, counted, the tone survives', async () => {
    const s = await engine.createSession({ jitter: { initialDelayMs: 80 } });
    const peer = await udpPeer();
    s.setRemote({ address: '127.0.0.1', port: peer.port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    const rx = collectAudio(s);
    const tone = ulawEncode(sine(400, 8000, 4000));
    const order: number[] = [];
    for (let i = 0; i < 200; i += 4) order.push(i + 1, i, i + 3, i + 2); // pairwise swaps
    let k = 0;
    const t0 = performance.now();
    for (const i of order) {
      k++;
      if (k % 2 === 1) await pace(t0, k - 1);
      if (i % 10 === 7) continue; // 10 % loss
      await send(peer.sock, buildRtp({ payloadType: 0, sequenceNumber: 65500 + i, timestamp: i * 160, ssrc: 7, payload: tone.subarray(i * 160, i * 160 + 160) }), s.rtpPort);
    }
    await delay(400);
    rx.stop();
    const st = s.getStats();
    assert.equal(st.packetsIn, 180);
    assert.equal(st.jitterBuffer.reordered > 0, true);
    assert.ok(st.jitterBuffer.lost + st.jitterBuffer.late >= 15, JSON.stringify(st.jitterBuffer));
    assert.ok(rx.concealed >= 15, `concealed frames ${rx.concealed}`);
    assert.ok(st.packetsLost >= 19 && st.packetsLost <= 21, `RFC 3550 lost ${st.packetsLost}`);
    const pcm = concat(rx.pcm);
    assert.ok(pcm.length >= 190 * 160, `frames ${pcm.length / 160}`);
    // Pitch-synchronous concealment keeps the tone through the losses.
    const snr = medianToneSnrDb(pcm.subarray(1600, 190 * 160), 400, 8000, 40);
    assert.ok(snr > 20, `median SNR with 10 % loss ${snr.toFixed(1)} dB`);
    await Promise.all([s.close(), peer.close()]);
  });

  test('an SSRC change mid-call is followed', async () => {
    const s = await engine.createSession();
    const peer = await udpPeer();
    s.setRemote({ address: '127.0.0.1', port: peer.port, codec: { name: 'PCMA', payloadType: 8, clockRate: 8000 }, direction: 'sendrecv' });
    const rx = collectAudio(s);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) { await pace(t0, i); await send(peer.sock, buildRtp({ payloadType: 8, sequenceNumber: i, timestamp: i * 160, ssrc: 1, payload: new Uint8Array(160).fill(0x55) }), s.rtpPort); }
    for (let i = 0; i < 20; i++) { await pace(t0, 20 + i); await send(peer.sock, buildRtp({ payloadType: 8, sequenceNumber: 30000 + i, timestamp: 7777 + i * 160, ssrc: 2, payload: new Uint8Array(160).fill(0x55) }), s.rtpPort); }
    await delay(500);
    rx.stop();
    assert.equal(s.getStats().ssrcChanges, 1);
    assert.ok(rx.pcm.length >= 38, `frames ${rx.pcm.length}`);
    await Promise.all([s.close(), peer.close()]);
  });

  test('inactivity timeout fires while sendrecv, not while on hold; RTCP reports flow both ways', async () => {
    const a = await engine.createSession({ rtpTimeoutMs: 300 });
    const b = await engine.createSession({ rtpTimeoutMs: 300 });
    connect(a, b, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
    await delay(600);
    let timeouts = 0;
    a.on((ev) => { if (ev.type === 'timeout') timeouts++; });
    // b puts a on hold: b sends sendonly, a answers recvonly. Both stop expecting audio from b... a receives b's music? no: b sends, a does not.
    b.setRemote({ address: '127.0.0.1', port: a.rtpPort, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'recvonly', localDirection: 'sendonly' });
    a.setRemote({ address: '127.0.0.1', port: b.rtpPort, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendonly' });
    const outBefore = a.getStats().packetsOut;
    await delay(800);
    assert.equal(a.getStats().packetsOut, outBefore, 'a sends nothing while held (recvonly)');
    const st = a.getStats();
    assert.ok(st.rtcpIn > 0 && st.rtcpOut > 0, 'RTCP flowed');
    assert.ok(st.remoteReport !== null && st.remoteReport.rttMs !== null, JSON.stringify(st.remoteReport));
    // Now nobody sends at all: hold in both directions is still not a dead call.
    a.setRemote({ address: '127.0.0.1', port: b.rtpPort, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'inactive' });
    b.setRemote({ address: '127.0.0.1', port: a.rtpPort, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'inactive' });
    await delay(600);
    assert.equal(timeouts, 0);
    // Resume on a only; b stays silent (inactive): a times out once.
    a.setRemote({ address: '127.0.0.1', port: b.rtpPort, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    const t = await waitFor(a, 'timeout', () => true, 3000);
    assert.ok(t.silentMs >= 300);
    await delay(400);
    assert.equal(timeouts, 1);
    await Promise.all([a.close(), b.close()]);
  });

  test('stereo recording: caller left, agent right, time-aligned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rec-'));
    try {
      const a = await engine.createSession();
      const b = await engine.createSession();
      connect(a, b, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
      const path = join(dir, 'b.wav');
      await b.startRecording(path);
      // a speaks a 500 Hz burst, then b answers with a 1000 Hz burst.
      const heard = waitFor(b, 'audio', (e) => e.pcm.some((x) => Math.abs(x) > 2000));
      a.play({ id: 'caller', format: 'pcm16', sampleRate: 8000, samples: sine(500, 8000, 600) });
      await heard;
      await delay(800);
      b.play({ id: 'agent', format: 'pcm16', sampleRate: 8000, samples: sine(1000, 8000, 600) });
      await waitFor(b, 'played');
      await delay(100);
      await b.stopRecording();
      const wav = parseWav(readFileSync(path));
      assert.equal(wav.sampleRate, 8000);
      assert.equal(wav.channels.length, 2);
      const [left, right] = wav.channels as [Int16Array, Int16Array];
      const firstLoud = (x: Int16Array) => x.findIndex((v) => Math.abs(v) > 2000);
      const l0 = firstLoud(left), r0 = firstLoud(right);
      assert.ok(l0 >= 0 && r0 > l0, `left starts ${l0}, right ${r0}`);
      assert.equal(left.length, right.length);
      // Channel content, by tone power (robust to a concealed frame on a loaded machine).
      const db = (a: number, b: number) => 10 * Math.log10(a / Math.max(b, 1));
      const L = left.subarray(l0, l0 + 4800), R = right.subarray(r0, r0 + 4800);
      assert.ok(db(tonePower(L, 500, 8000), tonePower(L, 1000, 8000)) > 20, 'caller (500 Hz) on the left');
      assert.ok(db(tonePower(R, 1000, 8000), tonePower(R, 500, 8000)) > 20, 'agent (1000 Hz) on the right');
      assert.ok(db(tonePower(L, 500, 8000), tonePower(right.subarray(l0, l0 + 4800), 500, 8000)) > 20, 'no caller audio on the right');
      // Time alignment: b started playing 800 ms (a timer: late on a loaded machine, never early)
      // after the caller's burst reached it, and the file shows exactly that gap between channels.
      assert.ok(r0 - l0 >= 8000 * 0.78 && r0 - l0 < 8000 * 2.5, `offset ${(r0 - l0) / 8} ms`);
      await Promise.all([a.close(), b.close()]);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('RTCP from the session parses as SR/RR + SDES', async () => {
    const s = await engine.createSession();
    const peer = await udpPeer();
    const rtcpPeer = await udpPeer();
    s.setRemote({ address: '127.0.0.1', port: peer.port, rtcpPort: rtcpPeer.port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    await delay(500);
    assert.ok(rtcpPeer.received.length > 0);
    const pk = parseRtcp(rtcpPeer.received[0]!)!;
    assert.equal(pk[0]!.type, 'sr');
    assert.equal(pk[1]!.type, 'sdes');
    await s.close();
    await delay(100);
    await Promise.all([peer.close(), rtcpPeer.close()]);
    const last = parseRtcp(rtcpPeer.received.at(-1)!)!;
    assert.equal(last.at(-1)!.type, 'bye');
  });
});

export type { MediaSession };
