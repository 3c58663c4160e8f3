/**
 * Cron fields as node-cron's `parse()` returns them (jobs/schedule.ts parses; this module stays free of
 * node-cron so it is pure and testable). Day fields may carry `L`, `L-n`, `nW`, `LW` (day of month)
 * and `n#k`, `nL` (day of week) tokens.
 */
export interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: (number | string)[];
  month: number[];
  dayOfWeek: (number | string)[];
}

/** How far back a search looks by default: a yearly schedule still finds its last slot. */
const DEFAULT_LOOKBACK_MS = 367 * 86_400_000;

/**
 * The latest time at or before `at` (second precision) that the schedule fires, in `timeZone`, or null
 * when there is none within `lookbackMs`. Day rules follow node-cron: month, day-of-month and
 * day-of-week must all match.
 */
export function previousFireTime(fields: CronFields, timeZone: string, at: Date, lookbackMs = DEFAULT_LOOKBACK_MS): Date | null {
  const limit = at.getTime() - lookbackMs;
  const minutes = [...fields.minute].sort((a, b) => b - a);
  const seconds = [...fields.second].sort((a, b) => b - a);
  let t = Math.floor(at.getTime() / 1000) * 1000;
  while (t >= limit) {
    const p = localParts(t, timeZone);
    const intoHour = p.minute * 60 + p.second;
    // Skipping a non-matching day hour by hour (not to local midnight) stays correct across DST shifts.
    if (!fields.hour.includes(p.hour) || !dayMatches(fields, p.year, p.month, p.day, p.weekday)) {
      t -= (intoHour + 1) * 1000;
      continue;
    }
    const minute = minutes.find((m) => m <= p.minute);
    if (minute === undefined) {
      t -= (intoHour + 1) * 1000;
      continue;
    }
    if (minute < p.minute) {
      t -= ((p.minute - minute) * 60 + p.second - 59) * 1000;
      continue;
    }
    const second = seconds.find((s) => s <= p.second);
    if (second === undefined) {
      t -= (p.second + 1) * 1000;
      continue;
    }
    return new Date(t - (p.second - second) * 1000);
  }
  return null;
}

/**
 * The slot a job missed: the latest scheduled time in (`lastRun`, `now`], or null when the last run
 * already covers it. With no record of a last run, the latest slot counts as missed; the scheduler
 * never passes null (a first start is not a missed run, see catchUpBaseline). However many slots were missed, the answer is one time: catch up once.
 */
export function missedSlot(fields: CronFields, timeZone: string, lastRun: Date | null, now: Date): Date | null {
  const lookback = lastRun === null ? DEFAULT_LOOKBACK_MS : Math.min(DEFAULT_LOOKBACK_MS, now.getTime() - lastRun.getTime());
  if (lookback <= 0) {
    return null;
  }
  const slot = previousFireTime(fields, timeZone, now, lookback);
  return slot !== null && (lastRun === null || slot.getTime() > lastRun.getTime()) ? slot : null;
}

// --- internal ---

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function localParts(ms: number, timeZone: string): LocalParts {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, fmt);
  }
  const out: Record<string, string> = {};
  for (const part of fmt.formatToParts(ms)) {
    out[part.type] = part.value;
  }
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour) % 24,
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAYS[out.weekday ?? ''] ?? -1,
  };
}

function dayMatches(fields: CronFields, year: number, month: number, day: number, weekday: number): boolean {
  return fields.month.includes(month) && domMatches(fields.dayOfMonth, year, month, day) && dowMatches(fields.dayOfWeek, year, month, day, weekday);
}

function lastDay(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function domMatches(field: (number | string)[], year: number, month: number, day: number): boolean {
  const last = lastDay(year, month);
  return field.some((value) => {
    if (typeof value === 'number') {
      return value === day;
    }
    if (value === 'L') {
      return day === last;
    }
    const offset = /^L-(\d{1,2})$/.exec(value);
    if (offset) {
      return day === last - Number(offset[1]);
    }
    const weekday = /^(\d{1,2}|L)W$/.exec(value);
    if (weekday) {
      return nearestWeekday(year, month, weekday[1] === 'L' ? last : Number(weekday[1])) === day;
    }
    return false;
  });
}

function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDay(year, month);
  const dow = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
  if (dow === 6) {
    return target === 1 ? 3 : target - 1;
  }
  if (dow === 0) {
    return target === last ? target - 2 : target + 1;
  }
  return target;
}

function dowMatches(field: (number | string)[], year: number, month: number, day: number, weekday: number): boolean {
  return field.some((value) => {
    if (typeof value === 'number') {
      return value % 7 === weekday;
    }
    const nth = /^([0-7])#([1-5])$/.exec(value);
    if (nth) {
      return Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2]);
    }
    const lastOf = /^([0-7])L$/i.exec(value);
    if (lastOf) {
      return Number(lastOf[1]) % 7 === weekday && day + 7 > lastDay(year, month);
    }
    return false;
  });
}
