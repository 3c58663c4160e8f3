import type { AppContext } from '../src/context.ts';
import { runRollups, type RollupReport } from '../src/rollups/run.ts';

/** After a sync (failed or not): recomputes what was written since the last completed rollup. Throws when a document could not be written. */
export async function rollups(ctx: AppContext): Promise<RollupReport> {
  return runRollups(ctx);
}
