import type { AppContext } from '../src/context.ts';
import { ReconcileError } from '../src/errors.ts';
import { syncJob } from '../src/sync/job.ts';
import type { SyncOptions } from '../src/sync/run.ts';
import type { SyncReport } from '../src/sync/report.ts';

/** A scheduled sync: the same job as `lora-catalog sync`; a failed sync throws so the scheduler neither runs rollups nor records it as the last successful run. */
export async function scheduledSync(ctx: AppContext, opts: SyncOptions): Promise<SyncReport> {
  const report = await syncJob(ctx, opts);
  if (report.status !== 'ok') {
    throw new ReconcileError('reconcile-aborted', `[sync] ${opts.mode} sync ${report.status} (sync_id ${report.sync_id})`);
  }
  return report;
}
