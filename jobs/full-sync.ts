import type { AppContext } from '../src/context.ts';
import type { SyncReport } from '../src/sync/report.ts';
import { scheduledSync } from './sync-job.ts';

/** Nightly: a complete crawl of every source; runs that vanished are marked. */
export async function fullSync(ctx: AppContext): Promise<SyncReport> {
  return scheduledSync(ctx, { mode: 'full' });
}
