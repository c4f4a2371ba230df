import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer } from '../../../media/index.js';
import type { JitterPop } from '../../../media/index.js';

const pkt = (seq: number, arrival: number, marker = false, ts = seq * 160) => ({ seq, timestamp: ts, marker, payload: new Uint8Array([seq & 0xff]), arrival });
const seqOf = (r: JitterPop) => (r.type === 'packet' ? r.packet.seq : r.type);

describe('JitterBuffer', () => {
  test('buffers to the target delay, then plays in sequence order despite reordering', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 60, minDelayMs: 40 });
    const order = [0, 2, 1, 4, 3, 5, 7, 6, 8, 9];
    const out: (number | string)[] = [];
    let t = 0;
    for (const s of order) { jb.push(pkt(s, t)); t += 20; out.push(seqOf(jb.pop(t))); }
    for (let i = 0; i < 5; i++) out.push(seqOf(jb.pop((t += 20))));
    const played = out.filter((x) => typeof x === 'number');
    assert.deepEqual(played, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(out[0], 'idle');
    assert.equal(jb.stats().reordered, 3);
    assert.equal(jb.stats().lost, 0);
  });

  test('a burst arriving in any order plays in order; beyond twice the maximum delay the oldest are dropped', () => {
    // 12 packets in a shuffled order, all at once (a stall upstream), then played out.
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40, maxDelayMs: 100 });
    const shuffled = [5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6];
    for (const s of shuffled) assert.equal(jb.push(pkt(s, 0)), 'queued');
    // Hard cap = 2 x 100 ms = 10 frames: the two lowest sequence numbers went.
    assert.equal(jb.size, 10);
    assert.equal(jb.stats().dropped, 2);
    const played: number[] = [];
    for (let t = 20; played.length < 10 && t < 1000; t += 20) { const r = jb.pop(t); if (r.type === 'packet') played.push(r.packet.seq); }
    assert.deepEqual(played.slice(0, 4), [2, 3, 4, 5]);
    assert.ok(played.every((x, i) => i === 0 || x > played[i - 1]!), `in order: ${played.join(',')}`);
    // A packet arriving after its turn is late, one still queued or just played is a duplicate.
    assert.equal(jb.push(pkt(1, 1000)), 'late');
    assert.equal(jb.push(pkt(played[played.length - 1]!, 1000)), 'duplicate');
  });

  test('drops duplicates (queued or already played) and counts them', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40 });
    assert.equal(jb.push(pkt(0, 0)), 'queued');
    assert.equal(jb.push(pkt(0, 1)), 'duplicate');
    jb.push(pkt(1, 20));
    assert.equal(seqOf(jb.pop(40)), 0);
    assert.equal(jb.push(pkt(0, 41)), 'duplicate');
    assert.equal(jb.stats().duplicates, 2);
  });

  test('conceals a lost packet, then a late arrival of it is dropped and grows the target', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40 });
    jb.push(pkt(0, 0)); jb.push(pkt(1, 20)); jb.push(pkt(3, 60)); jb.push(pkt(4, 80));
    const out = [jb.pop(80), jb.pop(100), jb.pop(120), jb.pop(140)].map(seqOf);
    assert.deepEqual(out, [0, 1, 'conceal', 3]);
    const target = jb.targetDelayMs;
    assert.equal(jb.push(pkt(2, 150)), 'late');
    assert.equal(jb.targetDelayMs, target + 20);
    const s = jb.stats();
    assert.deepEqual([s.lost, s.late, s.concealed], [1, 1, 1]);
  });

  test('an empty buffer conceals a few frames, then goes idle (underrun) and rebuffers', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40, maxConcealFrames: 3 });
    jb.push(pkt(0, 0)); jb.push(pkt(1, 20));
    const out = [40, 60, 80, 100, 120, 140, 160].map((t) => seqOf(jb.pop(t)));
    assert.deepEqual(out, [0, 1, 'conceal', 'conceal', 'conceal', 'idle', 'idle']);
    assert.equal(jb.stats().underruns, 1);
    // A slow sender's packet (same seq it was waiting for) is not a loss.
    jb.push(pkt(2, 170)); jb.push(pkt(3, 190)); jb.push(pkt(4, 210));
    assert.equal(seqOf(jb.pop(215)), 2);
    assert.equal(jb.stats().lost, 0);
  });

  test('timestamp jumps with contiguous sequence numbers play on; a sequence jump resets', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40 });
    jb.push(pkt(10, 0, false, 1000)); jb.push(pkt(11, 20, false, 1160));
    jb.push(pkt(12, 40, true, 900000)); // silence suppression / DTMF gap in timestamps
    assert.deepEqual([jb.pop(40), jb.pop(60), jb.pop(80)].map(seqOf), [10, 11, 12]);
    assert.equal(jb.push(pkt(50000, 100)), 'reset');
    assert.equal(jb.stats().resets, 1);
    jb.push(pkt(50001, 120));
    assert.equal(seqOf(jb.pop(140)), 50000);
  });

  test('adapts: high jitter raises the target delay, excess depth is trimmed', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40, maxDelayMs: 300 });
    let arrival = 0;
    for (let s = 0; s < 100; s++) { arrival = s * 20 + (s % 2 ? 35 : 0); jb.push(pkt(s, arrival)); }
    assert.ok(jb.targetDelayMs >= 100, `target ${jb.targetDelayMs}`);
    const jb2 = new JitterBuffer({ clockRate: 8000, initialDelayMs: 40, minDelayMs: 40 });
    for (let s = 0; s < 20; s++) jb2.push(pkt(s, 0)); // a burst after a stall
    let played = 0;
    for (let i = 0; i < 20; i++) if (jb2.pop(100 + i * 20).type === 'packet') played++;
    assert.ok(jb2.stats().dropped > 0, 'trimmed');
    assert.equal(played + jb2.stats().dropped, 20);
  });

  test('marker bit after an underrun waits for the target depth (talkspurt start)', () => {
    const jb = new JitterBuffer({ clockRate: 8000, initialDelayMs: 60, minDelayMs: 40, maxConcealFrames: 5 });
    for (let s = 0; s < 3; s++) jb.push(pkt(s, s * 20));
    assert.equal(seqOf(jb.pop(60)), 0);
    assert.equal(seqOf(jb.pop(80)), 1);
    assert.equal(seqOf(jb.pop(100)), 2);
    assert.equal(seqOf(jb.pop(120)), 'conceal');
    jb.push(pkt(3, 125, true, 10000));
    assert.equal(seqOf(jb.pop(130)), 'idle');
    jb.push(pkt(4, 145, false, 10160)); jb.push(pkt(5, 165, false, 10320));
    assert.equal(seqOf(jb.pop(170)), 3);
  });
});
