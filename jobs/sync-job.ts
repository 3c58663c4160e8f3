import type { AppContext } from '../src/context.ts';
import { errorMessage, ReconcileError } from '../src/errors.ts';
import { flushOutbox } from '../src/sync/hook/outbox.ts';
import { runSync, type SyncOptions } from '../src/sync/run.ts';
import type { SyncReport } from '../src/sync/report.ts';
import { withSyncLeases } from '../src/sync/sync-lease.ts';

/**
 * A scheduled sync: first index what `report` spooled while Elasticsearch was away (a flush problem
 * never stops the sync: the files stay for the next one), then sync; a failed sync throws so the
 * scheduler neither runs rollups nor records it as the last successful run.
 */
export async function scheduledSync(ctx: AppContext, opts: SyncOptions): Promise<SyncReport> {
  try {
    await flushOutbox(ctx);
  } catch (err) {
    ctx.log.warn({ err, message: errorMessage(err) }, 'Outbox flush failed');
  }
  // The same per-source leases as `lora-catalog sync`: a CronJob and a scheduler never crawl one source at once.
  const report = await withSyncLeases(ctx, opts, async (signal) => runSync({ ...ctx, signal }, opts));
  if (report.status !== 'ok') {
    throw new ReconcileError('reconcile-aborted', `[sync] ${opts.mode} sync ${report.status} (sync_id ${report.sync_id})`);
  }
  return report;
}
