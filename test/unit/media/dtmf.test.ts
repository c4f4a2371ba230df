import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildTelephoneEvent, DtmfReceiver, DtmfSender, parseTelephoneEvent } from '../../../media/index.js';

describe('RFC 4733 telephone-event', () => {
  test('payload round trip (event, E bit, volume, duration)', () => {
    const ev = { event: 11, end: true, volume: 10, duration: 1280 };
    const b = buildTelephoneEvent(ev);
    assert.deepEqual([...b], [11, 0x8a, 0x05, 0x00]);
    assert.deepEqual(parseTelephoneEvent(b), ev);
    assert.equal(parseTelephoneEvent(new Uint8Array(3)), null);
  });

  test('receiver reports each digit once despite three end packets and duplicates', () => {
    const rx = new DtmfReceiver(8000);
    const got: string[] = [];
    const feed = (ts: number, event: number, end: boolean, duration: number) => {
      for (const d of rx.push(ts, { event, end, volume: 10, duration }, 0)) got.push(`${d.digit}:${d.durationMs}`);
    };
    feed(1000, 1, false, 160); feed(1000, 1, false, 320); feed(1000, 1, false, 320); feed(1000, 1, false, 480);
    feed(1000, 1, true, 800); feed(1000, 1, true, 800); feed(1000, 1, true, 800);
    feed(5000, 10, false, 160); feed(5000, 10, true, 640); feed(5000, 10, true, 640);
    feed(1000, 1, true, 800); // a very late retransmission of the first event
    assert.deepEqual(got, ['1:100', '*:80']);
  });

  test('a digit whose end packets were all lost is reported by the next event or by flush()', () => {
    const rx = new DtmfReceiver(8000);
    assert.deepEqual(rx.push(100, { event: 5, end: false, volume: 10, duration: 400 }, 0), []);
    assert.deepEqual(rx.push(9000, { event: 6, end: false, volume: 10, duration: 160 }, 10), [{ digit: '5', durationMs: 50 }]);
    assert.equal(rx.flush(100), null);
    assert.deepEqual(rx.flush(600), { digit: '6', durationMs: 20 });
  });

  test('sender: marker on the first packet, constant timestamp, growing duration, 3 end packets, pause', () => {
    const tx = new DtmfSender();
    tx.enqueue('#', 100);
    tx.enqueue('2', 40);
    const pkts = [];
    for (let i = 0; i < 14; i++) pkts.push(tx.next(8000 + i * 160, 160, 8000));
    const evs = pkts.map((p) => (p ? { m: p.marker, ts: p.timestamp, ...parseTelephoneEvent(p.payload)! } : null));
    assert.deepEqual(evs.slice(0, 7).map((e) => [e!.m, e!.ts, e!.event, e!.end, e!.duration]), [
      [true, 8000, 11, false, 160], [false, 8000, 11, false, 320], [false, 8000, 11, false, 480], [false, 8000, 11, false, 640],
      [false, 8000, 11, true, 800], [false, 8000, 11, true, 800], [false, 8000, 11, true, 800],
    ]);
    assert.deepEqual(evs.slice(7, 9), [null, null]);
    assert.deepEqual(evs.slice(9, 13).map((e) => [e!.m, e!.ts, e!.event, e!.end, e!.duration]), [
      [true, 8000 + 9 * 160, 2, false, 160], [false, 8000 + 9 * 160, 2, true, 320], [false, 8000 + 9 * 160, 2, true, 320], [false, 8000 + 9 * 160, 2, true, 320],
    ]);
    assert.equal(tx.active, true); // the pause after the last digit
    assert.throws(() => tx.enqueue('x', 100), (e: unknown) => (e as { code?: string }).code === 'BAD_DIGIT');
  });
});
