import type { AppContext } from '../src/context.ts';
import type { SyncReport } from '../src/sync/report.ts';
import { runRollups, type RollupReport } from '../src/rollups/run.ts';

/** After a sync: recomputes the buckets it touched (all of them when it does not say). */
export async function rollups(ctx: AppContext, after?: Pick<SyncReport, 'touched'>): Promise<RollupReport> {
  return runRollups(ctx, after ? { touched: after.touched } : {});
}
