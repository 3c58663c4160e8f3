import type { AppContext } from '../src/context.ts';
import { runRollups, type RollupReport } from '../src/rollups/run.ts';

/** After a sync: recomputes the buckets it touched (all of them when it does not say). */
export async function rollups(ctx: AppContext, after?: unknown): Promise<RollupReport> {
  const touched = (after as { touched?: unknown } | undefined)?.touched;
  return runRollups(ctx, Array.isArray(touched) && touched.every((t) => typeof t === 'string') ? { touched } : {});
}
