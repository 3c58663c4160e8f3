import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startScheduler, type SchedulerJobs } from '../../jobs/schedule.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { AppContext } from '../../src/context.ts';
import { readLastRun, writeLastRun } from '../../src/scheduler/last-run.ts';
import { silentLogger } from '../../src/log.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
const CHILD = new URL('../fixtures/jobs/scheduler-child.ts', import.meta.url).pathname;
/** Never fires during a test (1 January, midnight). */
const NEVER = '0 0 1 1 *';
let leases: string;

beforeEach(() => {
  leases = uniqueName('it-sched-leases');
});

afterEach(async () => {
  await deleteIndexQuietly(client, leases);
});

describe('jobs/schedule', () => {
  it('never overlaps a job between two schedulers side by side', async () => {
    const intervals: { start: number; end: number; by: string }[] = [];
    const make = (by: string): SchedulerJobs => ({
      full: async () => {
        const start = Date.now();
        await sleep(1300);
        intervals.push({ start, end: Date.now(), by });
      },
      incremental: async () => {},
      rollups: async () => {},
      retention: async () => {},
    });
    const expressions = { full: '* * * * * *', incremental: NEVER, retention: NEVER };
    const a = startScheduler(ctxFor(), make('a'), { expressions, catchUp: false });
    const b = startScheduler(ctxFor(), make('b'), { expressions, catchUp: false });

    await sleep(6000);
    await Promise.all([a.stop(), b.stop()]);

    const sorted = intervals.sort((x, y) => x.start - y.start);
    expect(sorted.length).toBeGreaterThanOrEqual(3);
    for (const [i, cur] of sorted.entries()) {
      const next = sorted[i + 1];
      if (next) {
        expect(next.start).toBeGreaterThanOrEqual(cur.end);
      }
    }
  });

  it('catches up a missed slot once after downtime, then not again after a restart', async () => {
    const calls: string[] = [];
    const rollupInputs: unknown[] = [];
    const jobs: SchedulerJobs = {
      full: async () => {
        calls.push('full');
        return { touched: ['rank:8'] };
      },
      incremental: async () => void calls.push('incremental'),
      rollups: async (_ctx, after) => {
        calls.push('rollups');
        rollupInputs.push(after);
      },
      retention: async () => void calls.push('retention'),
    };
    const now = new Date();
    const day = 86_400_000;
    // Down for three nights: the daily full sync missed three slots.
    await writeLastRun(client, leases, {
      job: 'full',
      owner: 'x',
      startedAt: new Date(now.getTime() - 3 * day),
      finishedAt: new Date(now.getTime() - 3 * day),
    });
    await writeLastRun(client, leases, { job: 'incremental', owner: 'x', startedAt: now, finishedAt: now });
    await writeLastRun(client, leases, { job: 'retention', owner: 'x', startedAt: now, finishedAt: now });
    const expressions = { full: '0 0 * * *', incremental: NEVER, retention: NEVER };

    const first = startScheduler(ctxFor(), jobs, { expressions });
    await first.caughtUp;
    await first.stop();
    const afterFirst = [...calls];
    const second = startScheduler(ctxFor(), jobs, { expressions });
    await second.caughtUp;
    await second.stop();
    const last = await readLastRun(client, leases, 'full');

    expect(afterFirst).toEqual(['full', 'rollups']);
    expect(calls).toEqual(['full', 'rollups']);
    expect(rollupInputs).toEqual([{ touched: ['rank:8'] }]);
    expect(last?.startedAt.getTime()).toBeGreaterThanOrEqual(now.getTime());
  });

  it('runs nothing as missed on a first start; later, catches up per job (retention only when configured)', async () => {
    const calls: string[] = [];
    const jobs: SchedulerJobs = {
      full: async () => void calls.push('full'),
      incremental: async () => void calls.push('incremental'),
      rollups: async () => {},
      retention: async () => void calls.push('retention'),
    };
    const daily = { full: '0 0 * * *', incremental: '0 * * * *', retention: '0 0 * * *' };
    const t0 = new Date();
    const later = new Date(t0.getTime() + 2 * 86_400_000);

    const first = startScheduler(
      ctxFor(() => t0),
      jobs,
      { expressions: daily },
    );
    await first.caughtUp;
    await first.stop();
    const afterFirst = [...calls];
    const second = startScheduler(
      ctxFor(() => later),
      jobs,
      { expressions: daily },
    );
    await second.caughtUp;
    await second.stop();
    const afterSecond = [...calls];
    const withRetention = ctxFor(() => later, { catch_up: { retention: true } });
    const third = startScheduler(withRetention, jobs, { expressions: daily });
    await third.caughtUp;
    await third.stop();

    expect(afterFirst).toEqual([]);
    expect(afterSecond).toEqual(['full', 'incremental']);
    expect(calls).toEqual(['full', 'incremental', 'retention']);
  });

  it('does not record a failed run, so the next start retries it', async () => {
    const jobs: SchedulerJobs = {
      full: async () => {
        throw new Error('boom');
      },
      incremental: async () => {},
      rollups: async () => {},
      retention: async () => {},
    };

    const scheduler = startScheduler(ctxFor(), jobs, { expressions: { full: NEVER, incremental: NEVER, retention: NEVER }, catchUp: false });
    const outcome = await scheduler.runNow('full');
    await scheduler.stop();

    expect(outcome).toBe('failed');
    expect(await readLastRun(client, leases, 'full')).toBeNull();
  });

  it('exits within 5 s of SIGTERM with the in-flight job aborted and its lease released', async () => {
    const child = spawn(process.execPath, [CHILD, inject('esUrl'), leases], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const started = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('started\n')) {
          resolve();
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await started;
    const held = await client.get({ index: leases, id: 'full' }, { ignore: [404] });

    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const elapsed = Date.now() - t0;
    const after = await client.get({ index: leases, id: 'full' }, { ignore: [404] });

    expect(held.found).toBe(true);
    expect(code).toBe(0);
    expect(out).toContain('stopped');
    expect(elapsed).toBeLessThan(5000);
    expect(after.found).toBe(false);
  });
});

// --- internal ---

function ctxFor(now: () => Date = () => new Date(), schedule: Record<string, unknown> = {}): AppContext {
  const config = parseConfig({ indices: { leases }, schedule });
  return { config, client, log: silentLogger, now, signal: new AbortController().signal };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
