import type { AppContext } from '../context.ts';
import { errorMessage } from '../errors.ts';
import { flushOutbox } from './hook/outbox.ts';
import type { SyncOptions } from './options.ts';
import type { SyncReport } from './report.ts';
import { runSync } from './run.ts';
import { withSyncLeases } from './sync-lease.ts';

/**
 * A sync as a job, the one the CLI `sync` and the scheduled syncs run: first index what the `report` hook
 * spooled while Elasticsearch was away (a flush problem never stops the sync: the files stay for the next
 * one), then sync under the per-source leases, so a CronJob and a scheduler never crawl one source at once.
 * A dry run writes nothing, so it neither flushes nor takes leases. Throws `LeaseHeldError` when a source is held.
 */
export async function syncJob(ctx: AppContext, opts: SyncOptions): Promise<SyncReport> {
  if (opts.dryRun) {
    return runSync(ctx, opts);
  }
  try {
    await flushOutbox(ctx);
  } catch (err) {
    ctx.log.warn({ err, message: errorMessage(err) }, 'Outbox flush failed; the spooled runs stay for the next sync');
  }
  return withSyncLeases(ctx, opts, async (signal) => runSync({ ...ctx, signal }, opts));
}
