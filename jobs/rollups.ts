import type { AppContext } from '../src/context.ts';
import { runRollups } from '../src/rollups/run.ts';

/** After each sync: recomputes the derived metrics (all runs; rollup docs have deterministic ids). */
export async function rollups(ctx: AppContext): Promise<unknown> {
  return runRollups(ctx, {});
}
