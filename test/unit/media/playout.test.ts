import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler, ulawEncode } from '../../../media/index.js';
import { Playout } from '../../../media/playout.js';
import { sine, toneSnrDb } from '../../fixtures/media/helpers.js';

describe('Playout queue', () => {
  let rs: Resampler;
  before(async () => { rs = await Resampler.load(); });
  after(() => rs.close());

  test('stitches items back to back inside a frame, pads with silence, reports played ms', () => {
    const p = new Playout(rs);
    p.setCodec('PCMU');
    p.add({ id: 'a', format: 'pcmu', data: new Uint8Array(200).fill(1) }); // 25 ms
    p.add({ id: 'b', format: 'pcmu', data: new Uint8Array(100).fill(2) }); // 12.5 ms
    const f1 = p.take(160), f2 = p.take(160), f3 = p.take(160);
    assert.deepEqual(f1.finished, []);
    assert.deepEqual([...f2.g711!.subarray(0, 40)], new Array(40).fill(1));
    assert.deepEqual([...f2.g711!.subarray(40, 140)], new Array(100).fill(2));
    assert.deepEqual([...f2.g711!.subarray(140)], new Array(20).fill(0xff));
    assert.deepEqual(f2.finished, [{ id: 'a', playedMs: 25 }, { id: 'b', playedMs: 13 }]);
    assert.equal(f3.audible, false);
  });

  test('clear() reports per item; PCM at 24/48 kHz is resampled to the call rate', () => {
    const p = new Playout(rs);
    p.setCodec('PCMA');
    p.add({ id: 'x', format: 'pcm16', sampleRate: 48000, samples: sine(400, 48000, 500) });
    p.add({ id: 'y', format: 'pcm16', sampleRate: 24000, samples: sine(400, 24000, 300) });
    assert.ok(Math.abs(p.queuedMs - 800) <= 1);
    for (let i = 0; i < 10; i++) p.take(160);
    assert.deepEqual(p.clear(), { items: [{ id: 'x', playedMs: 200 }, { id: 'y', playedMs: 0 }], playedMs: 200 });
    assert.equal(p.queuedMs, 0);
  });

  test('codec change re-converts the remainder; 16 kHz calls get wideband PCM', () => {
    const p = new Playout(rs);
    p.setCodec('PCMU');
    p.add({ id: 'z', format: 'pcmu', data: ulawEncode(sine(500, 8000, 1000)) });
    for (let i = 0; i < 10; i++) p.take(160);
    p.setCodec('G722');
    const frames = [];
    for (let i = 0; i < 40; i++) frames.push(p.take(320));
    const done = frames.flatMap((f) => f.finished);
    assert.deepEqual(done, [{ id: 'z', playedMs: 1000 }]);
    const pcm = new Int16Array(frames.slice(2, 38).flatMap((f) => [...f.pcm!]));
    assert.ok(toneSnrDb(pcm, 500, 16000) > 25);
    assert.throws(() => p.add({ id: 'bad', format: 'pcm16', sampleRate: 11025 as 8000, samples: new Int16Array(10) }), (e: unknown) => (e as { code?: string }).code === 'BAD_AUDIO');
  });
});
