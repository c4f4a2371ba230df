import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { parseRtp, ulawEncode } from '../../../media/index.js';
import type { MediaEngine } from '../../../media/index.js';
import { collectAudio, concat, connect, delay, loudPart, sine, startEngine, medianToneSnrDb, waitFor } from '../../fixtures/media/helpers.js';

describe('two MediaSessions over loopback UDP, G.711', () => {
  let engine: MediaEngine;
  before(async () => { engine = await startEngine(); });
  after(async () => { await engine.close(); assert.equal(engine.stats().portsInUse, 0); });

  for (const codec of [{ name: 'PCMU', payloadType: 0, clockRate: 8000 }, { name: 'PCMA', payloadType: 8, clockRate: 8000 }]) {
    test(`${codec.name}: a 1 s tone arrives with G.711 quality, played event reports it all`, async (t) => {
      const a = await engine.createSession({ id: 'a' });
      const b = await engine.createSession({ id: 'b' });
      connect(a, b, codec);
      const rx = collectAudio(b);
      const played = waitFor(a, 'played', (e) => e.id === 'tone');
      a.play({ id: 'tone', format: 'pcm16', sampleRate: 8000, samples: sine(440, 8000, 1000) });
      const ev = await played;
      assert.equal(ev.playedMs, 1000);
      await delay(300);
      rx.stop();
      const got = loudPart(concat(rx.pcm), 1000, 80);
      assert.ok(got.length > 6000, `received ${got.length} loud samples`);
      const snr = medianToneSnrDb(got, 440, 8000);
      t.diagnostic(`${codec.name} tone SNR ${snr.toFixed(1)} dB`);
      assert.ok(snr > 30, `SNR ${snr.toFixed(1)} dB`);
      assert.equal(b.getStats().packetsIn, a.getStats().packetsOut);
      assert.equal(b.getStats().jitterBuffer.lost, 0);
      assert.ok(rx.encoded.length > 0, 'raw G.711 octets are delivered');
      await Promise.all([a.close(), b.close()]);
    });
  }

  test('PCMU bytes are sent untouched (zero transcoding)', async () => {
    const a = await engine.createSession();
    const b = await engine.createSession();
    connect(a, b, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
    const src = ulawEncode(sine(1000, 8000, 400, 6000));
    const rx = collectAudio(b);
    const done = waitFor(a, 'played');
    a.play({ id: 'mu', format: 'pcmu', data: src });
    await done;
    await delay(300);
    rx.stop();
    const all = new Uint8Array(rx.encoded.reduce((n, e) => n + e.length, 0));
    let o = 0;
    for (const e of rx.encoded) { all.set(e, o); o += e.length; }
    const start = all.findIndex((v, i) => v === src[0] && all[i + 1] === src[1] && all[i + 2] === src[2] && all[i + 3] === src[3]);
    assert.ok(start >= 0, 'payload found in the received stream');
    assert.deepEqual(all.subarray(start, start + src.length), src);
    await Promise.all([a.close(), b.close()]);
  });

  test('clear() stops at once and reports exactly what the peer received', async () => {
    const a = await engine.createSession();
    // The peer is a plain UDP socket: it counts exactly the octets that went over the wire.
    const peer = createSocket('udp4');
    let audible = 0;
    peer.on('message', (m) => { const r = parseRtp(m); if (r.ok) for (const x of r.packet.payload) if (x !== 0xff) audible++; });
    await new Promise<void>((res) => peer.bind(0, '127.0.0.1', () => res()));
    a.setRemote({ address: '127.0.0.1', port: peer.address().port, codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, direction: 'sendrecv' });
    // Full-scale square-ish signal: no sample encodes to the silence octet 0xFF.
    const loud = new Int16Array(8000 * 3).map((_, i) => (i % 16 < 8 ? 12000 : -12000));
    a.play({ id: 'one', format: 'pcm16', sampleRate: 8000, samples: loud });
    a.play({ id: 'two', format: 'pcm16', sampleRate: 8000, samples: loud.slice(0, 8000) });
    while (audible === 0) await delay(10);
    await delay(200);
    const r = a.clear();
    assert.equal(r.items.length, 2);
    assert.equal(r.items[0]!.id, 'one');
    assert.equal(r.items[1]!.playedMs, 0);
    assert.ok(r.playedMs > 0 && r.playedMs < 3000);
    assert.equal(a.queuedMs, 0);
    const sentAtClear = a.getStats().packetsOut;
    await delay(300); // packets in flight land; everything after clear() is silence
    assert.equal(audible / 8, r.playedMs, 'ms received by the peer == ms reported by clear()');
    assert.ok(a.getStats().packetsOut > sentAtClear, 'RTP keeps flowing (silence) after clear()');
    await a.close();
    peer.close();
  });

  test('close() is idempotent and releases the ports', async () => {
    const before = engine.stats().portsInUse;
    const s = await engine.createSession();
    assert.equal(engine.stats().portsInUse, before + 1);
    await Promise.all([s.close(), s.close()]);
    await s.close();
    assert.equal(engine.stats().portsInUse, before);
    assert.throws(() => s.play({ id: 'x', format: 'pcmu', data: new Uint8Array(8) }), (e: unknown) => (e as { code?: string }).code === 'CLOSED');
  });
});
