import cron, { type ScheduledTask } from 'node-cron';
import type { AppContext } from '../src/context.ts';
import { catchUp, createJobRunner, type RunOutcome, type ScheduledJobName, type SchedulerJobs } from '../src/scheduler/job-runner.ts';

export type { SchedulerJobs } from '../src/scheduler/job-runner.ts';

export interface SchedulerOptions {
  /** Cron expressions per job (5 or 6 fields, node-cron syntax); default config.schedule. Tests use every-second ones. */
  expressions?: Partial<Record<ScheduledJobName, string>>;
  /** Run each job that missed its latest slot once at start. Default true. */
  catchUp?: boolean;
  /** Stop on SIGTERM/SIGINT (the `schedule` command sets it). Default false. */
  handleSignals?: boolean;
  /** Lease lifetime in ms; default config.schedule.lease_ttl. */
  ttlMs?: number;
  /** After stop, how long an in-flight job may run before its lease is released anyway. Default 3000 ms. */
  abortGraceMs?: number;
}

export interface Scheduler {
  /** Settles when the start-up catch-up runs are done. */
  readonly caughtUp: Promise<void>;
  /** Settles after stop(): cron tasks gone, jobs aborted, leases released. */
  readonly stopped: Promise<void>;
  /** Runs a job now (under its lease), as a tick would. */
  runNow(name: ScheduledJobName): Promise<RunOutcome>;
  stop(): Promise<void>;
}

/** Job order matters for catch-up: a full sync before the incremental one it makes redundant. */
const JOB_NAMES: readonly ScheduledJobName[] = ['full', 'incremental', 'retention'];

/**
 * Wires node-cron (only here) to the jobs: nightly full sync, hourly incremental sync (rollups after
 * each sync) and retention, each run under its ES lease so schedulers side by side never double-run.
 */
export function startScheduler(ctx: AppContext, jobs: SchedulerJobs, opts: SchedulerOptions = {}): Scheduler {
  const timezone = ctx.config.schedule.timezone;
  const runner = createJobRunner(ctx, jobs, { ttlMs: opts.ttlMs, abortGraceMs: opts.abortGraceMs });
  const schedules = JOB_NAMES.map((name) => {
    const expression = opts.expressions?.[name] ?? ctx.config.schedule[name];
    return { name, expression, fields: cron.parse(expression) };
  });
  // node-cron's own lines (e.g. a tick skipped by noOverlap while a long sync runs) are expected: debug.
  const logger = {
    info: (message: string) => ctx.log.debug({ source: 'node-cron' }, message),
    warn: (message: string) => ctx.log.debug({ source: 'node-cron' }, message),
    error: (message: string | Error) => ctx.log.error({ source: 'node-cron', err: message }, 'Cron task error'),
    debug: (message: string | Error) => ctx.log.debug({ source: 'node-cron', err: message }, 'Cron debug'),
  };
  const tasks: ScheduledTask[] = schedules.map(({ name, expression }) =>
    cron.schedule(expression, async () => runner.run(name, 'scheduled'), { timezone, name: `lora-catalog-${name}`, noOverlap: true, logger }),
  );
  ctx.log.info({ timezone, schedules: schedules.map(({ name, expression }) => `${name}=${expression}`) }, 'Scheduler started');

  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    ctx.log.info({ signal: sig }, 'Scheduler stopping');
    void stop();
  };
  // A caller aborting ctx.signal (main.ts does on SIGTERM) stops the scheduler as well.
  ctx.signal.addEventListener('abort', () => void stop(), { once: true });
  if (opts.handleSignals === true) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  const caughtUp =
    opts.catchUp === false
      ? Promise.resolve()
      : catchUp(ctx, runner, schedules, timezone).catch((err: unknown) => {
          ctx.log.error({ err }, 'Catch-up failed');
        });

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await Promise.all(tasks.map(async (task) => task.destroy()));
      await runner.stop();
      await caughtUp;
      ctx.log.info({}, 'Scheduler stopped');
      resolveStopped();
    })();
    return stopping;
  }

  return { caughtUp, stopped, runNow: async (name) => runner.run(name, 'manual'), stop };
}

/** The production jobs, imported on demand so tests and `report` never load the sync pipeline. */
export async function loadScheduledJobs(): Promise<SchedulerJobs> {
  const [{ fullSync }, { incrementalSync }, { rollups }, { retention }] = await Promise.all([
    import('./full-sync.ts'),
    import('./incremental-sync.ts'),
    import('./rollups.ts'),
    import('./retention.ts'),
  ]);
  return { full: fullSync, incremental: incrementalSync, rollups, retention };
}
