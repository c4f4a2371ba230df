import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { MediaEngine, MediaEvent } from '../../../media/index.js';
import { delay, sine, startEngine, waitFor } from '../../fixtures/media/helpers.js';

describe('re-INVITE: codec change mid-playout, many sessions, events() iterable', () => {
  let engine: MediaEngine;
  before(async () => { engine = await startEngine(); });
  after(async () => { await engine.close(); assert.equal(engine.stats().portsInUse, 0); });

  test('switching PCMU -> G722 while playing keeps the item going and the played ms exact', async () => {
    const a = await engine.createSession();
    const b = await engine.createSession();
    const pcmu = { name: 'PCMU', payloadType: 0, clockRate: 8000 };
    const g722 = { name: 'G722', payloadType: 9, clockRate: 8000 };
    a.setRemote({ address: '127.0.0.1', port: b.rtpPort, codec: pcmu, direction: 'sendrecv' });
    b.setRemote({ address: '127.0.0.1', port: a.rtpPort, codec: pcmu, direction: 'sendrecv' });
    const codecs: string[] = [];
    b.on((ev) => { if (ev.type === 'audio' && ev.pcm.some((x) => Math.abs(x) > 1000) && codecs.at(-1) !== ev.codec) codecs.push(ev.codec); });
    const played = waitFor(a, 'played', () => true, 8000);
    a.play({ id: 'long', format: 'pcm16', sampleRate: 16000, samples: sine(500, 16000, 1500) });
    await delay(500);
    a.setRemote({ address: '127.0.0.1', port: b.rtpPort, codec: g722, direction: 'sendrecv' });
    b.setRemote({ address: '127.0.0.1', port: a.rtpPort, codec: g722, direction: 'sendrecv' });
    const ev = await played;
    assert.ok(Math.abs(ev.playedMs - 1500) <= 1, `played ${ev.playedMs}`);
    await delay(300);
    assert.deepEqual(codecs, ['PCMU', 'G722']);
    await Promise.all([a.close(), b.close()]);
  });

  test('setRemote validates the address; port 0 (rejected stream) sends nothing', async () => {
    const s = await engine.createSession();
    const codec = { name: 'PCMU', payloadType: 0, clockRate: 8000 };
    assert.throws(() => s.setRemote({ address: 'pbx.example.com', port: 4000, codec, direction: 'sendrecv' }), (e: unknown) => (e as { code?: string }).code === 'NO_REMOTE');
    assert.throws(() => s.setRemote({ address: '127.0.0.1', port: 70000, codec, direction: 'sendrecv' }), (e: unknown) => (e as { code?: string }).code === 'NO_REMOTE');
    assert.throws(() => s.setRemote({ address: '127.0.0.1', port: 4000, codec: { name: 'G729', payloadType: 18, clockRate: 8000 }, direction: 'sendrecv' }), (e: unknown) => (e as { code?: string }).code === 'UNSUPPORTED_CODEC');
    s.setRemote({ address: '127.0.0.1', port: 0, codec, direction: 'sendrecv' });
    await delay(200);
    assert.equal(s.getStats().packetsOut, 0);
    await s.close();
  });

  test('50 sessions open and close concurrently without leaking ports; events() ends on close', async () => {
    const sessions = await Promise.all(Array.from({ length: 50 }, () => engine.createSession()));
    assert.equal(new Set(sessions.map((s) => s.rtpPort)).size, 50);
    assert.equal(engine.stats().portsInUse, 50);
    const seen: MediaEvent['type'][] = [];
    const it = (async () => { for await (const ev of sessions[0]!.events()) seen.push(ev.type); })();
    sessions[0]!.injectDtmf('7');
    await Promise.all(sessions.map((s) => s.close()));
    await it;
    assert.deepEqual(seen, ['dtmf', 'closed']);
    assert.equal(engine.stats().portsInUse, 0);
    const ac = new AbortController();
    const s = await engine.createSession();
    const it2 = (async () => { let n = 0; for await (const _ of s.events(ac.signal)) n++; return n; })();
    ac.abort();
    assert.equal(await it2, 0);
    await s.close();
  });
});
