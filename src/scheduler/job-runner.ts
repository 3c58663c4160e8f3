import type { AppContext } from '../context.ts';
import { errorMessage, PipelineError } from '../errors.ts';
import { missedSlot, type CronFields } from './cron-time.ts';
import { catchUpBaseline, writeLastRun } from './last-run.ts';
import { leaseOwner, withLease } from '../lease/lease.ts';

export type ScheduledJobName = 'full' | 'incremental' | 'retention';

/** The job functions the scheduler runs; injected so the scheduler does not depend on their modules. */
export interface SchedulerJobs {
  full(ctx: AppContext): Promise<unknown>;
  incremental(ctx: AppContext): Promise<unknown>;
  /** Run after every successful sync, inside the same lease, with that sync's result (its report). */
  rollups(ctx: AppContext, after: unknown): Promise<unknown>;
  retention(ctx: AppContext): Promise<unknown>;
}

/** `held`: another scheduler runs it; `busy`: this process already runs it; `stopped`: shutting down. */
export type RunOutcome = 'ran' | 'held' | 'busy' | 'failed' | 'stopped';

export type RunReason = 'scheduled' | 'catch-up' | 'manual';

export interface JobRunnerOptions {
  /** Lease lifetime; default config.schedule.lease_ttl. */
  ttlMs?: number;
  /** After stop, how long an in-flight job may take before its lease is released anyway. Default 3000 ms. */
  abortGraceMs?: number;
}

export interface JobRunner {
  run(name: ScheduledJobName, reason: RunReason): Promise<RunOutcome>;
  /** Aborts in-flight jobs and waits until they settled and their leases are released. */
  stop(): Promise<void>;
}

export interface CatchUpSchedule {
  name: ScheduledJobName;
  fields: CronFields;
}

export const SYNC_JOBS: readonly ScheduledJobName[] = ['full', 'incremental'];

/** Runs jobs one at a time per name in this process, each under its ES lease across processes. */
export function createJobRunner(ctx: AppContext, jobs: SchedulerJobs, opts: JobRunnerOptions = {}): JobRunner {
  const controller = new AbortController();
  const signal = AbortSignal.any([ctx.signal, controller.signal]);
  const jobCtx: AppContext = { ...ctx, signal };
  const inFlight = new Map<ScheduledJobName, Promise<RunOutcome>>();

  async function execute(name: ScheduledJobName, reason: RunReason): Promise<RunOutcome> {
    const owner = leaseOwner();
    try {
      await withLease(
        jobCtx,
        name,
        async (leaseSignal) => {
          const runCtx: AppContext = { ...jobCtx, signal: leaseSignal };
          const startedAt = ctx.now();
          ctx.log.info({ job: name, reason, owner }, 'Job started');
          const result = await jobs[name](runCtx);
          if (SYNC_JOBS.includes(name) && !leaseSignal.aborted) {
            await jobs.rollups(runCtx, result);
          }
          if (leaseSignal.aborted) {
            throw new PipelineError('reconcile-aborted', `[scheduler] ${name} aborted`, { cause: leaseSignal.reason });
          }
          await writeLastRun(ctx.client, ctx.config.indices.leases, { job: name, owner, startedAt, finishedAt: ctx.now() });
          ctx.log.info({ job: name, reason, ms: ctx.now().getTime() - startedAt.getTime() }, 'Job finished');
        },
        { owner, ttlMs: opts.ttlMs, abortGraceMs: opts.abortGraceMs },
      );
      return 'ran';
    } catch (err) {
      if (err instanceof PipelineError && err.code === 'lease-held') {
        ctx.log.info({ job: name, reason, holder: err.message }, 'Job skipped: lease held elsewhere');
        return 'held';
      }
      if (signal.aborted) {
        ctx.log.warn({ job: name, reason, err }, 'Job stopped by shutdown');
        return 'stopped';
      }
      ctx.log.error({ job: name, reason, err, message: errorMessage(err) }, 'Job failed');
      return 'failed';
    }
  }

  return {
    async run(name, reason) {
      if (signal.aborted) {
        return 'stopped';
      }
      if (inFlight.has(name)) {
        ctx.log.info({ job: name, reason }, 'Job skipped: already running here');
        return 'busy';
      }
      const running = execute(name, reason).finally(() => inFlight.delete(name));
      inFlight.set(name, running);
      return running;
    },
    async stop() {
      controller.abort(new PipelineError('reconcile-aborted', 'scheduler stopping'));
      await Promise.allSettled(inFlight.values());
    },
  };
}

/**
 * Runs, once each, the jobs whose latest scheduled slot passed without a successful run (the process
 * was down at 02:00): one run however many slots were missed. Per job (`schedule.catch_up`); a job
 * that never ran and was never scheduled before is not missed (the first start only records itself).
 */
export async function catchUp(ctx: AppContext, runner: JobRunner, schedules: readonly CatchUpSchedule[], timeZone: string): Promise<void> {
  for (const { name, fields } of schedules) {
    if (ctx.signal.aborted) {
      return;
    }
    const baseline = await catchUpBaseline(ctx.client, ctx.config.indices.leases, name, ctx.now());
    if (baseline === null || !ctx.config.schedule.catch_up[name]) {
      ctx.log.debug({ job: name, firstStart: baseline === null }, 'No catch-up');
      continue;
    }
    const slot = missedSlot(fields, timeZone, baseline, ctx.now());
    if (slot === null) {
      continue;
    }
    ctx.log.info({ job: name, slot: slot.toISOString(), since: baseline.toISOString() }, 'Catching up a missed run');
    await runner.run(name, 'catch-up');
  }
}
