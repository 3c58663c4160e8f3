import fc from 'fast-check';
import cron from 'node-cron';
import { afterAll, describe, expect, it } from 'vitest';
import { missedSlot, previousFireTime } from '../../../src/scheduler/cron-time.ts';

const tasks: { destroy(): void | Promise<void> }[] = [];

afterAll(async () => {
  await Promise.all(tasks.map(async (t) => t.destroy()));
});

describe('src/scheduler/cron-time previousFireTime', () => {
  it.each([
    ['0 2 * * *', 'UTC', '2025-03-10T05:00:00Z', '2025-03-10T02:00:00.000Z'],
    ['0 2 * * *', 'UTC', '2025-03-10T01:59:59Z', '2025-03-09T02:00:00.000Z'],
    ['0 2 * * *', 'UTC', '2025-03-10T02:00:00Z', '2025-03-10T02:00:00.000Z'],
    ['15 * * * *', 'UTC', '2025-03-10T05:14:00Z', '2025-03-10T04:15:00.000Z'],
    ['*/5 * * * * *', 'UTC', '2025-03-10T05:14:03.900Z', '2025-03-10T05:14:00.000Z'],
    ['0 2 * * *', 'Europe/Berlin', '2025-03-10T05:00:00Z', '2025-03-10T01:00:00.000Z'],
    ['0 2 * * *', 'Europe/Berlin', '2025-07-10T05:00:00Z', '2025-07-10T00:00:00.000Z'],
    ['30 5 * * *', 'Asia/Kolkata', '2025-03-10T00:00:00Z', '2025-03-10T00:00:00.000Z'],
    ['0 0 L * *', 'UTC', '2025-03-10T00:00:00Z', '2025-02-28T00:00:00.000Z'],
    ['0 9 * * 1#2', 'UTC', '2025-03-31T00:00:00Z', '2025-03-10T09:00:00.000Z'],
    ['0 9 * * MON-FRI', 'UTC', '2025-03-09T12:00:00Z', '2025-03-07T09:00:00.000Z'],
    ['0 0 1 1 *', 'UTC', '2025-03-09T12:00:00Z', '2025-01-01T00:00:00.000Z'],
  ])('%s in %s at %s → %s', (expr, tz, at, expected) => {
    const fields = cron.parse(expr);

    const prev = previousFireTime(fields, tz, new Date(at));

    expect(prev?.toISOString()).toBe(expected);
  });

  it('skips the hour that does not exist on a spring-forward day', () => {
    const fields = cron.parse('30 2 * * *');

    const prev = previousFireTime(fields, 'Europe/Berlin', new Date('2025-03-30T12:00:00Z'));

    expect(prev?.toISOString()).toBe('2025-03-29T01:30:00.000Z');
  });

  it('returns null when nothing fires within the lookback', () => {
    const fields = cron.parse('0 0 1 1 *');

    const prev = previousFireTime(fields, 'UTC', new Date('2025-03-09T12:00:00Z'), 86_400_000);

    expect(prev).toBeNull();
  });

  it('agrees with node-cron matching: the result matches and nothing later does', () => {
    // Patterns with gaps of at most a few days keep the minute-by-minute brute force fast.
    const patterns = ['0 2 * * *', '15 * * * *', '*/7 3-5 * * 1-5', '0 */6 * * *', '30 1 * * 0,3'];
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu'];
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.constantFrom(...zones),
        fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }),
        (expr, tz, at) => {
          const task = cron.createTask(expr, () => {}, { timezone: tz });
          tasks.push(task);

          const prev = previousFireTime(cron.parse(expr), tz, at);

          expect(prev).not.toBeNull();
          expect(task.match(prev as Date)).toBe(true);
          for (let t = (prev as Date).getTime() + 60_000; t <= at.getTime(); t += 60_000) {
            expect(task.match(new Date(t))).toBe(false);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});

describe('src/scheduler/cron-time missedSlot', () => {
  const daily = cron.parse('0 2 * * *');

  it.each([
    ['down over one 02:00', '2025-03-09T03:00:00Z', '2025-03-10T05:00:00Z', '2025-03-10T02:00:00.000Z'],
    ['down over five 02:00s: still one slot', '2025-03-05T03:00:00Z', '2025-03-10T05:00:00Z', '2025-03-10T02:00:00.000Z'],
    ['ran at 02:00 today', '2025-03-10T02:00:00.500Z', '2025-03-10T05:00:00Z', null],
    ['never ran', null, '2025-03-10T05:00:00Z', '2025-03-10T02:00:00.000Z'],
  ])('%s', (_name, last, now, expected) => {
    const slot = missedSlot(daily, 'UTC', last === null ? null : new Date(last), new Date(now));

    expect(slot?.toISOString() ?? null).toBe(expected);
  });
});
