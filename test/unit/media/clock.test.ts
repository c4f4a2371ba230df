import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MediaClock } from '../../../media/index.js';
import type { ClockTick } from '../../../media/index.js';
import { FakeTime } from '../../fixtures/media/fake-time.js';

describe('MediaClock (fake time)', () => {
  test('ticks on absolute deadlines t0 + n*20 ms, without drift even when timers fire late', () => {
    const time = new FakeTime();
    const clock = new MediaClock({ time });
    const ticks: ClockTick[] = [];
    clock.add((t) => ticks.push(t));
    clock.start();
    const t0 = time.now();
    time.lateness = 3; // every timer fires 3 ms late
    time.advance(20 * 100 + 10);
    assert.equal(ticks.length, 101);
    ticks.forEach((t, i) => {
      assert.equal(t.index, i);
      assert.equal(t.deadline, t0 + 20 * i);
      assert.equal(t.skipped, 0);
      assert.ok(t.now - t.deadline <= 3, `tick ${i} late by ${t.now - t.deadline}`);
    });
    assert.equal(clock.stats().lateWakeups, 100);
    clock.stop();
  });

  test('a late wake-up skips missed ticks instead of bursting them', () => {
    const time = new FakeTime();
    const clock = new MediaClock({ time });
    const ticks: ClockTick[] = [];
    clock.add((t) => ticks.push(t));
    clock.start();
    time.advance(40); // ticks 0,1,2
    assert.equal(ticks.length, 3);
    time.block(75); // loop blocked: now = t0 + 115 ms
    // One tick for the whole gap, with the index of the current slot (t0+100), then back on schedule.
    const late = ticks[3]!;
    assert.equal(late.index, 5);
    assert.equal(late.skipped, 2);
    assert.equal(ticks.length, 4);
    time.advance(5); // t0 + 120: tick 6
    assert.equal(ticks.length, 5);
    assert.equal(ticks[4]!.index, 6);
    assert.equal(ticks[4]!.now, ticks[4]!.deadline);
    assert.deepEqual({ skipped: clock.stats().skippedTicks, late: clock.stats().lateWakeups }, { skipped: 2, late: 1 });
    clock.stop();
  });

  test('a throwing listener does not stop the others, stop() halts ticking, remove works', () => {
    const time = new FakeTime();
    const clock = new MediaClock({ time });
    let n = 0;
    clock.add(() => { throw new Error('boom'); });
    const off = clock.add(() => { n++; });
    clock.start();
    time.advance(40);
    assert.equal(n, 3);
    off();
    time.advance(20);
    assert.equal(n, 3);
    assert.equal(clock.stats().listenerErrors, 4);
    clock.stop();
    const ticks = clock.stats().ticks;
    time.advance(200);
    assert.equal(clock.stats().ticks, ticks);
  });
});
