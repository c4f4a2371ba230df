import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isWindowOpen, secondsOfDay, WindowError, type CallingWindow } from '../../../engine/campaigns/index.js';

const AMS = 'Europe/Amsterdam';
const w = (start: string, end: string, days: number[] | null = null, timezone = AMS): CallingWindow =>
  ({ schedule_start_time: start, schedule_end_time: end, timezone, schedule_days: days });
const at = (isoUtc: string): number => Date.parse(isoUtc);

describe('calling windows (luxon, campaign time zone)', () => {
  test('a daytime window is judged on the local clock: start inclusive, end exclusive', () => {
    const win = w('09:00:00', '17:00:00');
    // 2025-01-15 is a Wednesday; Amsterdam is UTC+1 in winter.
    assert.equal(isWindowOpen(win, at('2025-01-15T07:59:59Z')), false);
    assert.equal(isWindowOpen(win, at('2025-01-15T08:00:00Z')), true);
    assert.equal(isWindowOpen(win, at('2025-01-15T15:59:59Z')), true);
    assert.equal(isWindowOpen(win, at('2025-01-15T16:00:00Z')), false);
    // The same instants in New York are outside 09-17 local.
    assert.equal(isWindowOpen(w('09:00:00', '17:00:00', null, 'America/New_York'), at('2025-01-15T08:00:00Z')), false);
    assert.equal(isWindowOpen(w('09:00:00', '17:00:00', null, 'America/New_York'), at('2025-01-15T14:00:00Z')), true);
  });

  test('a window across midnight belongs to the day it starts on', () => {
    const fridayNight = w('22:00:00', '02:00:00', [5]);
    assert.equal(isWindowOpen(fridayNight, at('2025-01-17T20:59:00Z')), false, 'Fri 21:59');
    assert.equal(isWindowOpen(fridayNight, at('2025-01-17T21:00:00Z')), true, 'Fri 22:00');
    assert.equal(isWindowOpen(fridayNight, at('2025-01-17T23:30:00Z')), true, 'Sat 00:30 (Friday window)');
    assert.equal(isWindowOpen(fridayNight, at('2025-01-18T00:59:59Z')), true, 'Sat 01:59:59');
    assert.equal(isWindowOpen(fridayNight, at('2025-01-18T01:00:00Z')), false, 'Sat 02:00');
    assert.equal(isWindowOpen(fridayNight, at('2025-01-17T00:30:00Z')), false, 'Fri 01:30 belongs to Thursday');
    assert.equal(isWindowOpen(fridayNight, at('2025-01-18T21:30:00Z')), false, 'Sat 22:30');
    const everyNight = w('22:00', '06:00');
    assert.equal(isWindowOpen(everyNight, at('2025-01-15T04:59:00Z')), true);
    assert.equal(isWindowOpen(everyNight, at('2025-01-15T05:00:00Z')), false);
    assert.equal(isWindowOpen(everyNight, at('2025-01-15T12:00:00Z')), false);
  });

  test('schedule_days are ISO weekdays in the campaign zone', () => {
    const weekdays = w('09:00', '17:00', [1, 2, 3, 4, 5]);
    assert.equal(isWindowOpen(weekdays, at('2025-01-17T10:00:00Z')), true, 'Friday');
    assert.equal(isWindowOpen(weekdays, at('2025-01-18T10:00:00Z')), false, 'Saturday');
    assert.equal(isWindowOpen(weekdays, at('2025-01-20T10:00:00Z')), true, 'Monday');
    // Sunday 23:30 UTC is already Monday 08:30 in Tokyo; Monday 09:30 there is open.
    const tokyo = w('09:00', '17:00', [1], 'Asia/Tokyo');
    assert.equal(isWindowOpen(tokyo, at('2025-01-19T23:30:00Z')), false);
    assert.equal(isWindowOpen(tokyo, at('2025-01-20T00:30:00Z')), true);
  });

  test('start equal to end is an empty window (the API refuses it); an empty day list means every day', () => {
    assert.equal(isWindowOpen(w('00:00:00', '00:00:00'), at('2025-01-15T12:00:00Z')), false);
    assert.equal(isWindowOpen(w('00:00:00', '23:59:59'), at('2025-01-15T22:59:58Z')), true);
    assert.equal(isWindowOpen(w('09:00', '17:00', []), at('2025-01-18T10:00:00Z')), true);
  });

  test('DST spring forward in Europe/Amsterdam (2025-03-30, 02:00 -> 03:00)', () => {
    const day = w('09:00', '17:00');
    // 09:00 CEST is 07:00 UTC on the change day; the day before 09:00 CET was 08:00 UTC.
    assert.equal(isWindowOpen(day, at('2025-03-29T07:30:00Z')), false);
    assert.equal(isWindowOpen(day, at('2025-03-30T06:59:59Z')), false);
    assert.equal(isWindowOpen(day, at('2025-03-30T07:00:00Z')), true);
    assert.equal(isWindowOpen(day, at('2025-03-30T14:59:59Z')), true);
    assert.equal(isWindowOpen(day, at('2025-03-30T15:00:00Z')), false);
    // A start inside the skipped hour opens when the clock jumps to 03:00.
    const skipped = w('02:30', '04:00');
    assert.equal(isWindowOpen(skipped, at('2025-03-30T00:59:59Z')), false, '01:59:59 CET');
    assert.equal(isWindowOpen(skipped, at('2025-03-30T01:00:00Z')), true, '03:00 CEST');
    assert.equal(isWindowOpen(skipped, at('2025-03-30T02:00:00Z')), false, '04:00 CEST');
    // An end inside the skipped hour closes at the jump.
    const endsSkipped = w('01:00', '02:30');
    assert.equal(isWindowOpen(endsSkipped, at('2025-03-30T00:59:59Z')), true);
    assert.equal(isWindowOpen(endsSkipped, at('2025-03-30T01:00:00Z')), false);
    // A night window across the change: 22:00 CET Saturday to 06:00 CEST Sunday (7 real hours).
    const night = w('22:00', '06:00');
    assert.equal(isWindowOpen(night, at('2025-03-29T21:00:00Z')), true);
    assert.equal(isWindowOpen(night, at('2025-03-30T03:59:59Z')), true, '05:59:59 CEST');
    assert.equal(isWindowOpen(night, at('2025-03-30T04:00:00Z')), false, '06:00 CEST');
  });

  test('DST fall back in Europe/Amsterdam (2025-10-26, 03:00 -> 02:00): the repeated hour is open both times', () => {
    const day = w('09:00', '17:00');
    assert.equal(isWindowOpen(day, at('2025-10-26T07:59:59Z')), false);
    assert.equal(isWindowOpen(day, at('2025-10-26T08:00:00Z')), true, '09:00 CET');
    assert.equal(isWindowOpen(day, at('2025-10-26T16:00:00Z')), false, '17:00 CET');
    const repeated = w('02:15', '02:45');
    assert.equal(isWindowOpen(repeated, at('2025-10-26T00:10:00Z')), false, '02:10 CEST');
    assert.equal(isWindowOpen(repeated, at('2025-10-26T00:30:00Z')), true, '02:30 CEST');
    assert.equal(isWindowOpen(repeated, at('2025-10-26T00:50:00Z')), false, '02:50 CEST');
    assert.equal(isWindowOpen(repeated, at('2025-10-26T01:05:00Z')), false, '02:05 CET');
    assert.equal(isWindowOpen(repeated, at('2025-10-26T01:30:00Z')), true, '02:30 CET');
    assert.equal(isWindowOpen(repeated, at('2025-10-26T01:45:00Z')), false, '02:45 CET');
  });

  test('bad input is a WindowError with a code', () => {
    assert.equal(secondsOfDay('09:05'), 9 * 3600 + 5 * 60);
    assert.equal(secondsOfDay('23:59:59'), 86_399);
    assert.throws(() => isWindowOpen(w('09:00', '17:00', null, 'Mars/Olympus'), 0), (e: unknown) => e instanceof WindowError && e.code === 'CAMPAIGN_WINDOW_INVALID');
    assert.throws(() => secondsOfDay('24:00'), WindowError);
  });
});
