import type { AppContext } from '../src/context.ts';
import type { SyncReport } from '../src/sync/report.ts';
import { scheduledSync } from './sync-job.ts';

/** Hourly: picks up new and changed runs; vanish marking is the full sync's. */
export async function incrementalSync(ctx: AppContext): Promise<SyncReport> {
  return scheduledSync(ctx, { mode: 'incremental' });
}
