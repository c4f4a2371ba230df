/**
 * Calling windows (spec §8.4): a daily `start`–`end` in the campaign's IANA zone, on the ISO
 * weekdays of `schedule_days` (null = every day). Judged on the local wall clock, so daylight
 * saving needs no special case: on the spring-forward day a window whose start falls in the
 * skipped hour opens when the clock jumps; in the repeated autumn hour a window covering it is
 * open both times. An end earlier than the start means the window spans midnight and belongs to
 * the day it starts on (Friday 22:00–02:00 with Fridays only is open Saturday 01:00, not Friday
 * 01:00). Start equal to end is an empty window
 * (never open), as the API states when it refuses such a campaign.
 */
import { DateTime, IANAZone } from 'luxon';

export interface CallingWindow {
  readonly schedule_start_time: string;
  readonly schedule_end_time: string;
  readonly timezone: string;
  readonly schedule_days: readonly number[] | null;
}

export class WindowError extends Error {
  readonly code = 'CAMPAIGN_WINDOW_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'WindowError';
  }
}

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/** `HH:MM[:SS]` -> seconds since local midnight. */
export function secondsOfDay(v: string): number {
  const m = TIME_RE.exec(v);
  if (!m) throw new WindowError(`not a time of day: ${JSON.stringify(v)}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

/** Whether a call may be started at `atMs` (epoch ms). Throws WindowError for a bad zone or time. */
export function isWindowOpen(w: CallingWindow, atMs: number): boolean {
  if (!IANAZone.isValidZone(w.timezone)) throw new WindowError(`unknown time zone ${JSON.stringify(w.timezone)}`);
  const local = DateTime.fromMillis(atMs, { zone: w.timezone });
  const t = local.hour * 3600 + local.minute * 60 + local.second;
  const start = secondsOfDay(w.schedule_start_time);
  const end = secondsOfDay(w.schedule_end_time);
  const today = local.weekday;
  const yesterday = today === 1 ? 7 : today - 1;
  const allowed = (d: number): boolean => w.schedule_days === null || w.schedule_days.length === 0 || w.schedule_days.includes(d);
  if (start === end) return false;
  if (start < end) return allowed(today) && t >= start && t < end;
  // Across midnight: the evening part belongs to today, the early-morning part to yesterday.
  return (t >= start && allowed(today)) || (t < end && allowed(yesterday));
}

